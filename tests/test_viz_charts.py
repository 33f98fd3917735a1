"""Figures (viz.charts) and sweep tables (viz.sweeps)."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from mcsim.errors import InputError
from mcsim.scenario import parse_scenario
from tests.conftest import small_scenario_data
from viz import charts, runner, sweeps
from viz.runner import SetUp


@pytest.fixture(scope="module")
def view():
    return runner.run(parse_scenario(small_scenario_data(casualties=60)), SetUp(seed=1))


def is_png(data: bytes) -> tuple[int, int]:
    img = Image.open(io.BytesIO(data))
    assert img.format == "PNG"
    return img.size


def test_map_changes_with_time_and_is_cached(view):
    m = charts.MapRenderer(view)
    first = m.png(0)
    w, h = is_png(first)
    assert w >= 450 and h >= 450
    trips = view.result.events[view.result.events["to_node"] >= 0]
    mid = float((trips["time_min"].iloc[0] + trips["arrive_min"].iloc[0]) / 2)
    later = m.png(mid)
    assert later != first
    assert m.png(0) is first  # cached: the same bytes object comes back


def test_map_is_the_same_image_whichever_order_minutes_are_drawn_in(view):
    a = charts.MapRenderer(view)
    b = charts.MapRenderer(view)
    a.png(30)
    x = a.png(10)
    y = b.png(10)
    assert np.array_equal(
        np.asarray(Image.open(io.BytesIO(x))), np.asarray(Image.open(io.BytesIO(y)))
    )


def test_hospital_load_and_marker_size_grow_with_occupancy():
    load = charts.hospital_load({"a": 5, "b": 20}, {"a": 10, "b": 10, "c": 4})
    assert load == {"a": 0.5, "b": 2.0, "c": 0.0}
    sizes = [charts.marker_size(x) for x in (0.0, 0.5, 1.0, 5.0)]
    assert sizes == sorted(sizes)
    assert sizes[2] < sizes[3] == charts.marker_size(charts.MARKER_LOAD_MAX)


def test_overload_is_not_understated_by_the_load_colours():
    """Issue 13 defect 3: 164/17 and 26/17 used to get the same red (the scale stopped at 1.5)."""
    norm = charts.load_norm()
    assert norm(0.0) == 0.0 and norm(1.0) == 0.5  # full is the middle colour
    assert norm(26 / 17) < norm(3.0) < norm(164 / 17)
    assert float(np.clip(norm(164 / 17), 0, 1)) == 1.0


def test_hospital_colours_stay_distinct_past_ten_hospitals():
    for n in (3, 10, 18, 40):
        colours = charts.hospital_colours(n)
        assert len(colours) == n and len(set(colours)) == n


def test_sunflower_points_are_distinct_and_within_radius():
    pts = charts.sunflower(200, 0.1)
    assert pts.shape == (200, 2)
    d = np.hypot(*(pts[:, None, :] - pts[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert d.min() > 0.05
    assert np.hypot(pts[:, 0], pts[:, 1]).max() <= 0.1 * np.sqrt(200)


def test_timeseries_columns_and_conservation(view):
    ts = charts.timeseries(view)
    assert {"deaths", "busy", "waiting:immediate"} <= set(ts.columns)
    assert ts["deaths"].is_monotonic_increasing
    assert ts["deaths"].iloc[-1] == view.metrics["deaths"]
    assert ts["busy"].max() <= len(view.replay.vehicle_homes)
    occ = ts[[c for c in ts if c.startswith("occupancy:")]]
    assert (occ.to_numpy() >= 0).all() and occ.to_numpy().max() > 0


def test_timeseries_cursor_follows_the_minute_and_hides_past_the_end(view):
    r = charts.TimeseriesRenderer(view)
    w, h = is_png(r.png(10))
    assert w >= 350 and h >= 400
    assert r.png(10) != r.png(50)
    assert r.png(1e6) == r.png(2e6)  # past the charts' end: no cursor either way
    assert r.png(1e6) != r.png(10)


def test_timeseries_and_compare_figures_are_pngs(view):
    is_png(charts.timeseries_png(view))
    other = runner.run(view.scenario, SetUp(seed=1, capacity_factor=2.0))
    is_png(charts.compare_png(view, other))


@pytest.fixture(scope="module")
def crowded():
    """The small town with twelve hospitals, several with long names (as in Las Vegas)."""
    data = small_scenario_data(casualties=80)
    small = data["hospitals"][1]
    long_names = ["va_southern_nevada", "st_rose_san_martin", "sunrise_childrens"]
    for k in range(10):
        name = long_names[k] if k < len(long_names) else f"clinic_{k}"
        data["hospitals"].append({**small, "id": name, "node": f"r{k % 5}c{(2 * k) % 5}"})
    return runner.run(parse_scenario(data), SetUp(seed=1))


def drawn_texts(fig):
    """Every piece of text the figure draws: figure texts, legends, titles, axis and tick
    labels (only the ticks within the axis' view: the ones drawn)."""
    from matplotlib.text import Text

    fig.canvas.draw()
    out = [t for t in fig.texts]
    for leg in fig.legends:
        out += [*leg.get_texts(), leg.get_title()]
    for ax in fig.axes:
        out += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        out += ax.texts
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            span = 1e-9 * max(1.0, hi - lo)
            locs = axis.get_majorticklocs()
            ticks = axis.get_major_ticks(len(locs))
            out += [
                tick.label1
                for loc, tick in zip(locs, ticks, strict=True)
                if lo - span <= loc <= hi + span and tick.label1.get_visible()
            ]
        if ax.get_legend() is not None:
            out += [*ax.get_legend().get_texts(), ax.get_legend().get_title()]
    return [t for t in out if isinstance(t, Text) and t.get_visible() and t.get_text()]


def legend_texts(fig):
    out = [t for leg in fig.legends for t in leg.get_texts()]
    for ax in fig.axes:
        if ax.get_legend() is not None:
            out += ax.get_legend().get_texts()
    return out


def chart_figures(view, crowded):
    """The app's charts as figures: Explore's time series, Compare's, the exercise time line and
    the map's PNG (the downloads and reports)."""
    from viz.charts import TimelineRenderer, TimeseriesRenderer

    other = runner.run(crowded.scenario, SetUp(seed=1, destination="balance"))
    marks = [{"at_min": 25, "category": "inject"}, {"at_min": 40, "category": "decision"}]
    return {
        "timeseries": TimeseriesRenderer(view).fig,
        "timeseries, 12 hospitals": TimeseriesRenderer(crowded).fig,
        "compare": charts.compare_figure(view, view),
        "compare, 12 hospitals": charts.compare_figure(crowded, other),
        "time line": TimelineRenderer(marks, 300).fig,
        "map (the PNG download), 12 hospitals": charts.MapRenderer(crowded).fig,
    }


def test_chart_legends_read_at_9_pt_and_no_label_is_clipped(view, crowded):
    """Issue 13 defect 9: legends were 6.5 pt and "before hospital" was clipped in Compare.

    The app shows the PNGs pixel for pixel (96 px per inch in the browser): a legend's text
    must be at least 12 px (9 pt) high on screen, and every text the figure draws must lie
    inside the figure."""
    for what, fig in chart_figures(view, crowded).items():
        legends = legend_texts(fig)
        assert legends, what
        for t in legends:
            screen_pt = t.get_fontsize() * fig.dpi / 96
            assert screen_pt >= 9.0, (what, t.get_text(), screen_pt)
        box = fig.bbox
        renderer = fig.canvas.get_renderer()
        for t in drawn_texts(fig):
            e = t.get_window_extent(renderer)
            inside = e.x0 >= box.x0 - 0.5 and e.x1 <= box.x1 + 0.5
            inside = inside and e.y0 >= box.y0 - 0.5 and e.y1 <= box.y1 + 0.5
            assert inside, (what, t.get_text(), e.bounds, box.bounds)
    compare = charts.compare_figure(crowded, crowded)
    labels = [t.get_text() for t in drawn_texts(compare)]
    assert "before hospital" in labels and "va_southern_nevada" in labels


# --------------------------------------------------------------------------- sweeps


def sweep_table() -> pd.DataFrame:
    rows = []
    for dest in ("nearest", "quota"):
        for cas in (100, 200):
            for seed in range(3):
                rows.append(
                    {
                        "destination": dest,
                        "casualties": cas,
                        "seed": seed,
                        "deaths": cas / 10 + seed + (5 if dest == "nearest" else 0),
                        "critical_mortality": 0.1 * seed,
                    }
                )
    return pd.DataFrame(rows)


def test_load_sweep_reads_every_parquet_file_under_a_folder(tmp_path):
    df = sweep_table()
    (tmp_path / "part=1").mkdir()
    df.iloc[:6].to_parquet(tmp_path / "a.parquet")
    df.iloc[6:].to_parquet(tmp_path / "part=1" / "b.parquet")
    got = sweeps.load_sweep(tmp_path)
    assert len(got) == len(df)


def test_load_sweep_prefers_the_runs_table_when_there_is_one(tmp_path):
    sweep_table().to_parquet(tmp_path / "runs.parquet")
    pd.DataFrame({"time_min": [1.0]}).to_parquet(tmp_path / "events.parquet")
    assert list(sweeps.load_sweep(tmp_path).columns) == list(sweep_table().columns)


@pytest.mark.parametrize("what", ["missing", "empty"])
def test_load_sweep_errors(tmp_path, what):
    folder = tmp_path / "nope" if what == "missing" else tmp_path
    with pytest.raises(InputError):
        sweeps.load_sweep(folder)


def test_guess_columns_separates_metrics_factors_and_policy_groups():
    cols = sweeps.guess_columns(sweep_table())
    assert "deaths" in cols.metrics and "seed" not in cols.metrics
    assert "casualties" in cols.factors and "destination" in cols.factors
    assert cols.groups[0] == "destination"


def test_summarise_gives_mean_and_t_interval_per_cell():
    s = sweeps.summarise(sweep_table(), "deaths", "casualties", "destination")
    cell = s[(s["casualties"] == 100) & (s["group"] == "nearest")].iloc[0]
    # deaths 15, 16, 17: mean 16, sd 1, t(0.975, 2) = 4.303
    assert cell["mean"] == pytest.approx(16.0)
    assert cell["n"] == 3
    assert cell["ci95"] == pytest.approx(4.302653 / np.sqrt(3), rel=1e-5)
    with pytest.raises(InputError, match="no column"):
        sweeps.summarise(sweep_table(), "nope", "casualties")


def test_sweep_plot_is_a_png():
    s = sweeps.summarise(sweep_table(), "deaths", "destination", None)
    is_png(charts.sweep_png(s, "deaths", "destination", None))
    s = sweeps.summarise(sweep_table(), "deaths", "casualties", "destination")
    is_png(charts.sweep_png(s, "deaths", "casualties", "destination"))


def test_a_folder_written_by_mcsim_sweep_opens_with_its_declared_factors(tmp_path):
    import yaml

    from mcsim.sweep import run_sweep

    scen = tmp_path / "town.yaml"
    scen.write_text(yaml.safe_dump(small_scenario_data(casualties=20)))
    spec = tmp_path / "sweep.yaml"
    spec.write_text(
        yaml.safe_dump(
            {
                "sweep_version": 1,
                "name": "t",
                "scenarios": [str(scen)],
                "replications": 2,
                "base_seed": 1,
                "factors": {
                    "policies.destination": ["nearest", "random"],
                    "incidents[0].casualties": [10, 20],
                },
            },
            sort_keys=False,
        )
    )
    run_sweep(spec, tmp_path / "out", workers=1)
    df = sweeps.load_sweep(tmp_path / "out")
    assert len(df) == 8
    cols = sweeps.guess_columns(df)
    assert cols.factors[:2] == ["policies.destination", "incidents[0].casualties"]
    assert "critical_mortality" in cols.metrics and "seed" not in cols.metrics
    metric, factor, by = sweeps.default_choice(cols)
    assert (factor, by) == ("incidents[0].casualties", "policy.destination")
    assert metric == "critical_mortality"
    s = sweeps.summarise(df, "deaths", factor, by)
    assert set(s["group"]) == {"nearest", "random"} and (s["n"] == 2).all()
    is_png(charts.sweep_png(s, metric, factor, by))


def test_the_exercise_timeline_and_the_bands_draw_their_cursor_like_the_charts(view):
    """One cursor drawing (charts.CursorChart) serves the charts, the bands and the time line:
    each moves its cursor with the minute and returns the same bytes for a minute seen before."""
    from mcsim.replications import run_replications, seed_draws
    from viz import replications as vr

    timeline = charts.TimelineRenderer([{"at_min": 5, "category": "inject"}], 120)
    bands = vr.BandsRenderer(run_replications(view.scenario, seed_draws(0, 2)), 0)
    for r in (timeline, bands):
        assert isinstance(r, charts.CursorChart)
        first = r.png(10)
        is_png(first)
        assert r.png(40) != first
        assert r.png(10) is first  # cached
    assert bands.png(1e6) == bands.png(2e6)  # past the bands' end: no cursor
