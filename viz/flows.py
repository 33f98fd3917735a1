"""Where the casualties went and where hospitals overflowed, from a run's records.

Two questions a hospital planner asks first, answered from the patients table and the event
log (never from live agents):

- **Which hospital was overwhelmed, and when?** :func:`hospital_load` gives each hospital's
  incident patients minute by minute against its free places at onset (the app's capacity,
  :func:`viz.runner.surge_capacity`) and that capacity plus the surge places its
  major-incident plan opened (``surge_opened`` rows), with the first minute the patients
  outnumber the capacity (the overload).
- **Who went where, and who died where and why?** :func:`casualty_paths` gives each patient's
  path scene → transport → hospital → outcome, with a cause for every death: killed outright,
  at the scene waiting for triage, extraction or an ambulance, on the way, in hospital waiting
  for a named resource (resuscitation, surgery, ICU, ED, minor care), during resuscitation, or
  after definitive care. :func:`flow_links` turns the paths into the links of a Sankey.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from mcsim.enums import DeathPlace, EventKind, LeaveMode, PatientState, Severity
from viz.runner import RunView
from viz.state import hospital_key

#: Resources whose surge places count as capacity for incident patients (as surge_capacity).
CAPACITY_RESOURCES = ("resus_bays", "ed_beds", "minor_treatment_spaces")

#: Transport stage labels by the patients table's ``leave_mode``.
TRANSPORT_LABELS = {
    LeaveMode.AMBULANCE.value: "ambulance",
    LeaveMode.BYSTANDER.value: "driven by bystanders",
    LeaveMode.SELF.value: "on their own",
    LeaveMode.RELEASED.value: "treated on scene, released",
    LeaveMode.HOME.value: "went home",
    "": "did not leave the scene",
}
NO_HOSPITAL = "no hospital"
SURVIVED = "survived"

#: Why a patient died at the scene, by the state they were in just before.
SCENE_WAIT = {
    PatientState.TRAPPED.value: "at the scene, awaiting extraction",
    PatientState.AWAITING_TRIAGE.value: "at the scene, awaiting triage",
    PatientState.AWAITING_TRANSPORT.value: "at the scene, awaiting an ambulance",
    PatientState.LOADING.value: "at the scene, being loaded",
}
KILLED_OUTRIGHT = "killed outright"
#: Said before the place of death of a mortally wounded casualty (no care could save them).
MORTAL_PREFIX = "non-survivable wound, died "


# ---------------------------------------------------------------------------- hospital load


@dataclass(frozen=True)
class HospitalLoad:
    """Each hospital's incident patients over time against its capacity and surge.

    Attributes:
        occupancy: incident patients inside each hospital (columns) at each minute (index).
        capacity: free places for incident patients at onset, per hospital.
        surge: capacity plus the surge places opened by each minute (same shape as occupancy).
        overload_min: the first minute a hospital held more patients than its capacity, or
            None if it never did.
        names: hospital id → display name.
    """

    occupancy: pd.DataFrame
    capacity: dict[str, int]
    surge: pd.DataFrame
    overload_min: dict[str, float | None]
    names: dict[str, str]

    def peak(self, h: str) -> int:
        """The most incident patients ``h`` held at once."""
        return int(self.occupancy[h].max()) if len(self.occupancy) else 0


def hospital_load(view: RunView, step_min: float = 1.0) -> HospitalLoad:
    """:class:`HospitalLoad` of a run on a grid of ``step_min`` minutes."""
    rp = view.replay
    grid = rp.time_grid(step_min)
    s = rp.series(grid)
    hs = list(view.capacity)
    occ = pd.DataFrame({h: s[hospital_key(h)].to_numpy() for h in hs}, index=s.index)
    ev = view.result.events
    rows = ev[ev["kind"] == EventKind.SURGE_OPENED.value]
    surge = pd.DataFrame(
        {h: np.full(len(grid), view.capacity[h], float) for h in hs}, index=s.index
    )
    for t, h, detail in zip(
        rows["time_min"], rows["hospital"].astype(str), rows["detail"].astype(str), strict=True
    ):
        field, _, n = detail.partition("+")
        if h in surge and field in CAPACITY_RESOURCES and n.strip().lstrip("-").isdigit():
            surge.loc[surge.index >= t, h] += int(n)
    overload: dict[str, float | None] = {}
    for h in hs:
        over = np.flatnonzero(occ[h].to_numpy() > view.capacity[h])
        overload[h] = float(occ.index[over[0]]) if len(over) else None
    return HospitalLoad(occ, dict(view.capacity), surge, overload, dict(view.hospital_names))


def hospital_load_figure(
    load: HospitalLoad, *, columns: int = 3, end_min: float | None = None
) -> go.Figure:
    """Small multiples, busiest first: patients, capacity (dashed), surge (dotted), overload.

    Hospitals that received nobody are named in the title instead of drawn empty.
    """
    hs = sorted(
        (h for h in load.capacity if load.peak(h) > 0),
        key=lambda h: (-load.peak(h) / max(1, load.capacity[h]), h),
    )
    idle = [h for h in load.capacity if load.peak(h) == 0]
    rows = max(1, math.ceil(len(hs) / columns))
    titles = []
    for h in hs:
        at = load.overload_min[h]
        over = f", over capacity from min {at:.0f}" if at is not None else ""
        titles.append(f"{h}: peak {load.peak(h)}/{load.capacity[h]}{over}")
    fig = make_subplots(
        rows=rows,
        cols=columns,
        subplot_titles=titles or ["no hospital received patients"],
        shared_xaxes=True,
        vertical_spacing=min(0.12, 0.5 / rows),
        horizontal_spacing=0.06,
    )
    occ = load.occupancy
    if end_min is not None:
        occ = occ[occ.index <= end_min]
    t = occ.index.to_numpy()
    for k, h in enumerate(hs):
        r, c = k // columns + 1, k % columns + 1
        first = k == 0
        fig.add_trace(
            go.Scatter(
                x=t,
                y=occ[h],
                mode="lines",
                line={"color": "#1f77b4", "width": 1.5},
                fill="tozeroy",
                fillcolor="rgba(31,119,180,0.15)",
                name="incident patients",
                legendgroup="occ",
                showlegend=first,
                hovertemplate=f"{h}<br>minute %{{x:.0f}}: %{{y}} patients<extra></extra>",
            ),
            row=r,
            col=c,
        )
        cap = load.capacity[h]
        fig.add_trace(
            go.Scatter(
                x=[t[0], t[-1]],
                y=[cap, cap],
                mode="lines",
                line={"color": "#d62728", "width": 1.2, "dash": "dash"},
                name="capacity (free places at onset)",
                legendgroup="cap",
                showlegend=first,
                hovertemplate=f"capacity {cap}<extra></extra>",
            ),
            row=r,
            col=c,
        )
        surge = load.surge[h].loc[occ.index]
        if (surge != cap).any():
            fig.add_trace(
                go.Scatter(
                    x=t,
                    y=surge,
                    mode="lines",
                    line_shape="hv",
                    line={"color": "#ff7f0e", "width": 1.2, "dash": "dot"},
                    name="capacity + surge opened",
                    legendgroup="surge",
                    showlegend=True,
                    hovertemplate="with surge %{y:.0f}<extra></extra>",
                ),
                row=r,
                col=c,
            )
        at = load.overload_min[h]
        if at is not None:
            fig.add_trace(
                go.Scatter(
                    x=[at],
                    y=[float(load.occupancy.loc[at, h])],
                    mode="markers",
                    marker={"symbol": "x", "size": 10, "color": "#d62728"},
                    name="overload (first minute over capacity)",
                    legendgroup="over",
                    showlegend=not any(load.overload_min[g] is not None for g in hs[:k]),
                    hovertemplate=f"{h} over capacity from minute %{{x:.0f}}<extra></extra>",
                ),
                row=r,
                col=c,
            )
    title = "Hospital load: incident patients against capacity"
    if idle:
        title += f"<br><sup>no patients: {', '.join(idle)}</sup>"
    fig.update_layout(
        height=150 + 170 * rows,
        margin={"l": 40, "r": 10, "t": 80, "b": 40},
        title={"text": title, "font": {"size": 14}},
        hovermode="closest",
        legend={"orientation": "h", "y": -0.06, "font": {"size": 11}},
        plot_bgcolor="white",
    )
    fig.update_annotations(font_size=11)
    fig.update_xaxes(showgrid=True, gridcolor="#eeeeee")
    fig.update_yaxes(showgrid=True, gridcolor="#eeeeee", rangemode="tozero")
    for c in range(1, columns + 1):
        fig.update_xaxes(title_text="minutes from onset", row=rows, col=c)
    return fig


# ---------------------------------------------------------------------------- casualty flow


def casualty_paths(view: RunView) -> pd.DataFrame:
    """One row per patient: ``scene``, ``transport``, ``hospital``, ``outcome``, ``cause``.

    ``hospital`` is the first hospital reached (or "no hospital"); ``outcome`` is "survived"
    or "died"; ``cause`` says where and why a patient died ("" for survivors).
    """
    pt = view.result.patients
    ev = view.result.events
    rows = ev[ev["patient"] >= 0]
    dead = set(pt.loc[pt["outcome"].astype(str) == "died", "patient"].astype(int))
    before: dict[int, str] = {}
    waited: dict[int, str] = {}
    killed: set[int] = set()
    # the state each dying patient was in just before the death row, and what they last queued for
    last_state: dict[int, str] = {}
    last_queue: dict[int, str] = {}
    for p, kind, state, detail in zip(
        rows["patient"].to_numpy(int),
        rows["kind"].astype(str),
        rows["state"].astype(str),
        rows["detail"].astype(str),
        strict=True,
    ):
        if p not in dead:
            continue
        if kind == EventKind.DEATH.value:
            before[p] = last_state.get(p, "")
            waited[p] = last_queue.get(p, "")
            if detail == KILLED_OUTRIGHT:
                killed.add(p)
            continue
        last_state[p] = state
        if kind == EventKind.QUEUE.value:
            last_queue[p] = detail
    out = pd.DataFrame(
        {
            "patient": pt["patient"].astype(int).to_numpy(),
            "tag": pt["tag"].astype(str).to_numpy(),
            "scene": ("scene " + pt["incident"].astype(str)).to_numpy(),
            "transport": [TRANSPORT_LABELS.get(m, m) for m in pt["leave_mode"].astype(str)],
            "hospital": [h or NO_HOSPITAL for h in pt["first_hospital"].astype(str)],
            "outcome": pt["outcome"].astype(str).to_numpy(),
            "death_place": pt["death_place"].astype(str).to_numpy(),
            "death_min": pt["death_min"].to_numpy(float),
        }
    )
    mortal = (pt["severity"].astype(str) == Severity.MORTALLY_WOUNDED.value).to_numpy()
    out["cause"] = [
        (MORTAL_PREFIX if non_survivable else "")
        + _cause(p, place, before.get(p, ""), waited.get(p, ""), p in killed, mode)
        if outcome == "died"
        else ""
        for p, place, outcome, mode, non_survivable in zip(
            out["patient"],
            out["death_place"],
            out["outcome"],
            pt["leave_mode"].astype(str),
            mortal,
            strict=True,
        )
    ]
    return out


def _cause(p: int, place: str, state: str, queued: str, killed: bool, mode: str) -> str:
    if killed:
        return KILLED_OUTRIGHT
    if place == DeathPlace.SCENE.value:
        return SCENE_WAIT.get(state, "at the scene")
    if place == DeathPlace.TRANSPORT.value:
        how = "by ambulance" if mode == LeaveMode.AMBULANCE.value else "without an ambulance"
        return f"on the way to hospital ({how})"
    if state == PatientState.AWAITING_CARE.value:
        return f"in hospital, waiting for {queued or 'care'}"
    if state == PatientState.IN_RESUSCITATION.value:
        return "in hospital, during resuscitation"
    if state == PatientState.DEFINITIVE_CARE.value:
        return "in hospital, after definitive care"
    return "in hospital"


def deaths_by_cause(paths: pd.DataFrame) -> pd.DataFrame:
    """Deaths counted by cause (most first), with the median minute of death."""
    d = paths[paths["outcome"] == "died"]
    if not len(d):
        return pd.DataFrame({"cause": [], "deaths": [], "median_min": []})
    g = d.groupby("cause").agg(deaths=("patient", "size"), median_min=("death_min", "median"))
    return g.reset_index().sort_values(
        ["deaths", "cause"], ascending=[False, True], ignore_index=True
    )


def outcome_label(outcome: str, cause: str) -> str:
    """The Sankey's last column: "survived", or "died: <cause>"."""
    return SURVIVED if outcome != "died" else f"died: {cause}"


def flow_links(paths: pd.DataFrame) -> pd.DataFrame:
    """The Sankey's links (``source``, ``target``, ``patients``).

    Columns: scene → transport → hospital → outcome.

    Patients who reached no hospital go straight from transport to outcome; every patient
    adds one to each link along their path, so each column sums to the number of patients.
    """
    p = paths.assign(
        end=[outcome_label(o, c) for o, c in zip(paths["outcome"], paths["cause"], strict=True)]
    )
    parts = [
        p.groupby(["scene", "transport"])
        .size()
        .rename("patients")
        .reset_index()
        .set_axis(["source", "target", "patients"], axis=1),
    ]
    went = p[p["hospital"] != NO_HOSPITAL]
    stayed = p[p["hospital"] == NO_HOSPITAL]
    for frame, cols in (
        (went, ["transport", "hospital"]),
        (went, ["hospital", "end"]),
        (stayed, ["transport", "end"]),
    ):
        if len(frame):
            g = frame.groupby(cols).size().rename("patients").reset_index()
            parts.append(g.set_axis(["source", "target", "patients"], axis=1))
    links = pd.concat(parts, ignore_index=True)
    return links[links["patients"] > 0].reset_index(drop=True)


def sankey_figure(paths: pd.DataFrame, height: int = 640) -> go.Figure:
    """Scene → transport → hospital → outcome as a Sankey; deaths in red, by cause."""
    links = flow_links(paths)
    nodes = list(dict.fromkeys([*links["source"], *links["target"]]))
    index = {n: i for i, n in enumerate(nodes)}

    def colour(n: str) -> str:
        if n.startswith("died"):
            return "#d62728"
        if n == SURVIVED:
            return "#2ca02c"
        if n.startswith("scene"):
            return "#111111"
        if n in TRANSPORT_LABELS.values():
            return "#1f77b4"
        return "#9467bd"

    link_colour = [
        "rgba(214,39,40,0.45)" if t.startswith("died") else "rgba(150,150,150,0.35)"
        for t in links["target"]
    ]
    fig = go.Figure(
        go.Sankey(
            arrangement="snap",
            node={
                "label": nodes,
                "color": [colour(n) for n in nodes],
                "pad": 12,
                "thickness": 14,
                "hovertemplate": "%{label}: %{value} patients<extra></extra>",
            },
            link={
                "source": [index[s] for s in links["source"]],
                "target": [index[t] for t in links["target"]],
                "value": links["patients"].tolist(),
                "color": link_colour,
                "hovertemplate": "%{source.label} → %{target.label}: %{value}<extra></extra>",
            },
        )
    )
    died = int((paths["outcome"] == "died").sum())
    fig.update_layout(
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font={"size": 11},
        title={
            "text": f"Casualty flow: scene → transport → hospital → outcome "
            f"({len(paths)} patients, {died} died)",
            "font": {"size": 14},
        },
    )
    return fig
