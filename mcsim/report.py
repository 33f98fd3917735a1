"""After-action report of a tabletop exercise: one self-contained HTML file, readable printed.

The report replays the exercise log (checking its digest) and sets it against two references
on the same seed, so the same people are injured the same way in all three:

- **baseline**: the same exercise without the players' decisions (injects kept, decisions
  removed) — what would have happened had nobody acted;
- **optimal care**: every casualty starts definitive care on the spot at onset. A patient
  survives it iff their frailty draw ``u_survival`` is below the survival probability at their
  physiology at onset, by the model's own outcome rule (TRISS, or Sacco's curve under
  ``outcome_model: sacco``). No simulation is needed: it is the same rule the model applies
  when definitive care starts, taken at the best possible time.
  A **preventable death** is a patient who died in the exercise but survives under optimal care
  (SCIENCE.md §5, MACSIM's "outcome under optimal care"; docs/model.md, "Preventable deaths").

Sections: the time line of actions and key events; deaths and critical mortality against both
references; the preventable deaths; over- and under-triage; each hospital's arrivals per hour
against its treatment spaces; time to hospital per tag. Plots are PNG (matplotlib, Agg)
embedded as base64; a print stylesheet keeps tables and figures whole on paper. Reports read
records (event log, patients table, metrics), never live agents.
"""

from __future__ import annotations

import base64
import html
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mcsim.enums import Severity
from mcsim.exercise.actions import ACTIONS
from mcsim.exercise.log import ExerciseLog
from mcsim.exercise.runner import log_scenario, replay, without_decisions
from mcsim.outcome import survival_at_definitive_care
from mcsim.records import RunResult
from mcsim.scenario import Scenario

TAG_ORDER = ("immediate", "delayed", "minor", "expectant", "dead", "untriaged")
COLORS = {"inject": "#c0392b", "decision": "#1f5fa8"}


def optimal_care_survival(patients: pd.DataFrame, scenario: Scenario) -> pd.Series:
    """Whether each patient survives when definitive care starts at onset (bool, by row).

    The model's own outcome rule (:func:`mcsim.outcome.survival_at_definitive_care`, TRISS or
    Sacco as the scenario says) at each casualty's physiology at onset.
    """
    params = scenario.physiology
    p = np.array(
        [
            survival_at_definitive_care(
                params,
                severity=Severity(str(r.severity)),
                rpm=float(r.rpm0),
                gcs=float(r.gcs0),
                sbp=float(r.sbp0),
                rr=float(r.rr0),
                iss=int(r.iss),
                age=int(r.age),
                penetrating=bool(r.penetrating),
            )
            if r.immediate_survivor
            else 0.0
            for r in patients.itertuples(index=False)
        ],
        dtype=float,
    )
    alive = patients["immediate_survivor"].to_numpy(bool)
    return pd.Series(alive & (patients["u_survival"].to_numpy(float) < p), index=patients.index)


def preventable_deaths(patients: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Patients who died although optimal care would have saved them."""
    died = patients["outcome"].astype(str) == "died"
    return patients[died & optimal_care_survival(patients, scenario)]


@dataclass
class ExerciseReport:
    """What the report shows, computed from the log (see the module docstring)."""

    log: ExerciseLog
    scenario: Scenario
    exercise: RunResult
    baseline: RunResult
    preventable: pd.DataFrame
    optimal_deaths: int
    optimal_critical_deaths: int

    def outcomes(self) -> pd.DataFrame:
        """Deaths and critical mortality: exercise, baseline, optimal care."""
        rows = []
        for name, r in (("exercise", self.exercise), ("baseline (no decisions)", self.baseline)):
            m = r.metrics
            rows.append(
                {
                    "run": name,
                    "deaths": m["deaths"],
                    "deaths before hospital": m["deaths_prehospital"],
                    "deaths in hospital": m["deaths_in_hospital"],
                    "critical deaths": m["critical_deaths"],
                    "critical mortality": m["critical_mortality"],
                }
            )
        pts = self.exercise.patients
        crit = int((pts["critical"] & pts["immediate_survivor"]).sum())
        rows.append(
            {
                "run": "optimal care",
                "deaths": self.optimal_deaths,
                "deaths before hospital": 0,
                "deaths in hospital": self.optimal_deaths - int((~pts.immediate_survivor).sum()),
                "critical deaths": self.optimal_critical_deaths,
                "critical mortality": self.optimal_critical_deaths / crit if crit else None,
            }
        )
        return pd.DataFrame(rows)


def build_report(log: ExerciseLog) -> ExerciseReport:
    """Replay the exercise (digest checked) and its baseline; derive optimal care."""
    scenario = log_scenario(log)
    exercise = replay(log)
    baseline = replay(without_decisions(log))
    pts = exercise.patients
    survive = optimal_care_survival(pts, scenario)
    optimal_deaths = int((~survive).sum())
    crit = pts["critical"].to_numpy(bool) & pts["immediate_survivor"].to_numpy(bool)
    return ExerciseReport(
        log=log,
        scenario=scenario,
        exercise=exercise,
        baseline=baseline,
        preventable=preventable_deaths(pts, scenario),
        optimal_deaths=optimal_deaths,
        optimal_critical_deaths=int((crit & ~survive.to_numpy()).sum()),
    )


# ============================================================================ plots


def _png(fig: Any) -> bytes:
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def _figure(*args: Any, **kw: Any) -> tuple[Any, Any]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(*args, **kw)


def _cumulative(times: pd.Series, grid: np.ndarray) -> np.ndarray:
    t = np.sort(times.dropna().to_numpy(float))
    return np.searchsorted(t, grid, side="right")


def plot_timeline(rep: ExerciseReport) -> bytes:
    """The main figure: cumulative deaths and hospital arrivals, actions marked."""
    ex, base = rep.exercise, rep.baseline
    horizon = float(rep.scenario.duration_min)
    end = min(horizon, float(np.nanmax([ex.patients["death_min"].max(), 60.0])) + 30)
    end = max(end, max((a.at_min for a in rep.log.actions), default=0) + 30)
    grid = np.linspace(0, min(end, horizon), 400)
    fig, (top, bottom) = _figure(
        2, 1, figsize=(10, 6.2), sharex=True, gridspec_kw={"height_ratios": [3, 1.1]}
    )
    top.step(grid, _cumulative(ex.patients["death_min"], grid), where="post", label="deaths")
    top.step(
        grid,
        _cumulative(base.patients["death_min"], grid),
        where="post",
        ls="--",
        label="deaths, baseline (no decisions)",
    )
    arr = ex.patients["hospital_arrival_min"]
    top.step(grid, _cumulative(arr, grid), where="post", label="hospital arrivals", alpha=0.7)
    m = ex.metrics
    keys = (("first_hospital_arrival_min", "first arrival"), ("scene_clear_min", "scene clear"))
    for key, label in keys:
        if m.get(key) is not None and m[key] <= grid[-1]:
            top.axvline(m[key], color="grey", lw=0.8, ls=":")
            top.text(m[key], top.get_ylim()[1] * 0.97, " " + label, fontsize=8, va="top")
    top.set_ylabel("patients (cumulative)")
    top.legend(loc="center right", fontsize=8)
    top.grid(alpha=0.3)
    for i, a in enumerate(rep.log.actions):
        cat = ACTIONS[a.kind].category
        for ax in (top, bottom):
            ax.axvline(a.at_min, color=COLORS[cat], lw=0.9, alpha=0.6)
        bottom.plot([a.at_min], [i % 4], "o", color=COLORS[cat])
        bottom.text(a.at_min, i % 4, f" {i + 1}. {a.kind}", fontsize=7, va="center")
    stop = rep.log.played_to_min
    if stop is not None and stop < grid[-1]:
        for ax in (top, bottom):
            ax.axvspan(stop, grid[-1], color="#e0a800", alpha=0.12, lw=0)
        top.text(stop, top.get_ylim()[1] * 0.6, " no further action after here", fontsize=8)
    bottom.set_yticks([])
    bottom.set_ylim(-0.8, 3.8)
    bottom.set_xlabel("minutes since the start of the scenario")
    bottom.set_title("actions (red: injects, blue: decisions)", fontsize=9, loc="left")
    title = rep.log.title or "Exercise"
    top.set_title(f"{title}: deaths and hospital arrivals", fontsize=11, loc="left")
    return _png(fig)


def hospital_load(rep: ExerciseReport) -> pd.DataFrame:
    """Arrivals per hour per hospital (rows: hour from 0; columns: hospital ids)."""
    ev = rep.exercise.events
    arr = ev[(ev["kind"] == "hospital_arrival") & (ev["patient"] >= 0)]
    hours = int(np.ceil(rep.scenario.duration_min / 60))
    out = {}
    for h in rep.scenario.hospitals:
        t = arr.loc[arr["hospital"].astype(str) == h.id, "time_min"].to_numpy(float)
        out[h.id] = np.bincount(np.minimum((t // 60).astype(int), hours - 1), minlength=hours)
    return pd.DataFrame(out, index=pd.RangeIndex(hours, name="hour"))


def treatment_spaces(scenario: Scenario) -> dict[str, int]:
    """Each hospital's treatment spaces at the start: resus bays + ED beds + minor spaces."""
    return {h.id: h.resus_bays + h.ed_beds + h.minor_treatment_spaces for h in scenario.hospitals}


def plot_hospitals(rep: ExerciseReport) -> bytes:
    """Arrivals per hour at each hospital against its treatment spaces."""
    load = hospital_load(rep)
    last = int(np.nonzero(load.to_numpy().sum(axis=1))[0].max()) + 2 if load.values.any() else 4
    load = load.iloc[: max(last, 4)]
    spaces = treatment_spaces(rep.scenario)
    n = len(load.columns)
    cols = 3 if n > 4 else n
    rows = int(np.ceil(n / cols))
    fig, axes = _figure(rows, cols, figsize=(10, 2.3 * rows), squeeze=False, sharex=True)
    for ax, hid in zip(axes.flat, load.columns, strict=False):
        ax.bar(load.index, load[hid], color="#1f5fa8")
        ax.axhline(spaces[hid], color="#c0392b", ls="--", lw=1)
        ax.set_title(f"{hid} (spaces: {spaces[hid]})", fontsize=9, loc="left")
        ax.grid(alpha=0.3, axis="y")
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("hour")
    fig.suptitle("Arrivals per hour (bars) against treatment spaces (dashed)", fontsize=10)
    return _png(fig)


def plot_time_to_hospital(rep: ExerciseReport) -> bytes:
    """Minutes from onset to hospital arrival, by triage tag (box plot)."""
    pts = rep.exercise.patients
    onsets = rep.exercise.resources["onsets"]
    onset = pts["incident"].astype(str).map(onsets).astype(float)
    t = pts["hospital_arrival_min"] - onset
    data, labels = [], []
    for tag in TAG_ORDER:
        vals = t[(pts["tag"].astype(str) == tag) & t.notna()].to_numpy()
        if len(vals):
            data.append(vals)
            labels.append(f"{tag}\n(n={len(vals)})")
    fig, ax = _figure(figsize=(8, 3.2))
    if data:
        ax.boxplot(data, tick_labels=labels)
    ax.set_ylabel("minutes to hospital")
    ax.grid(alpha=0.3, axis="y")
    return _png(fig)


# ============================================================================ HTML

CSS = """
body { font-family: -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif; margin: 2em auto;
       max-width: 60em; color: #222; line-height: 1.4; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.15em; margin-top: 1.6em;
     border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f2f2f2; } td.l, th.l { text-align: left; }
figure { margin: 0.8em 0; } img { max-width: 100%; }
.meta { color: #555; font-size: 0.9em; }
.stopped { background: #fff4d6; border-left: 4px solid #e0a800; padding: 0.4em 0.8em; }
.inject { color: #c0392b; } .decision { color: #1f5fa8; }
@media print {
  body { margin: 0; max-width: none; font-size: 10pt; }
  h2 { page-break-after: avoid; }
  table, figure, img { page-break-inside: avoid; }
  th { background: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def _fmt(x: Any, pct: bool = False) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    if pct:
        return f"{100 * float(x):.1f} %"
    if isinstance(x, float | np.floating):
        return f"{float(x):.1f}"
    return html.escape(str(x))


def _table(headers: list[str], rows: list[list[str]], left: int = 1) -> str:
    head = "".join(f'<th class="{"l" if i < left else ""}">{h}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>"
        + "".join(f'<td class="{"l" if i < left else ""}">{c}</td>' for i, c in enumerate(r))
        + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (
        f'<figure><img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'
        f"<figcaption>{html.escape(alt)}</figcaption></figure>"
    )


def stopped_text(rep: ExerciseReport) -> str:
    """Where the facilitator stopped, if before the end, and what that means for the figures.

    A live exercise exported at minute 120 is replayed to its horizon for the digest and this
    report; the minutes after 120 had no player in them, and the report must say so rather
    than present them as played ("" for a log played to the end).
    """
    stop = rep.log.played_to_min
    horizon = float(rep.scenario.duration_min)
    if stop is None or stop >= horizon:
        return ""
    return (
        f"The facilitator stopped the exercise at minute {stop:g} of {horizon:g}. Minutes "
        f"{stop:g} to {horizon:g} ran on with no further action (the players' last decisions "
        "still in force); every figure below includes them."
    )


def report_html(rep: ExerciseReport, *, main_png: bytes | None = None) -> str:
    """The report as one self-contained HTML document."""
    log, ex = rep.log, rep.exercise
    m = ex.metrics
    title = html.escape(log.title or "Exercise")
    pol = ", ".join(f"{k} {v}" for k, v in ex.policies.items())
    parts = [
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{title}: "
        f"after-action report</title><style>{CSS}</style></head><body>",
        f"<h1>{title}: after-action report</h1>",
        f"<p class='meta'>Scenario {html.escape(rep.scenario.name)} "
        f"({html.escape(log.scenario.file or 'embedded')}), seed {log.seed}; facilitator "
        f"{html.escape(log.facilitator or '–')}; policies at the end: {html.escape(pol)}. "
        + (
            f"Replay verified: event log digest {html.escape(log.result_digest[:16])}"
            if log.result_digest
            else "The log has no digest: the replay could not be verified"
        )
        + f" ({len(ex.events)} events).</p>",
    ]
    stopped = stopped_text(rep)
    if stopped:
        parts.append(f"<p class='stopped'>{html.escape(stopped)}</p>")
    if log.notes:
        parts.append(f"<p>{html.escape(log.notes)}</p>")

    parts.append("<h2 id='timeline'>Time line of actions and key events</h2>")
    parts.append(_img(main_png or plot_timeline(rep), "Deaths and arrivals over time"))
    rows = []
    for i, a in enumerate(log.actions, 1):
        cat = ACTIONS[a.kind].category
        rows.append(
            [
                str(i),
                f"{a.at_min:g}",
                f"<span class='{cat}'>{cat}</span>",
                html.escape(a.kind),
                html.escape(a.by),
                html.escape(a.summary()),
                html.escape(a.note),
            ]
        )
    parts.append(_table(["#", "minute", "type", "kind", "by", "details", "note"], rows, left=7))
    keys = [
        ("first hospital arrival", m.get("first_hospital_arrival_min")),
        ("scene clear (last living patient left)", m.get("scene_clear_min")),
        ("casualties", m["casualties"]),
        ("critical casualties", m["critical"]),
    ]
    parts.append(_table(["key event", "minute / count"], [[k, _fmt(v)] for k, v in keys]))

    parts.append("<h2 id='outcomes'>Deaths and critical mortality</h2>")
    parts.append(
        "<p>Baseline: the same exercise (same seed, same injects) without the players' "
        "decisions. Optimal care: every casualty in definitive care at onset.</p>"
    )
    out = rep.outcomes()
    parts.append(
        _table(
            list(out.columns),
            [
                [html.escape(r["run"])]
                + [_fmt(r[c]) for c in out.columns[1:-1]]
                + [_fmt(r["critical mortality"], pct=True)]
                for _, r in out.iterrows()
            ],
        )
    )

    pv = rep.preventable
    parts.append(f"<h2 id='preventable'>Preventable deaths: {len(pv)}</h2>")
    parts.append(
        "<p>Patients who died in the exercise but survive when definitive care starts at onset "
        "(survival drawn as the model does: frailty draw below the survival probability at the "
        "initial RPM).</p>"
    )
    if len(pv):
        rows = [
            [
                str(int(r.patient)),
                html.escape(str(r.incident)),
                html.escape(str(r.severity)),
                html.escape(str(r.tag)),
                str(int(r.rpm0)),
                _fmt(r.death_min),
                html.escape(str(r.death_place)),
                html.escape(str(r.hospital) or "–"),
            ]
            for r in pv.sort_values("death_min").itertuples()
        ]
        heads = ["patient", "incident", "injury", "tag", "RPM at onset", "died (min)", "where",
                 "hospital"]  # fmt: skip
        parts.append(_table(heads, rows, left=4))

    parts.append("<h2 id='triage'>Over- and under-triage</h2>")
    b = rep.baseline.metrics
    parts.append(
        _table(
            ["run", "over-triage", "under-triage"],
            [
                ["exercise", _fmt(m["overtriage_rate"], True), _fmt(m["undertriage_rate"], True)],
                ["baseline", _fmt(b["overtriage_rate"], True), _fmt(b["undertriage_rate"], True)],
            ],
        )
    )
    parts.append(
        "<p>Over-triage: share of non-critical patients among those tagged immediate; "
        "under-triage: share of critical patients among those not tagged immediate "
        "(Frykberg).</p>"
    )

    parts.append("<h2 id='hospitals'>Hospital load</h2>")
    parts.append(_img(plot_hospitals(rep), "Arrivals per hour against treatment spaces"))
    load = hospital_load(rep)
    spaces = treatment_spaces(rep.scenario)
    rows = []
    for hid in load.columns:
        hm = m["hospitals"].get(hid, {})
        rows.append(
            [
                html.escape(hid),
                str(int(load[hid].sum())),
                str(int(load[hid].max())),
                str(spaces[hid]),
                str(hm.get("critical", 0)),
                _fmt(hm.get("peak_critical_per_hour")),
            ]
        )
    heads = ["hospital", "arrivals", "peak per hour", "treatment spaces", "critical",
             "peak critical per hour"]  # fmt: skip
    parts.append(_table(heads, rows))

    parts.append("<h2 id='times'>Time to hospital per tag</h2>")
    parts.append(_img(plot_time_to_hospital(rep), "Minutes from onset to hospital, by tag"))
    tth = m["time_to_hospital_min"]
    rows = [
        [html.escape(t), str(v["n"]), _fmt(v["median"]), _fmt(v["p90"])]
        for t, v in sorted(tth.items(), key=lambda kv: TAG_ORDER.index(kv[0]))
    ]
    parts.append(_table(["tag", "patients", "median (min)", "90th percentile (min)"], rows))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_exercise_report(
    log: ExerciseLog, out: str | Path, *, png: str | Path | None = None, force: bool = True
) -> list[Path]:
    """Write the HTML report (and the main figure as PNG if ``png``); the paths written.

    Both files are written all or nothing (:func:`mcsim.safeio.write_files`); existing ones
    are refused unless ``force``, before the report's replays run.
    """
    from mcsim.safeio import check_outputs, write_files

    check_outputs([out], force=force, option="--out")
    if png is not None:
        check_outputs([png], force=force, option="--png")
    rep = build_report(log)
    main = plot_timeline(rep)
    written = write_files({out: report_html(rep, main_png=main)}, force=force, option="--out")
    if png is not None:
        written += write_files({png: main}, force=force, option="--png")
    return written
