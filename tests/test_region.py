"""Tests of the region: graph building from the scenario section, and the travel-time oracle.

Hand-computed travel times use round figures (0.5 km at 30 km/h is exactly 1 minute) so that
they can be compared with ``==``; graphs with arbitrary floats are compared bit for bit with
networkx's Dijkstra, which is the reference.
"""

from __future__ import annotations

import itertools
import math

import networkx as nx
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

import mcsim.region as region_module
from mcsim.enums import NodeKind
from mcsim.errors import InputError
from mcsim.region import (
    EARTH_RADIUS_KM,
    Region,
    RegionSpec,
    build_region,
    great_circle_km,
    minutes_for,
    region_problems,
)
from mcsim.schema_base import error_lines


def grid(rows: int = 3, cols: int = 3, **extra) -> Region:
    """A grid city of 0.5 km blocks at 30 km/h: 1 minute per block."""
    generator = {"kind": "grid_city", "rows": rows, "cols": cols, "block_km": 0.5}
    generator |= {"speed_kmh": 30, **extra}
    return build_region(RegionSpec.model_validate({"generator": generator}))


def inline(nodes: dict[str, tuple[float, float]], roads: list[dict]) -> Region:
    """A region from inline nodes (id -> x, y) and roads written as in YAML."""
    spec = {
        "nodes": [{"id": name, "x": x, "y": y} for name, (x, y) in nodes.items()],
        "roads": roads,
    }
    return build_region(RegionSpec.model_validate(spec))


def validation_errors(data: dict) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        RegionSpec.model_validate(data)
    return error_lines(info.value)


def nx_from(region: Region, source: int, *, reverse: bool = False) -> np.ndarray:
    """networkx's single-source Dijkstra as an array: the reference for exact comparisons."""
    graph = nx.DiGraph(region.graph)
    if reverse:
        graph = graph.reverse(copy=True)
    found = nx.single_source_dijkstra_path_length(graph, source, weight="travel_min")
    out = np.full(region.n_nodes, math.inf)
    for node, minutes in found.items():
        out[node] = minutes
    return out


# --- building --------------------------------------------------------------------------------


def test_grid_numbers_junctions_row_major_at_block_coordinates():
    region = grid(rows=2, cols=3)
    assert [region.name(i) for i in range(6)] == ["r0c0", "r0c1", "r0c2", "r1c0", "r1c1", "r1c2"]
    assert region.xy(region.index("r1c2")) == (1.0, 0.5)  # x = col * block, y = row * block
    assert region.positions.tolist() == [[0, 0], [0.5, 0], [1, 0], [0, 0.5], [0.5, 0.5], [1, 0.5]]
    # 7 two-way streets between 4-neighbours, no diagonals
    assert region.graph.number_of_edges() == 14
    assert not region.graph.has_edge(0, 4)
    assert region.graph.edges[0, 1] == {"travel_min": 1.0, "length_km": 0.5}
    assert all(region.kind(i) is NodeKind.JUNCTION for i in range(6))


def test_grid_corner_to_corner_is_four_blocks():
    region = grid()
    assert region.travel_min(region.index("r0c0"), region.index("r2c2")) == 4.0
    assert region.travel_min(region.index("r2c2"), region.index("r0c0")) == 4.0


def test_arterials_are_faster_and_attract_the_route():
    # every 2nd row and column (0 and 2: the perimeter) is an arterial at 120 km/h: 0.25 min
    region = grid(arterial_every=2, arterial_speed_kmh=120)
    r0c0, r1c0, r1c1, r1c2, r2c2 = map(region.index, ["r0c0", "r1c0", "r1c1", "r1c2", "r2c2"])
    assert region.travel_min(r0c0, r2c2) == 1.0  # four arterial blocks
    # across the middle: the slow street straight over (2 min) loses to the detour over
    # row 0 (0.25 down column 0, 0.5 along row 0, 0.25 up column 2)
    assert region.travel_min(r1c0, r1c2) == 1.0
    assert region.path(r1c0, r1c2) == [r1c0, r0c0, 1, 2, r1c2]
    # the centre has only slow streets: one slow block to r0c1, then an arterial block
    assert region.travel_min(r1c1, r0c0) == 1.25


def test_arterial_speed_defaults_to_street_speed():
    assert grid(arterial_every=2).travel_min(0, 8) == 4.0


def test_explicit_nodes_follow_generated_ones_and_join_the_grid():
    spec = RegionSpec.model_validate(
        {
            "generator": {
                "kind": "grid_city",
                "rows": 2,
                "cols": 2,
                "block_km": 0.5,
                "speed_kmh": 30,
            },
            "nodes": [{"id": "stadium", "kind": "incident_site", "x": 2.0, "y": 2.0}],
            "roads": [{"from": "stadium", "to": "r1c1", "travel_min": 3}],
        }
    )
    region = build_region(spec)
    stadium = region.index("stadium")
    assert stadium == 4
    assert region.kind(stadium) is NodeKind.INCIDENT_SITE
    assert region.nodes_of_kind(NodeKind.INCIDENT_SITE) == [4]
    assert region.travel_min(stadium, 0) == 5.0


def test_length_and_speed_convert_to_minutes():
    region = inline(
        {"a": (0, 0), "b": (3, 0), "c": (3, 1)},
        [
            {"from": "a", "to": "b", "length_km": 3, "speed_kmh": 45},
            {"from": "b", "to": "c", "travel_min": 2.5},
        ],
    )
    assert region.graph.edges[0, 1] == {"travel_min": 4.0, "length_km": 3.0}
    assert region.graph.edges[1, 2] == {"travel_min": 2.5}  # length unknown: no attribute
    assert minutes_for(0.5, 30) == 1.0
    assert minutes_for(10, 40) == 15.0


def test_oneway_road_is_driven_one_way_only():
    square = {"a": (0, 0), "b": (1, 0), "c": (1, 1), "d": (0, 1)}
    oneway = {"from": "a", "to": "b", "travel_min": 1, "oneway": True}
    region = inline(square, [oneway])
    a, b = region.index("a"), region.index("b")
    assert region.travel_min(a, b) == 1.0
    assert region.travel_min(b, a) == math.inf
    with pytest.raises(ValueError, match="no route"):
        region.path(b, a)

    around = [{"from": x, "to": y, "travel_min": 1} for x, y in ["bc", "cd", "da"]]
    region = inline(square, [oneway, *around])
    assert region.travel_min(a, b) == 1.0
    assert region.travel_min(b, a) == 3.0  # round the block
    assert [region.name(i) for i in region.path(b, a)] == ["b", "c", "d", "a"]


def test_long_fast_road_beats_short_slow_road():
    region = inline(
        {"a": (0, 0), "b": (1, 0), "c": (0.5, 2)},
        [
            {"from": "a", "to": "b", "length_km": 1, "speed_kmh": 6, "name": "lane"},  # 10 min
            {"from": "a", "to": "c", "length_km": 2, "speed_kmh": 60},  # 2 min
            {"from": "c", "to": "b", "length_km": 2, "speed_kmh": 60},  # 2 min
        ],
    )
    a, b, c = map(region.index, "abc")
    assert region.travel_min(a, b) == 4.0
    assert region.path(a, b) == [a, c, b]
    assert region.path(b, a) == [b, c, a]


def test_parallel_roads_keep_the_faster_with_its_length():
    region = inline(
        {"a": (0, 0), "b": (1, 0)},
        [
            {"from": "a", "to": "b", "length_km": 1, "speed_kmh": 6, "name": "lane"},  # 10 min
            {"from": "a", "to": "b", "length_km": 5, "speed_kmh": 100, "name": "ring"},  # 3
            {"from": "b", "to": "a", "travel_min": 3, "oneway": True, "name": "tie"},
        ],
    )
    assert region.graph.edges[0, 1] == {"travel_min": 3.0, "length_km": 5.0, "name": "ring"}
    # b->a: the ring (3 min) was declared before the one-way road of equal time: it stays
    assert region.graph.edges[1, 0]["name"] == "ring"
    assert region.travel_min(0, 1) == region.travel_min(1, 0) == 3.0


# --- travel times against networkx -----------------------------------------------------------


def random_region(seed: int, n: int = 30, arcs: int = 90) -> Region:
    """A random directed graph with arbitrary (non-round) travel times, some nodes unreachable."""
    rng = np.random.default_rng(seed)
    graph = nx.DiGraph()
    for i in range(n):
        graph.add_node(f"n{i}", x=float(rng.uniform(0, 10)), y=float(rng.uniform(0, 10)))
    for _ in range(arcs):
        u, v = rng.choice(n, 2, replace=False)
        graph.add_edge(f"n{u}", f"n{v}", travel_min=float(rng.uniform(0.1, 9.9)))
    return Region.from_graph(graph)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_travel_from_equals_networkx_bit_for_bit(seed):
    region = random_region(seed)
    for a in range(region.n_nodes):
        expected = nx_from(region, a)
        assert np.array_equal(region.travel_from(a), expected)
        assert [region.travel_min(a, b) for b in range(region.n_nodes)] == expected.tolist()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_travel_to_answers_the_transposed_question(seed):
    region = random_region(seed)
    n = region.n_nodes
    forward = np.array([region.travel_from(a) for a in range(n)])
    assert np.isinf(forward).any()  # the test graphs do have unreachable pairs
    for b in range(n):
        to_b = region.travel_to(b)
        # exactly networkx on the reversed graph ...
        assert np.array_equal(to_b, nx_from(region, b, reverse=True))
        # ... and the same times as the forward searches, up to float summation order
        assert np.array_equal(np.isinf(to_b), np.isinf(forward[:, b]))
        finite = np.isfinite(to_b)
        assert to_b[finite] == pytest.approx(forward[finite, b], rel=1e-12, abs=0)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(2, 9).flatmap(
        lambda n: st.tuples(
            st.just(n),
            st.lists(
                st.tuples(
                    st.integers(0, n - 1),
                    st.integers(0, n - 1),
                    st.sampled_from([0.5, 1.0, 1.5, 0.1, 0.2, 0.3, 2.7, 1e-3]),
                ),
                max_size=25,
            ),
        )
    )
)
def test_paths_are_shortest_and_their_times_add_up_exactly(case):
    n, edges = case
    graph = nx.DiGraph()
    graph.add_nodes_from(range(n), x=0.0, y=0.0)
    for u, v, minutes in edges:
        if u != v:
            graph.add_edge(u, v, travel_min=minutes)
    region = Region.from_graph(graph)
    for a, b in itertools.product(range(n), repeat=2):
        assert region.travel_min(a, b) == nx_from(region, a)[b]
        if region.travel_min(a, b) == math.inf:
            continue
        path = region.path(a, b)
        assert path[0] == a and path[-1] == b
        total = 0.0
        for u, v in itertools.pairwise(path):
            total += region.graph.edges[u, v]["travel_min"]
        assert total == region.travel_min(a, b)
        assert path == region.path(a, b)


# --- deterministic paths ---------------------------------------------------------------------


def test_tied_paths_prefer_lower_node_numbers_walking_back_from_the_destination():
    region = grid()  # uniform 1-minute blocks: 6 shortest paths from corner to corner
    # from r2c2 (8) the predecessors r1c2 (5) and r2c1 (7) tie: 5 wins; then r0c2 (2) over 4
    assert region.path(0, 8) == [0, 1, 2, 5, 8]
    assert region.path(8, 0) == [8, 5, 2, 1, 0]  # back from 0: 1 over 3, then 2 over 4
    assert region.path(0, 5) == [0, 1, 2, 5]  # prefixes of returned paths are returned paths


def test_tie_rule_is_the_lexicographically_smallest_reversed_shortest_path():
    region = grid(4, 4)
    graph = nx.DiGraph(region.graph)
    for a, b in itertools.product(range(16), repeat=2):
        every = nx.all_shortest_paths(graph, a, b, weight="travel_min")
        assert region.path(a, b) == min(every, key=lambda p: p[::-1])


def test_paths_do_not_depend_on_the_order_roads_were_declared():
    reference = grid(4, 4)
    nodes = {reference.name(i): reference.xy(i) for i in range(16)}
    roads = [
        {"from": reference.name(u), "to": reference.name(v), "travel_min": 1}
        for u, v in reference.graph.edges
        if u < v
    ]
    shuffled = np.random.default_rng(7).permutation(len(roads))
    for order in (roads[::-1], [roads[i] for i in shuffled]):
        region = inline(nodes, order)
        for a, b in itertools.product(range(16), repeat=2):
            assert region.path(a, b) == reference.path(a, b)


def test_arc_below_float_resolution_still_gives_a_path():
    graph = nx.DiGraph()
    graph.add_nodes_from("abc", x=0.0, y=0.0)
    graph.add_edge("a", "b", travel_min=1.0)
    graph.add_edge("b", "c", travel_min=1e-300)  # 1.0 + 1e-300 == 1.0
    region = Region.from_graph(graph)
    assert region.travel_min(0, 2) == 1.0
    assert region.path(0, 2) == [0, 1, 2]


# --- caches ----------------------------------------------------------------------------------


@pytest.fixture
def dijkstra_calls(monkeypatch):
    """Counts the calls to the Dijkstra backend."""
    calls = []
    real = region_module.dijkstra

    def counting(*args, **kwargs):
        calls.append(kwargs.get("indices"))
        return real(*args, **kwargs)

    monkeypatch.setattr(region_module, "dijkstra", counting)
    return calls


def test_a_cached_search_is_not_run_again(dijkstra_calls):
    region = grid()
    first = region.travel_from(0)
    assert len(dijkstra_calls) == 1
    assert region.travel_from(0) is first
    assert region.travel_min(0, 8) == 4.0
    assert region.path(0, 8) == [0, 1, 2, 5, 8]
    assert region.nearest(0, [4, 8]) == 4
    assert len(dijkstra_calls) == 1

    region.travel_to(8)
    region.travel_to(8)
    region.nearest_to(8, [0, 4])
    assert len(dijkstra_calls) == 2
    # travel_min(a, b) reads the search from a, never a cached search into b
    region.travel_min(3, 8)
    assert len(dijkstra_calls) == 3


def test_cached_arrays_are_read_only():
    region = grid()
    with pytest.raises(ValueError):
        region.travel_from(0)[3] = 0.0
    with pytest.raises(ValueError):
        region.travel_to(0)[3] = 0.0
    with pytest.raises(ValueError):
        region.positions[0, 0] = 9.0


def test_warm_from_runs_one_batched_search(dijkstra_calls):
    region = grid(4, 4)
    region.warm_from([3, 0, 5, 0])
    assert dijkstra_calls == [[0, 3, 5]]
    for a in (0, 3, 5):
        assert np.array_equal(region.travel_from(a), nx_from(region, a))
    region.warm_from([0, 5])  # all cached: no call
    assert len(dijkstra_calls) == 1


# --- closures --------------------------------------------------------------------------------


def test_closing_a_road_changes_times_and_reopening_restores_them(dijkstra_calls):
    region = grid()
    assert region.travel_min(0, 1) == 1.0
    region.close_road(0, 1)
    assert region.closed_roads == [(0, 1), (1, 0)]
    assert not region.graph.has_edge(0, 1)
    assert region.travel_min(0, 1) == 3.0  # 0 -> 3 -> 4 -> 1
    assert region.travel_min(1, 0) == 3.0
    assert region.path(0, 1) == [0, 3, 4, 1]
    region.reopen_road(1, 0)
    assert region.closed_roads == []
    assert region.travel_min(0, 1) == region.travel_min(1, 0) == 1.0
    assert region.graph.edges[0, 1] == {"travel_min": 1.0, "length_km": 0.5}
    assert dijkstra_calls == [[0], [0], [1], [0], [1]]  # each change forced new searches


def test_closing_one_direction_only():
    region = grid()
    region.close_road(0, 1, directed=True)
    assert region.closed_roads == [(0, 1)]
    assert region.travel_min(0, 1) == 3.0
    assert region.travel_min(1, 0) == 1.0
    with pytest.raises(InputError, match="no closed road"):
        region.reopen_road(1, 0, directed=True)
    region.reopen_road(0, 1)  # reopens what is closed between them
    assert region.travel_min(0, 1) == 1.0


def test_closing_what_is_not_open_is_refused():
    region = grid()
    with pytest.raises(InputError, match="no open road from 'r0c0' to 'r1c1'"):
        region.close_road(0, 4)
    region.close_road(0, 1)
    with pytest.raises(InputError, match="no open road"):
        region.close_road(1, 0)
    with pytest.raises(InputError, match="no closed road"):
        region.reopen_road(0, 3)


def test_closures_cutting_a_node_off_make_it_unreachable():
    region = grid()
    region.close_road(0, 1)
    region.close_road(0, 3)
    assert region.travel_min(8, 0) == math.inf
    assert region.nearest(8, [0]) is None


# --- nearest ---------------------------------------------------------------------------------


def test_nearest_breaks_ties_by_lowest_node_and_skips_unreachable():
    region = grid()
    region.close_road(2, 5)
    region.close_road(2, 1)  # r0c2 (2) is cut off
    centre = 4
    # 1, 3, 5, 7 are all one block from the centre, whatever order they are offered in
    assert region.nearest(centre, [7, 5, 3, 1]) == 1
    assert region.nearest(centre, [7, 5]) == 5
    assert region.nearest(centre, [2, 8, 6]) == 6  # 2 unreachable, 6 and 8 tie
    assert region.nearest(centre, [2]) is None
    assert region.nearest(centre, []) is None
    assert region.nearest(centre, [centre, 1]) == centre


def test_nearest_to_uses_the_direction_of_travel():
    region = inline(
        {"station_a": (0, 0), "station_b": (5, 0), "scene": (1, 0)},
        [
            {"from": "station_a", "to": "scene", "travel_min": 9, "oneway": True},
            {"from": "scene", "to": "station_a", "travel_min": 1, "oneway": True},
            {"from": "station_b", "to": "scene", "travel_min": 4},
        ],
    )
    a, b, scene = map(region.index, ["station_a", "station_b", "scene"])
    assert region.nearest(scene, [a, b]) == a  # leaving the scene, a is 1 min away
    assert region.nearest_to(scene, [a, b]) == b  # reaching the scene, b is faster


# --- nodes -----------------------------------------------------------------------------------


def test_node_accessors_and_kinds():
    region = grid()
    assert region.index("r1c1") == 4
    assert region.name(4) == "r1c1"
    region.set_kind(4, NodeKind.HOSPITAL)
    region.set_kind(6, "hospital")  # stored as the enum member
    region.set_kind(2, NodeKind.AMBULANCE_STATION)
    assert region.kind(6) is NodeKind.HOSPITAL
    assert region.nodes_of_kind(NodeKind.HOSPITAL) == [4, 6]
    assert region.nodes_of_kind(NodeKind.AMBULANCE_STATION) == [2]
    assert region.nodes_of_kind(NodeKind.INCIDENT_SITE) == []


def test_unknown_name_and_node_number_are_refused():
    region = grid()
    with pytest.raises(InputError, match="unknown node 'r1c9'; did you mean"):
        region.index("r1c9")
    with pytest.raises(IndexError):
        region.travel_min(0, 9)
    with pytest.raises(IndexError):
        region.travel_from(-1)  # would silently be the last node with numpy indexing


def test_from_graph_numbers_nodes_in_order_and_doubles_undirected_edges():
    graph = nx.MultiGraph()
    graph.add_node("h", x=0.0, y=0.0, kind=NodeKind.HOSPITAL)
    graph.add_node("j", x=1.0, y=0.0)
    graph.add_edge("h", "j", travel_min=5.0)
    graph.add_edge("h", "j", travel_min=2.0, length_km=1.0)
    region = Region.from_graph(graph)
    assert region.index("h") == 0 and region.kind(0) is NodeKind.HOSPITAL
    assert (
        region.graph.edges[0, 1]
        == region.graph.edges[1, 0]
        == {
            "travel_min": 2.0,
            "length_km": 1.0,
        }
    )


@pytest.mark.parametrize(
    ("node_attrs", "edge_attrs", "message"),
    [
        ({"x": 0.0}, {"travel_min": 1.0}, "needs numeric x and y"),
        ({"x": 0.0, "y": 0.0}, {}, "travel_min must be a positive finite number, got None"),
        ({"x": 0.0, "y": 0.0}, {"travel_min": 0.0}, "travel_min must be a positive"),
        ({"x": 0.0, "y": 0.0}, {"travel_min": math.inf}, "travel_min must be a positive"),
        ({"x": 0.0, "y": 0.0}, {"travel_min": 1.0, "length_km": -1}, "length_km must be"),
    ],
)
def test_from_graph_refuses_bad_attributes(node_attrs, edge_attrs, message):
    graph = nx.DiGraph()
    graph.add_nodes_from(["a", "b"], **node_attrs)
    graph.add_edge("a", "b", **edge_attrs)
    with pytest.raises(InputError, match=message):
        Region.from_graph(graph)


# --- scenario validation ---------------------------------------------------------------------

NODES = [{"id": "a", "x": 0, "y": 0}, {"id": "b", "x": 1, "y": 0}]


def test_road_to_an_unknown_node_names_the_field():
    spec = RegionSpec.model_validate(
        {
            "nodes": NODES,
            "roads": [
                {"from": "a", "to": "b", "travel_min": 1},
                {"from": "a", "to": "x", "travel_min": 1},
            ],
        }
    )
    with pytest.raises(InputError) as info:
        build_region(spec)
    assert info.value.path == "roads[1].to"
    assert info.value.message == "unknown node 'x'"
    assert str(info.value) == "roads[1].to: unknown node 'x'"


def test_every_cross_reference_problem_is_counted_and_the_first_raised():
    spec = RegionSpec.model_validate(
        {
            "nodes": [*NODES, {"id": "a", "x": 5, "y": 5}],
            "roads": [
                {"from": "q", "to": "bb", "travel_min": 1},
                {"from": "b", "to": "b", "travel_min": 1},
            ],
        }
    )
    with pytest.raises(InputError) as info:
        build_region(spec)
    assert (info.value.path, info.value.message) == (
        "nodes[2].id",
        "duplicate node id 'a' (also nodes[0])",
    )
    assert info.value.more == 3
    assert region_problems(spec) == [
        ("nodes[2].id", "duplicate node id 'a' (also nodes[0])"),
        ("roads[0].from", "unknown node 'q'"),
        ("roads[0].to", "unknown node 'bb'; did you mean 'b'?"),
        ("roads[1].to", "road from 'b' to itself"),
    ]


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        (
            {
                "generator": {
                    "kind": "grid_city",
                    "rows": 2,
                    "cols": 2,
                    "block_km": 1,
                    "speed_kmh": 30,
                },
                "nodes": [{"id": "r1c0", "x": 9, "y": 9}],
            },
            "nodes[0].id",
            "duplicate node id 'r1c0' (also a junction made by the generator)",
        ),
        (
            {"nodes": NODES, "roads": [{"from": "b", "to": "b", "travel_min": 1}]},
            "roads[0].to",
            "road from 'b' to itself",
        ),
        (
            {"nodes": NODES, "roads": [{"from": "y", "to": "b", "travel_min": 1}]},
            "roads[0].from",
            "unknown node 'y'",
        ),
        (
            {
                "crs": "lonlat",
                "generator": {
                    "kind": "grid_city",
                    "rows": 2,
                    "cols": 2,
                    "block_km": 1,
                    "speed_kmh": 30,
                },
            },
            "generator",
            "the grid_city generator lays junctions out in km; use crs: km",
        ),
        ({}, "nodes", "the region has no nodes; give a generator or nodes"),
    ],
)
def test_cross_reference_errors(data, path, message):
    with pytest.raises(InputError) as info:
        build_region(RegionSpec.model_validate(data))
    assert (info.value.path, info.value.message) == (path, message)


@pytest.mark.parametrize(
    ("road", "message"),
    [
        (
            {"travel_min": 3, "length_km": 1},
            "give the travel time exactly one way: travel_min, or length_km with speed_kmh; "
            "got both (travel_min, length_km)",
        ),
        (
            {},
            "give the travel time exactly one way: travel_min, or length_km with speed_kmh; "
            "got neither",
        ),
        (
            {"length_km": 2},
            "give the travel time exactly one way: travel_min, or length_km with speed_kmh; "
            "got only length_km",
        ),
    ],
)
def test_travel_time_must_be_given_exactly_one_way(road, message):
    errors = validation_errors({"nodes": NODES, "roads": [{"from": "a", "to": "b", **road}]})
    assert errors == [("roads[0]", message)]


def test_unknown_key_lists_the_valid_ones():
    errors = validation_errors(
        {"nodes": NODES, "roads": [{"from": "a", "to": "b", "travel_min": 1, "lanes": 2}]}
    )
    assert errors == [
        (
            "roads[0].lanes",
            "unknown key; valid keys: from, to, travel_min, length_km, speed_kmh, oneway, name",
        )
    ]


@pytest.mark.parametrize(
    ("data", "path"),
    [
        (
            {"nodes": NODES, "roads": [{"from": "a", "to": "b", "travel_min": 0}]},
            "roads[0].travel_min",
        ),
        (
            {"nodes": NODES, "roads": [{"from": "a", "to": "b", "travel_min": "inf"}]},
            "roads[0].travel_min",
        ),
        (
            {"nodes": NODES, "roads": [{"from": "a", "to": "b", "length_km": 1, "speed_kmh": -5}]},
            "roads[0].speed_kmh",
        ),
        (
            {
                "generator": {
                    "kind": "grid_city",
                    "rows": 1,
                    "cols": 3,
                    "block_km": 1,
                    "speed_kmh": 30,
                }
            },
            "generator.rows",
        ),
        (
            {
                "generator": {
                    "kind": "grid_city",
                    "rows": 2,
                    "cols": 3,
                    "block_km": 0,
                    "speed_kmh": 30,
                }
            },
            "generator.block_km",
        ),
        (
            {"generator": {"kind": "town", "rows": 2, "cols": 3, "block_km": 1, "speed_kmh": 30}},
            "generator.kind",
        ),
        ({"nodes": [{"id": "a", "kind": "castle", "x": 0, "y": 0}]}, "nodes[0].kind"),
        ({"crs": "miles"}, "crs"),
    ],
)
def test_field_ranges_and_types_are_pydantics(data, path):
    assert [p for p, _ in validation_errors(data)] == [path]


# --- position along a path -------------------------------------------------------------------


@pytest.fixture
def bend() -> Region:
    """a (0,0) -1 min- b (1,0) -3 min- c (1,3)."""
    return inline(
        {"a": (0, 0), "b": (1, 0), "c": (1, 3)},
        [{"from": "a", "to": "b", "travel_min": 1}, {"from": "b", "to": "c", "travel_min": 3}],
    )


@pytest.mark.parametrize(
    ("now_min", "expected"),
    [
        (9.0, (0.0, 0.0)),  # not left yet
        (10.0, (0.0, 0.0)),  # start
        (10.5, (0.5, 0.0)),  # half of the first minute-long arc
        (11.0, (1.0, 0.0)),  # at b
        (12.5, (1.0, 1.5)),  # half of the 3-minute arc
        (14.0, (1.0, 3.0)),  # end
        (20.0, (1.0, 3.0)),  # arrived
    ],
)
def test_position_along_follows_the_arcs_in_proportion_to_their_times(bend, now_min, expected):
    assert bend.position_along([0, 1, 2], 10.0, 14.0, now_min) == pytest.approx(expected)


def test_position_along_stretches_to_the_actual_trip_duration(bend):
    # the trip took 8 minutes instead of 4: every arc took twice as long
    assert bend.position_along([0, 1, 2], 0.0, 8.0, 1.0) == pytest.approx((0.5, 0.0))
    assert bend.position_along([0, 1, 2], 0.0, 8.0, 5.0) == pytest.approx((1.0, 1.5))


def test_position_along_edge_cases(bend):
    assert bend.position_along([2], 0.0, 0.0, 5.0) == (1.0, 3.0)
    assert bend.position_along([0, 1], 3.0, 3.0, 3.0) == (0.0, 0.0)
    bend.close_road(1, 2)  # a vehicle already on the road can still be drawn
    assert bend.position_along([0, 1, 2], 10.0, 14.0, 12.5) == pytest.approx((1.0, 1.5))
    with pytest.raises(ValueError, match="no road"):
        bend.position_along([0, 2], 0.0, 1.0, 0.5)
    with pytest.raises(ValueError):
        bend.position_along([], 0.0, 1.0, 0.5)
    with pytest.raises(ValueError, match="before"):
        bend.position_along([0, 1], 2.0, 1.0, 1.5)


# --- great-circle distance -------------------------------------------------------------------


def test_great_circle_km_on_meridians_and_the_equator():
    assert great_circle_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(EARTH_RADIUS_KM * math.pi / 180)
    assert great_circle_km(0.0, 0.0, 0.0, 90.0) == pytest.approx(EARTH_RADIUS_KM * math.pi / 2)
    assert great_circle_km(10.0, 0.0, -170.0, 0.0) == pytest.approx(EARTH_RADIUS_KM * math.pi)
    # one degree of longitude shrinks with the cosine of the latitude (short-distance check)
    assert great_circle_km(0.0, 60.0, 0.001, 60.0) == pytest.approx(
        EARTH_RADIUS_KM * math.radians(0.001) * 0.5, rel=1e-6
    )
    assert great_circle_km(2.35, 48.86, -0.13, 51.51) == great_circle_km(-0.13, 51.51, 2.35, 48.86)
    many = great_circle_km(np.zeros(3), np.zeros(3), np.array([0.0, 1.0, 2.0]), np.zeros(3))
    assert many == pytest.approx(np.array([0.0, 1.0, 2.0]) * EARTH_RADIUS_KM * math.pi / 180)


def _grid3_with_closures(closed):
    from mcsim.region import RegionSpec, build_region

    spec = RegionSpec.model_validate(
        {
            "generator": {
                "kind": "grid_city",
                "rows": 3,
                "cols": 3,
                "block_km": 1.0,
                "speed_kmh": 60,
            },
            "closed": closed,
        }
    )
    return build_region(spec)


def test_roads_closed_in_the_scenario_are_not_driven_until_reopened():
    open_region = _grid3_with_closures([])
    region = _grid3_with_closures([{"from": "r0c0", "to": "r0c1"}, {"from": "r0c0", "to": "r1c0"}])
    a, b = region.index("r0c0"), region.index("r0c1")
    assert open_region.travel_min(a, b) == 1.0
    assert region.travel_min(a, b) == math.inf  # both roads out of the corner are closed
    assert region.travel_min(b, a) == math.inf
    assert sorted(region.closed_roads) == sorted(
        [(a, b), (b, a), (a, region.index("r1c0")), (region.index("r1c0"), a)]
    )
    region.reopen_road(a, b)
    assert region.travel_min(a, b) == 1.0


def test_a_one_way_closure_leaves_the_other_direction_open():
    region = _grid3_with_closures([{"from": "r0c0", "to": "r0c1", "oneway": True}])
    a, b = region.index("r0c0"), region.index("r0c1")
    assert region.travel_min(b, a) == 1.0
    assert region.travel_min(a, b) == 3.0  # round the block


@pytest.mark.parametrize(
    "closed,path,fragment",
    [
        ([{"from": "r0c0", "to": "nowhere"}], "closed[0].to", "unknown node"),
        ([{"from": "r0c0", "to": "r2c2"}], "closed[0]", "no road"),
        ([{"from": "r0c0", "to": "r0c1"}, {"from": "r0c0", "to": "r0c1"}], "closed[1]", "twice"),
    ],
)
def test_bad_closures_name_their_path(closed, path, fragment):
    with pytest.raises(InputError) as info:
        _grid3_with_closures(closed)
    assert info.value.path == path and fragment in info.value.message
