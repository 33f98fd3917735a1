"""Parameter uncertainty in a real browser: a posterior's draws on the cards, "What drives this".

The server's results root holds a posterior and a sensitivity result made by the real commands,
once per module and small: ``mcsim calibrate scenarios/calibration/tiny.yaml`` (two
populations of ten, about 15 s) and a Morris screening of three parameters with three
trajectories on the default scenario (twelve runs). ``mcsim app --posterior`` chooses the
posterior at start. Uses the browser and page fixtures of tests/test_app_browser.py (no console
error, no request off 127.0.0.1, a screenshot per test); skipped without Chromium the same way.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.test_app_browser import (  # noqa: F401 (fixtures)
    _require_browser,
    browser,
    free_port,
    mcsim_command,
    page,
    wait_for_figures,
    wait_for_http,
)

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[1]
#: Three posterior draws of the default scenario, on a machine shared with other work.
REPS_TIMEOUT_MS = 120_000
SENSITIVITY_PARAMS = (
    "haemorrhage_death_median_min,hospital_wait_care_factor,stable_critical_deterioration_factor"
)


def _mcsim_all(*commands: list[str], cwd: Path) -> None:
    """Run the mcsim commands side by side (two cores: the fixture takes the longer one's time)."""
    procs = [subprocess.Popen([*mcsim_command(), *c], cwd=cwd, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True) for c in commands]  # fmt: skip
    for c, p in zip(commands, procs, strict=True):
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, (c[0], err)


@pytest.fixture(scope="module")
def results(tmp_path_factory) -> Path:
    """A results root with a calibration folder and a sensitivity folder, made by mcsim."""
    _require_browser()
    root = tmp_path_factory.mktemp("results")
    _mcsim_all(
        ["calibrate", str(REPO / "scenarios" / "calibration" / "tiny.yaml"), "--out",
         str(root / "calib")],
        ["sensitivity", "stadium_explosion", "--metric", "deaths", "--method", "morris",
         "--n", "3", "--seeds", "1", "--params", SENSITIVITY_PARAMS, "--out",
         str(root / "sensitivity" / "stadium-deaths")],
        cwd=root,
    )  # fmt: skip
    return root


@pytest.fixture(scope="module")
def server(results, tmp_path_factory):
    """``mcsim app --results ROOT --posterior ROOT/calib`` on a free port."""
    port = free_port()
    env = dict(os.environ)
    env.update(
        SOLARA_MODE="production",
        SOLARA_TELEMETRY_MIXPANEL_ENABLE="false",
        SOLARA_ASSETS_CDN="http://127.0.0.1:9/",  # a missing local asset fails, never fetched
    )
    log = tmp_path_factory.mktemp("server") / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                *mcsim_command(),
                "app",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--results",
                str(results),
                "--posterior",
                str(results / "calib"),
            ],  # fmt: skip
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
        url = f"http://127.0.0.1:{port}/"
        try:
            wait_for_http(url, proc)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def test_posterior_draws_widen_the_cards_and_the_panel_says_what_drives_deaths(page):  # noqa: F811
    # the posterior given at start-up is chosen, and the set-up panel says what it draws
    info = page.locator(".mcsim-posterior-info")
    info.wait_for()
    assert "median untreated time from injury to death of a bleeding casualty" in (
        info.inner_text()
    )
    page.get_by_role("button", name="Run").click()
    page.locator(".mcsim-kpi-value").nth(3).wait_for()
    runs = page.locator(".mcsim-reps-count input")  # three draws are enough here (CI time)
    runs.fill("3")
    runs.press("Enter")
    done = page.locator(".mcsim-reps-done")
    done.wait_for(timeout=REPS_TIMEOUT_MS)
    assert done.inner_text() == "3 runs, seeds 0–2, parameters drawn from posterior calib"
    note = page.locator(".mcsim-uncertainty-note").inner_text()
    assert note == "Intervals over 3 draws from posterior calib: seed and parameter uncertainty."
    intervals = page.locator(".mcsim-kpi-interval").all_inner_texts()
    assert any(
        re.fullmatch(r"95 % CI \[\d+\.\d, \d+\.\d\].* · seed \+ parameter uncertainty", i)
        for i in intervals
    ), intervals
    # "What drives this": the Morris result made above, as bars and in words
    panel = page.locator(".v-expansion-panel-header", has_text="What drives this").first
    panel.scroll_into_view_if_needed()
    panel.click()
    page.locator("img.mcsim-drivers-bars").wait_for()
    words = page.locator(".mcsim-drivers-words").inner_text()
    assert "The median untreated time from injury to death of a bleeding casualty" in words
    assert "Fox et al. Shock 2017" in page.locator(".mcsim-drivers-sources").inner_text()
    wait_for_figures(page)  # the typical run's figures drawn before the page closes
