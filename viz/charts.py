"""Figures of a run: the map at any minute, the time series, comparisons and sweep plots.

Everything is drawn with matplotlib's object API on an Agg canvas (no pyplot, no global state,
safe from a worker thread) and returned as PNG bytes, which render offline in the browser. The
map keeps its figure between calls: the road network, stations and legend are drawn once per
run and only the moving parts (vehicles, staff, patients at the scene, hospital markers, the
clock) are updated, so a scrubber move costs one re-render of a small image.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from PIL import Image

from mcsim.enums import VehicleState
from viz.runner import RunView
from viz.state import TAG_ORDER, hospital_key, scene_key

TAG_COLOURS = {
    "immediate": "#d62728",
    "delayed": "#f2c500",
    "minor": "#2ca02c",
    "expectant": "#7f7f7f",
    "dead": "#111111",
    "untriaged": "#9ecae1",
}
VEHICLE_COLOURS = {
    VehicleState.AT_STATION.value: "#9e9e9e",
    VehicleState.TO_SCENE.value: "#1f77b4",
    VehicleState.AT_SCENE.value: "#17becf",
    VehicleState.TO_HOSPITAL.value: "#e6550d",
    VehicleState.AT_HOSPITAL.value: "#9467bd",
    VehicleState.TO_STATION.value: "#636363",
}
VEHICLE_LABELS = {
    VehicleState.AT_STATION.value: "at station",
    VehicleState.TO_SCENE.value: "to scene",
    VehicleState.AT_SCENE.value: "at scene",
    VehicleState.TO_HOSPITAL.value: "to hospital",
    VehicleState.AT_HOSPITAL.value: "at hospital",
    VehicleState.TO_STATION.value: "returning",
}
STAFF_COLOUR = "#8c564b"
LOAD_CMAP = "RdYlGn_r"
#: Hospital load (incident patients / free places at onset) at which the marker is fully red.
#: The scale is green at 0, yellow at 1 (full) and red at LOAD_MAX, so that ten times over
#: capacity no longer looks like one and a half (issue 13, defect 3).
LOAD_MAX = 4.0
GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))
#: The charts' resolution. The app shows their PNGs pixel for pixel, and the browser counts
#: 96 px per inch, so a font of ``f`` pt in a chart reads as ``f * CHART_DPI / 96`` pt.
CHART_DPI = 90
#: Text sizes as read on screen (pt): legends, axis and tick labels, titles.
LEGEND_SCREEN_PT, LABEL_SCREEN_PT, TITLE_SCREEN_PT = 9.0, 8.5, 10.0


def chart_pt(screen_pt: float, dpi: float = CHART_DPI) -> float:
    """The font size (pt) in a chart of ``dpi`` that reads as ``screen_pt`` on screen."""
    return screen_pt * 96 / dpi


#: Font sizes in the charts (pt at CHART_DPI).
LEGEND_PT = chart_pt(LEGEND_SCREEN_PT)
LABEL_PT = chart_pt(LABEL_SCREEN_PT)
TITLE_PT = chart_pt(TITLE_SCREEN_PT)
#: Above this many hospitals, the occupancy chart's legend goes below the charts.
LEGEND_INSIDE_MAX = 6


def png(fig: Figure, dpi: float | None = None) -> bytes:
    """The figure as PNG bytes."""
    buf = io.BytesIO()
    FigureCanvasAgg(fig).print_png(buf) if dpi is None else fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def sunflower(n: int, spacing: float) -> np.ndarray:
    """``n`` points packed in a disc around (0, 0), ``spacing`` apart (Vogel's spiral)."""
    i = np.arange(n)
    r = spacing * np.sqrt(i + 0.5)
    theta = i * GOLDEN_ANGLE
    return np.column_stack([r * np.cos(theta), r * np.sin(theta)])


def load_norm() -> TwoSlopeNorm:
    """The hospital-load colour scale: 0 empty, 1 full (the middle colour), LOAD_MAX and over."""
    return TwoSlopeNorm(vcenter=1.0, vmin=0.0, vmax=LOAD_MAX)


def hospital_colours(n: int) -> list[str]:
    """``n`` distinct line colours: tab10, then tab20's lighter shades, then evenly spaced hues."""
    from matplotlib import colormaps
    from matplotlib.colors import hsv_to_rgb, to_hex

    base = [to_hex(c) for c in colormaps["tab10"].colors]
    base += [to_hex(c) for c in colormaps["tab20"].colors[1::2]]
    if n <= len(base):
        return base[:n]
    extra = [to_hex(hsv_to_rgb((i / (n - len(base)), 0.65, 0.8))) for i in range(n - len(base))]
    return base + extra


def hospital_load(occupancy: dict[str, int], capacity: dict[str, int]) -> dict[str, float]:
    """Incident patients per free place at onset, per hospital (0 = empty, 1 = full)."""
    return {h: occupancy.get(h, 0) / max(1, capacity.get(h, 1)) for h in capacity}


#: Load at which a hospital marker stops growing (its colour goes on to LOAD_MAX).
MARKER_LOAD_MAX = 1.5


def marker_size(load: float) -> float:
    """Hospital marker area (points²) growing with load, capped at :data:`MARKER_LOAD_MAX`."""
    return 70.0 + 260.0 * min(max(load, 0.0), MARKER_LOAD_MAX)


def _edges(view: RunView) -> np.ndarray:
    """The road segments to draw; for a region of straight-line times, the trips made only.

    (Drawing every pair of such a region draws a web of lines that are not roads.)
    """
    from viz.mapview import straight_line_region, trips_made  # viz.mapview imports this module

    pos = view.region.positions
    if straight_line_region(view.region):
        pairs, _ = trips_made(view.result.events)
        return np.asarray([(pos[a], pos[b]) for a, b in pairs], float).reshape(-1, 2, 2)
    seen = set()
    segs = []
    for u, v in view.region.graph.edges():
        key = (min(u, v), max(u, v))
        if key in seen:
            continue
        seen.add(key)
        segs.append((pos[u], pos[v]))
    return np.asarray(segs, float).reshape(-1, 2, 2)


class MapRenderer:
    """The region map of one run, redrawn at any minute.

    Args:
        view: the finished run.
        size: figure size in inches.
        dpi: resolution of the PNG.
    """

    def __init__(self, view: RunView, *, size: tuple[float, float] = (7.0, 6.8), dpi: int = 90):
        self.view = view
        self.replay = view.replay
        self._lock = threading.Lock()
        self._cache: dict[float, bytes] = {}
        fig = Figure(figsize=size, dpi=dpi, layout=None)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.02, 0.27, 0.85, 0.63))  # the legend below it
        self.fig, self.ax = fig, ax
        pos = view.region.positions
        xmin, ymin = pos.min(axis=0)
        xmax, ymax = pos.max(axis=0)
        span = max(xmax - xmin, ymax - ymin, 1e-9)
        pad = 0.06 * span
        ax.set_xlim(xmin - pad, xmax + pad)
        ax.set_ylim(ymin - pad, ymax + pad)
        if view.region.crs == "lonlat":  # degrees of longitude shrink with the latitude
            lat = math.radians(float(np.mean(pos[:, 1])))
            ax.set_aspect(1.0 / max(0.1, math.cos(lat)), adjustable="box")
        else:
            ax.set_aspect("equal", adjustable="box")
        ax.set_xticks([])
        ax.set_yticks([])
        for s in ax.spines.values():
            s.set_color("#cccccc")
        ax.add_collection(LineCollection(_edges(view), colors="#d9d9d9", linewidths=0.7, zorder=1))
        self._jitter = 0.03 * span
        self._spacing = 0.0075 * span

        st = np.array([view.region.xy(n) for n in view.station_nodes.values()]).reshape(-1, 2)
        ax.scatter(
            st[:, 0], st[:, 1], marker="^", s=70, c="#ffffff", edgecolors="#555555", zorder=2
        )
        for sid, n in view.station_nodes.items():
            x, y = view.region.xy(n)
            ax.annotate(
                sid, (x, y), xytext=(0, -11), textcoords="offset points", ha="center",
                fontsize=chart_pt(7.5), color="#555555", zorder=2,
            )  # fmt: skip
        self._scene_xy = {i: view.region.xy(n) for i, n in view.incident_nodes.items()}
        sc = np.array(list(self._scene_xy.values())).reshape(-1, 2)
        ax.scatter(sc[:, 0], sc[:, 1], marker="*", s=260, c="#ffffff", edgecolors="#000000",
                   linewidths=1.0, zorder=3)  # fmt: skip

        self._hids = list(view.capacity)
        hxy = np.array([view.region.xy(view.hospital_nodes[h]) for h in self._hids]).reshape(-1, 2)
        self._norm = load_norm()
        self._hosp = ax.scatter(
            hxy[:, 0], hxy[:, 1], marker="s", s=[marker_size(0)] * len(self._hids),
            c=[0.0] * len(self._hids), cmap=LOAD_CMAP, norm=self._norm, edgecolors="#222222",
            linewidths=1.0, zorder=4,
        )  # fmt: skip
        self._hlabels = [
            ax.annotate(
                "",
                (x, y),
                xytext=(0, 11),
                textcoords="offset points",
                ha="center",
                fontsize=chart_pt(8),
                zorder=8,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )  # fmt: skip
            for x, y in hxy
        ]
        # injects drawn as they stand at the minute shown: closed roads, hospitals on diversion
        self._closed = LineCollection([], colors="#d62728", linewidths=3.0, zorder=6)
        ax.add_collection(self._closed)
        self._hxy = {h: xy for h, xy in zip(self._hids, hxy, strict=True)}
        self._diverted = ax.scatter(
            [], [], marker="x", s=120, c="#000000", linewidths=2.0, zorder=9
        )
        self._patients = ax.scatter([], [], s=7, linewidths=0, zorder=5)
        self._own_way = ax.scatter(
            [], [], s=9, marker="o", facecolors="none", linewidths=0.8, zorder=5
        )
        self._vehicles = ax.scatter(
            [], [], marker="o", s=34, edgecolors="#000000", linewidths=0.6, zorder=7
        )
        self._staff = ax.scatter([], [], marker="D", s=16, c=STAFF_COLOUR, linewidths=0, zorder=6)
        # one line above the map: the scene (or, with several, all scenes together) by tag;
        # with several scenes each also gets its own count beside its star
        self._scene_line = fig.text(0.02, 0.925, "", va="center", fontsize=LABEL_PT)
        self._scene_labels = (
            [
                ax.annotate(
                    "",
                    (x, y),
                    xytext=(8, -12),
                    textcoords="offset points",
                    fontsize=chart_pt(7.5),
                    zorder=9,
                    bbox={"boxstyle": "round,pad=0.1", "fc": "white", "ec": "none", "alpha": 0.7},
                )  # fmt: skip
                for x, y in self._scene_xy.values()
            ]
            if len(self._scene_xy) > 1
            else []
        )
        self._clock = fig.text(0.02, 0.965, "", fontsize=TITLE_PT, weight="bold", va="center")
        self._summary = fig.text(0.98, 0.965, "", fontsize=LABEL_PT, ha="right", va="center")
        cax = fig.add_axes((0.885, 0.36, 0.022, 0.46))
        cb = fig.colorbar(self._hosp, cax=cax)
        cb.set_label("hospital load (patients / free places)", fontsize=LABEL_PT)
        cb.ax.tick_params(labelsize=LABEL_PT)
        self._legend(fig)
        # Blitting: draw the static parts once, keep the pixels, and per frame draw only the
        # moving artists over a copy of them.
        self._dynamic = [
            self._closed, self._hosp, self._diverted, self._patients, self._own_way, self._staff,
            self._vehicles, *self._hlabels,
            *self._scene_labels, self._scene_line, self._clock, self._summary,
        ]  # fmt: skip
        for a in self._dynamic:
            a.set_animated(True)
        self._canvas = fig.canvas
        self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(fig.bbox)

    def _legend(self, fig: Figure) -> None:
        def dot(colour: str, label: str, marker: str = "o", size: float = 6, edge: str = "none"):
            return Line2D([], [], ls="", marker=marker, ms=size, mfc=colour, mec=edge, label=label)

        handles = [
            dot("#ffffff", "incident", "*", 11, "#000000"),
            dot("#ffffff", "station", "^", 7, "#555555"),
            dot("#fdae61", "hospital (size, colour: load)", "s", 8, "#222222"),
            dot(STAFF_COLOUR, "staff", "D", 4),
            dot("none", "patient on own way", "o", 4, "#2ca02c"),
            Line2D([], [], color="#d62728", lw=2.5, label="road closed"),
            dot("#000000", "hospital on diversion / closed", "x", 6, "#000000"),
        ]
        handles += [dot(TAG_COLOURS[t], f"patient: {t}", "o", 4) for t in TAG_ORDER if t != "dead"]
        handles += [
            dot(VEHICLE_COLOURS[s], f"ambulance {VEHICLE_LABELS[s]}", "o", 6, "#000000")
            for s in VEHICLE_COLOURS
        ]
        fig.legend(
            handles=handles, loc="lower center", ncol=3, fontsize=LEGEND_PT, frameon=False,
            bbox_to_anchor=(0.5, 0.0), handletextpad=0.3, columnspacing=0.9,
        )  # fmt: skip

    def update(self, t: float) -> None:
        """Move every dynamic artist to minute ``t`` (no drawing)."""
        rp = self.replay
        view = self.view
        counts = rp.counts_at(t)
        occ = {h: counts.get(hospital_key(h), 0) for h in self._hids}
        load = hospital_load(occ, view.capacity)
        self._hosp.set_array(np.array([load[h] for h in self._hids]))
        self._hosp.set_sizes(np.array([marker_size(load[h]) for h in self._hids]))
        status = rp.hospital_status_at(t)
        for lab, h in zip(self._hlabels, self._hids, strict=True):
            note = {"diversion": " (diversion)", "closed": " (closed)"}.get(status.get(h, ""), "")
            lab.set_text(f"{h} {occ[h]}/{view.capacity[h]}{note}")
        pos = view.region.positions
        self._closed.set_segments([pos[[a, b]] for a, b in sorted(rp.closed_roads_at(t))])
        marked = [self._hxy[h] for h in self._hids if h in status]
        self._diverted.set_offsets(np.array(marked).reshape(-1, 2))

        pts, cols = [], []
        totals = dict.fromkeys(TAG_ORDER, 0)
        for k, (inc, (x, y)) in enumerate(self._scene_xy.items()):
            tags = [(tag, counts.get(scene_key(inc, tag), 0)) for tag in TAG_ORDER]
            n = sum(c for _, c in tags)
            if n:
                xy = sunflower(n, self._spacing) + (x, y)
                pts.append(xy)
                cols += [TAG_COLOURS[tag] for tag, c in tags for _ in range(c)]
            for tag, c in tags:
                totals[tag] += c
            if self._scene_labels:
                self._scene_labels[k].set_text(f"{inc}: {n}")
        shown = [f"{c} {tag}" for tag, c in totals.items() if c]
        where = next(iter(self._scene_xy)) if len(self._scene_xy) == 1 else "all scenes"
        self._scene_line.set_text(
            f"{where}: {sum(totals.values())} waiting" + (": " + ", ".join(shown) if shown else "")
        )
        if pts:
            self._patients.set_offsets(np.vstack(pts))
            self._patients.set_facecolors(cols)
        else:
            self._patients.set_offsets(np.empty((0, 2)))

        own = rp.own_way_at(t)
        if own:
            self._own_way.set_offsets(np.array([(x, y) for x, y, _ in own]))
            self._own_way.set_edgecolors([TAG_COLOURS.get(tag, "#2ca02c") for _, _, tag in own])
        else:
            self._own_way.set_offsets(np.empty((0, 2)))
        vs = rp.vehicles_at(t)
        if vs:
            xy = np.array([(v.x, v.y) for v in vs])
            still = np.array([not v.moving for v in vs])
            ang = np.array([v.id * GOLDEN_ANGLE for v in vs])
            r = self._jitter * np.sqrt((np.array([v.id for v in vs]) % 7 + 1) / 7)
            xy[still, 0] += r[still] * np.cos(ang[still])
            xy[still, 1] += r[still] * np.sin(ang[still])
            self._vehicles.set_offsets(xy)
            self._vehicles.set_facecolors([VEHICLE_COLOURS.get(v.state, "#000000") for v in vs])
        staff = [s for s in rp.staff_at(t) if s.state != "off_duty"]
        if staff:
            sxy = np.array([(s.x, s.y) for s in staff])
            ang = np.array([s.id * GOLDEN_ANGLE for s in staff])
            sxy[:, 0] += 0.6 * self._jitter * np.cos(ang)
            sxy[:, 1] += 0.6 * self._jitter * np.sin(ang)
            self._staff.set_offsets(sxy)
        else:
            self._staff.set_offsets(np.empty((0, 2)))
        moving = sum(v.moving for v in vs)
        self._clock.set_text(f"minute {t:.0f}")
        self._summary.set_text(
            f"deaths {counts.get('dead', 0)} · on the road {counts.get('road', 0)} · "
            f"ambulances moving {moving}/{len(vs)}"
        )

    def rebind(self, view: RunView) -> bool:
        """Show ``view`` (a later state of the same run) with this map; False if impossible.

        Possible when the static layer is the same (stations, incidents, hospitals): a live
        exercise re-indexes its events after each step and keeps its map.
        """
        same = (
            view.station_nodes == self.view.station_nodes
            and view.incident_nodes == self.view.incident_nodes
            and list(view.capacity) == self._hids
        )
        if not same:
            return False
        with self._lock:
            self.view, self.replay = view, view.replay
            self._cache.clear()
        return True

    def png(self, t: float) -> bytes:
        """The map at minute ``t`` as PNG bytes (cached per minute)."""
        key = round(float(t), 3)
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                self.update(key)
                hit = self._blit_png()
                if len(self._cache) > 256:
                    self._cache.clear()
                self._cache[key] = hit
            return hit

    def _blit_png(self) -> bytes:
        return _blit_png(self.fig, self._canvas, self._background, self._dynamic)


def timeseries(view: RunView, step_min: float = 1.0) -> pd.DataFrame:
    """The run's series on a minute grid: deaths, waiting by tag, occupancy, ambulances busy.

    Columns: ``deaths``, ``waiting:<tag>`` (all scenes), ``occupancy:<hospital>``, ``busy``.
    """
    rp = view.replay
    grid = rp.time_grid(step_min)
    s = rp.series(grid)
    out = pd.DataFrame(index=s.index)
    out["deaths"] = s["dead"]
    for tag in TAG_ORDER:
        cols = [scene_key(i, tag) for i in rp.incidents]
        out[f"waiting:{tag}"] = s[cols].sum(axis=1)
    for h in rp.hospitals:
        out[f"occupancy:{h}"] = s[hospital_key(h)]
    out["busy"] = s["busy"]
    return out


def _style(ax, title: str, ylabel: str = "") -> None:
    ax.set_title(title, fontsize=TITLE_PT, loc="left")
    ax.tick_params(labelsize=LABEL_PT)
    ax.set_ylabel(ylabel, fontsize=LABEL_PT)
    ax.grid(alpha=0.3, lw=0.5)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _active_until(ts: pd.DataFrame) -> float:
    """The last minute at which anything in the series still changes (+10 %)."""
    changing = ts.diff().abs().sum(axis=1) > 0
    if not changing.any():
        return float(ts.index[-1])
    last = float(ts.index[changing.to_numpy()][-1])
    first = float(ts.index[0])
    return min(float(ts.index[-1]), first + 1.1 * (last - first) + 5)


def _timeseries_figure(view: RunView, size: tuple[float, float], dpi: int):
    ts = timeseries(view)
    end = _active_until(ts.drop(columns=[c for c in ts if c.startswith("occupancy:")]))
    end = max(end, 60.0)
    ts = ts[ts.index <= end]
    t = ts.index.to_numpy()
    hs = list(view.replay.hospitals)  # every hospital, also those that received nobody
    below = len(hs) > LEGEND_INSIDE_MAX  # a long list would hide the lines: under the charts
    ncol = 2
    if below:  # the figure grows by the legend's rows (and title), so the charts keep theirs
        rows = -(-len(hs) // ncol) + 1
        size = (size[0], size[1] + rows * 1.6 * LEGEND_PT / 72 + 0.15)
    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    (a, b), (c, d) = axes = fig.subplots(2, 2, sharex=True)
    a.plot(t, ts["deaths"], color="#111111", lw=1.4)
    _style(a, "Deaths", "patients")
    tags = [tag for tag in TAG_ORDER if ts[f"waiting:{tag}"].any()]
    if tags:
        b.stackplot(t, *[ts[f"waiting:{tag}"] for tag in tags],
                    colors=[TAG_COLOURS[x] for x in tags], labels=tags)  # fmt: skip
        b.legend(fontsize=LEGEND_PT, loc="upper right", frameon=False, handlelength=1.2)
    _style(b, "Waiting at the scene", "patients")
    for h, colour in zip(hs, hospital_colours(len(hs)), strict=True):
        c.plot(t, ts[f"occupancy:{h}"], lw=1.2, label=h, color=colour)
        cap = view.capacity.get(h)
        if cap and ts[f"occupancy:{h}"].max() >= 0.5 * cap:  # its capacity, where it matters
            c.axhline(cap, color=colour, lw=0.8, ls="--")
    if hs and below:
        fig.legend(*c.get_legend_handles_labels(), loc="outside lower center", ncol=ncol,
                   fontsize=LEGEND_PT, frameon=False, handlelength=1.2, columnspacing=0.8,
                   title="Hospital occupancy", title_fontsize=LEGEND_PT)  # fmt: skip
    elif hs:
        c.legend(fontsize=LEGEND_PT, loc="upper left", frameon=False, handlelength=1.2)
    _style(c, "Hospital occupancy", "incident patients")
    c.set_xlabel("minutes from onset", fontsize=LABEL_PT)
    d.step(t, ts["busy"], where="post", color="#1f77b4", lw=1.2)
    d.set_ylim(0, max(1, len(view.replay.vehicle_homes)) * 1.05)
    _style(d, "Ambulances busy", "vehicles")
    d.set_xlabel("minutes from onset", fontsize=LABEL_PT)
    return fig, [ax for row in axes for ax in row]


def timeseries_png(view: RunView, size: tuple[float, float] = (4.5, 5.5), dpi: int = 90) -> bytes:
    """Four small charts: deaths, waiting at the scene by tag, hospital occupancy, busy."""
    fig, _ = _timeseries_figure(view, size, dpi)
    return png(fig)


class CursorChart:
    """A drawn figure with a vertical cursor on each of its axes at any minute (blitted, cached).

    Why: the app redraws its charts at every tick of the scrubber. The figure's static pixels
    are drawn once; each :meth:`png` restores them and draws only the cursors over them, and
    keeps the PNG per minute. The time-series charts, the replications' bands and the
    exercise time line all use it (they differ only in the figure and the cursor's style).

    Args:
        fig: the figure, with its Agg canvas attached and nothing animated yet.
        axes: the axes that each get a cursor.
        hide_past_end: no cursor past the first axes' right end (the charts end where nothing
            moves any more); False keeps it drawn (the time line spans the whole run).
        style: the cursor lines' matplotlib style (colour, width, ...).
    """

    def __init__(self, fig: Figure, axes: Sequence, *, hide_past_end: bool = True, **style):
        self._lock = threading.Lock()
        self._cache: dict[float, bytes] = {}
        self.fig = fig
        self._lines = [ax.axvline(0.0, **style) for ax in axes]
        for line in self._lines:
            line.set_animated(True)
        self._xmax = axes[0].get_xlim()[1] if hide_past_end else math.inf
        self._canvas = fig.canvas
        self._canvas.draw()
        self._background = self._canvas.copy_from_bbox(fig.bbox)

    def png(self, t: float) -> bytes:
        """The figure with its cursors at minute ``t`` (none past the end if hidden there)."""
        key = round(float(t), 3)
        with self._lock:
            hit = self._cache.get(key)
            if hit is None:
                for line in self._lines:
                    line.set_xdata([key, key])
                    line.set_visible(key <= self._xmax)
                hit = _blit_png(self.fig, self._canvas, self._background, self._lines)
                if len(self._cache) > 256:
                    self._cache.clear()
                self._cache[key] = hit
            return hit


#: The red cursor of the charts that follow the scrubber.
CHART_CURSOR = {"color": "#d62728", "lw": 0.9, "alpha": 0.8}


class TimeseriesRenderer(CursorChart):
    """The four charts of :func:`timeseries_png` with a cursor at any minute (blitted, cached).

    Args:
        view: the finished run.
        size: figure size in inches.
        dpi: resolution of the PNG.
    """

    def __init__(self, view: RunView, *, size: tuple[float, float] = (4.5, 5.5), dpi: int = 90):
        fig, axes = _timeseries_figure(view, size, dpi)
        super().__init__(fig, axes, **CHART_CURSOR)


def _blit_png(fig: Figure, canvas, background, artists) -> bytes:
    """Restore the static pixels, draw ``artists`` over them, encode as PNG."""
    canvas.restore_region(background)
    for a in artists:
        fig.draw_artist(a)
    w, h = canvas.get_width_height()
    img = Image.frombuffer("RGBA", (w, h), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


#: Colours of the time line's marks, by action category.
MARK_COLOURS = {"inject": "#d62728", "decision": "#1f77b4"}


class TimelineRenderer(CursorChart):
    """A strip from minute 0 to ``end`` with the exercise's actions marked, and a cursor.

    Args:
        marks: :func:`mcsim.exercise.action_marks` of the log.
        end: the strip's last minute.
        size: figure size in inches.
        dpi: resolution of the PNG.
    """

    def __init__(self, marks, end: float, *, size=(9.0, 1.15), dpi: int = 90):
        fig = Figure(figsize=size, dpi=dpi, layout=None)
        FigureCanvasAgg(fig)
        ax = fig.add_axes((0.03, 0.42, 0.94, 0.38))
        ax.set_xlim(0, max(end, 1.0))
        ax.set_ylim(0, 1)
        ax.set_yticks([])
        ax.tick_params(labelsize=LABEL_PT)
        ax.set_xlabel("minute", fontsize=LABEL_PT, labelpad=1)
        for side in ("top", "right", "left"):
            ax.spines[side].set_visible(False)
        for k, m in enumerate(marks):
            colour = MARK_COLOURS.get(m["category"], "#555555")
            ax.axvline(m["at_min"], color=colour, lw=1.6)
            ax.annotate(
                f"{k + 1}", (m["at_min"], 1.0), xytext=(0, 2), textcoords="offset points",
                ha="center", va="bottom", fontsize=LABEL_PT, color=colour, annotation_clip=False,
            )  # fmt: skip
        handles = [
            Line2D([], [], color=c, lw=1.6, label=f"{cat}") for cat, c in MARK_COLOURS.items()
        ]
        fig.legend(handles=handles, loc="upper right", fontsize=LEGEND_PT, frameon=False, ncol=2)
        super().__init__(fig, [ax], hide_past_end=False, color="#111111", lw=1.0, ls="--")


def compare_png(
    a: RunView, b: RunView, labels: Sequence[str] = ("A", "B"), size=(9.6, 3.4), dpi: int = 90
) -> bytes:
    """Deaths over time for both runs, and where the patients died (before or in which hospital)."""
    return png(compare_figure(a, b, labels, size, dpi))


def compare_figure(
    a: RunView, b: RunView, labels: Sequence[str] = ("A", "B"), size=(9.6, 3.4), dpi: int = 90
) -> Figure:
    """The figure of :func:`compare_png`.

    Where patients died and how many each hospital received are horizontal bars, one row per
    place, so every name reads horizontally and whole ("before hospital" was clipped when
    the names stood rotated under the bars); the figure grows with the number of places.
    """
    hospitals = list(a.metrics["hospitals"])
    where = ["before hospital", *hospitals]
    row_in = 1.6 * LABEL_PT / 72  # one bar row: a label line and some air
    size = (size[0], max(size[1], 1.2 + row_in * len(where)))
    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax1, ax2, ax3 = fig.subplots(1, 3, width_ratios=[1.1, 1.2, 1.2])
    colours = ("#1f77b4", "#e6550d")
    ends = []
    for view, lab, col in zip((a, b), labels, colours, strict=True):
        ts = timeseries(view)
        ends.append(_active_until(ts[["deaths"]]))
        ax1.plot(ts.index, ts["deaths"], color=col, lw=1.4, label=lab)
    ax1.set_xlim(0, max(60.0, *ends))
    ax1.legend(fontsize=LEGEND_PT, frameon=False)
    _style(ax1, "Deaths over time", "patients")
    ax1.set_xlabel("minutes from onset", fontsize=LABEL_PT)
    h = 0.4
    for k, (view, lab, col) in enumerate(zip((a, b), labels, colours, strict=True)):
        m = view.metrics
        deaths = [m["deaths_prehospital"]] + [m["hospitals"][x]["deaths"] for x in hospitals]
        ax2.barh(np.arange(len(where)) + (k - 0.5) * h, deaths, h, color=col, label=lab)
        received = [m["hospitals"][x]["patients"] for x in hospitals]
        ax3.barh(np.arange(len(hospitals)) + (k - 0.5) * h, received, h, color=col, label=lab)
    for ax, cats, title in (
        (ax2, where, "Where patients died"),
        (ax3, hospitals, "Patients received"),
    ):
        ax.set_yticks(np.arange(len(cats)), cats, fontsize=LABEL_PT)
        ax.set_ylim(len(cats) - 0.5, -0.5)  # the first place on top
        ax.legend(fontsize=LEGEND_PT, frameon=False, loc="best")
        _style(ax, title)
        ax.set_xlabel("patients", fontsize=LABEL_PT)
    return fig


def sweep_png(
    summary: pd.DataFrame, metric: str, factor: str, by: str | None, size=(7.5, 4.2), dpi=90
) -> bytes:
    """A metric's mean (95 % CI bars) against a factor, one line per group of ``by``."""
    fig = Figure(figsize=size, dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    groups = summary.groupby("group", sort=True) if by else [("all runs", summary)]
    numeric = pd.api.types.is_numeric_dtype(summary[factor])
    cats = list(dict.fromkeys(summary[factor].tolist()))
    groups = list(groups)
    if numeric:
        values = summary[factor].to_numpy(float)
        span = float(values.max() - values.min()) or 1.0
    else:
        span = float(max(1, len(cats) - 1))
    for k, (name, g) in enumerate(groups):
        g = g.sort_values(factor)
        xs = g[factor].to_numpy(float) if numeric else np.array([cats.index(v) for v in g[factor]])
        # dodge the groups a little so that equal results stay visible side by side
        xs = xs + (k - (len(groups) - 1) / 2) * 0.012 * span
        ax.errorbar(xs, g["mean"], yerr=g["ci95"].fillna(0.0).to_numpy(), marker="o", ms=4,
                    capsize=3, lw=1.3, label=str(name))  # fmt: skip
    if not numeric:
        ax.set_xticks(range(len(cats)), [str(c) for c in cats], fontsize=LABEL_PT)
    ax.set_xlabel(factor, fontsize=LABEL_PT)
    ax.set_ylabel(f"{metric} (mean, 95 % CI)", fontsize=LABEL_PT)
    if by:
        ax.legend(title=by, fontsize=LEGEND_PT, title_fontsize=LEGEND_PT, frameon=False)
    _style(ax, f"{metric} by {factor}" + (f", by {by}" if by else ""))
    return png(fig)
