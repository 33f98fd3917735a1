"""The after-action report: sections, embedded plots, numbers consistent with the metrics."""

from __future__ import annotations

import base64
import re

import pytest
from conftest import small_scenario_data

from mcsim.cli import main
from mcsim.exercise import ExerciseSession
from mcsim.report import build_report, optimal_care_survival, report_html
from mcsim.scenario import parse_scenario


@pytest.fixture(scope="module")
def log():
    """A small exercise with an inject and two decisions, played to the end."""
    s = ExerciseSession(parse_scenario(small_scenario_data(60)), 3, title="Small <drill>")
    s.apply({"kind": "hospital_diversion", "at_min": 12, "hospital": "small", "by": "cell"})
    s.apply({"kind": "surge_capacity", "at_min": 20, "hospital": "big",
             "resource": "resus_bays", "count": 2, "by": "IC"})  # fmt: skip
    s.apply({"kind": "set_policy", "at_min": 25, "policy": "destination", "name": "balance",
             "by": "IC"})  # fmt: skip
    s.finish()
    return s.export()


@pytest.fixture(scope="module")
def rep(log):
    return build_report(log)


def test_baseline_drops_decisions_only(rep):
    """The baseline replays the injects (same seed) without the decisions."""
    ev = rep.baseline.events
    rows = ev[ev.kind.isin(["inject", "decision"])]
    assert list(rows.kind.astype(str)) == ["inject"]
    assert rep.baseline.patients.rpm0.equals(rep.exercise.patients.rpm0)  # same casualties


def test_preventable_deaths_follow_the_optimal_care_rule(rep):
    """Preventable = died here but u_survival < p(rpm0); optimal deaths are never fewer."""
    pts = rep.exercise.patients
    died = pts.outcome.astype(str) == "died"
    survive = optimal_care_survival(pts, rep.scenario)
    assert len(rep.preventable) == int((died & survive).sum())
    assert set(rep.preventable.patient) <= set(pts.patient[died])
    # nobody dies under optimal care who survived the exercise (earlier care only helps)
    assert not (~survive & (pts.outcome.astype(str) == "survived")).any()
    assert rep.optimal_deaths == int((~survive).sum())
    assert rep.exercise.metrics["deaths"] - len(rep.preventable) <= rep.optimal_deaths


def test_html_has_every_section_embedded_images_and_the_metrics(rep, log):
    """Sections, base64 PNGs that decode, a print stylesheet, and the run's own numbers."""
    text = report_html(rep)
    for anchor in ("timeline", "outcomes", "preventable", "triage", "hospitals", "times"):
        assert f"id='{anchor}'" in text
    assert "@media print" in text and "http" not in text.replace("http-equiv", "")
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', text)
    assert len(images) == 3
    for img in images:
        assert base64.b64decode(img).startswith(b"\x89PNG")
    m = rep.exercise.metrics
    assert f'<td class="l">exercise</td><td class="">{m["deaths"]}</td>' in text
    assert f"{100 * m['critical_mortality']:.1f} %" in text
    assert f"Preventable deaths: {len(rep.preventable)}</h2>" in text
    assert "Small &lt;drill&gt;" in text  # escaped
    for a in log.actions:
        assert f'<td class="l">{a.kind}</td>' in text
    arrivals = rep.exercise.events
    n_big = int(((arrivals.kind == "hospital_arrival") & (arrivals.patient >= 0)
                 & (arrivals.hospital.astype(str) == "big")).sum())  # fmt: skip
    assert f'<td class="">{n_big}</td>' in text.split("id='hospitals'")[1]


def test_cli_report_writes_html_and_png(log, tmp_path, capsys):
    """mcsim report LOG --out report.html --png fig.png: both files, exit 0."""
    path = log.write(tmp_path / "x.log.json")
    code = main(["report", str(path), "--out", str(tmp_path / "r.html"), "--png",
                 str(tmp_path / "fig.png")])  # fmt: skip
    out, err = capsys.readouterr()
    assert code == 0, err
    assert (tmp_path / "r.html").read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "fig.png").read_bytes().startswith(b"\x89PNG")
    assert "written:" in out


def test_optimal_care_uses_the_models_own_outcome_rule() -> None:
    """Where a casualty reached definitive care with the physiology they had at onset, the
    optimal-care reference decides their outcome exactly as the run did (TRISS by default,
    Sacco's curve under outcome_model: sacco)."""
    import mcsim

    for model in ("triss", "sacco"):
        data = small_scenario_data(casualties=120)
        data["schema_version"] = 2
        data["physiology"] = {"outcome_model": model}
        sc = parse_scenario(data)
        pts = mcsim.simulate(sc, seed=4).patients
        same = pts[pts.definitive_care_min.notna() & (pts.rpm_at_care == pts.rpm0)]
        assert len(same) > 20
        survive = optimal_care_survival(same, sc)
        assert (survive == (same.outcome.astype(str) == "survived")).all()
