"""The app in a real browser: Playwright driving Debian's Chromium against ``mcsim app``.

The server runs as a subprocess on 127.0.0.1 with a free port and with Solara's asset CDN
pointed at a closed local port, so an asset missing from the local install fails loudly instead
of being fetched. Every test asserts that the page logged no console error and that no request
left 127.0.0.1, and saves a screenshot under tests/output/.

Without /usr/bin/chromium these tests skip, unless MCSIM_REQUIRE_BROWSER=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

pytestmark = pytest.mark.browser

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = Path(__file__).resolve().parent / "output"
TIMEOUT_MS = 30_000
LOCAL_HOSTS = {"127.0.0.1"}
#: Schemes that never touch the network (images the page makes from its own data).
LOCAL_SCHEMES = {"data", "blob", "about"}


def _require_browser() -> None:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return
    reason = f"{CHROMIUM} is missing (apt-get install chromium) - browser tests cannot run"
    if os.environ.get("MCSIM_REQUIRE_BROWSER") == "1":
        pytest.fail(f"MCSIM_REQUIRE_BROWSER=1 but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def mcsim_command() -> list[str]:
    exe = Path(sys.executable).parent / "mcsim"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("mcsim")
    if found:
        return [found]
    return [sys.executable, "-c", "import sys; from mcsim.cli import main; sys.exit(main())"]


def wait_for_http(url: str, proc: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"mcsim app exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        # polling a server that is starting up: a short pause between attempts
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout_s} s")


def _write_sweep_folder(folder: Path) -> None:
    """A folder of one Parquet run table (a policy factor, a numeric factor, a metric)."""
    import pandas as pd

    folder.mkdir(parents=True)
    pd.DataFrame(
        {"destination": ["a", "a", "b", "b"] * 2, "casualties": [100, 200] * 4,
         "deaths": [1.0, 2.0, 3.0, 5.0, 1.5, 2.5, 2.0, 6.0]}
    ).to_parquet(folder / "runs.parquet")  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    _require_browser()
    port = free_port()
    env = dict(os.environ)
    env.update(
        SOLARA_MODE="production",
        SOLARA_TELEMETRY_MIXPANEL_ENABLE="false",
        SOLARA_ASSETS_CDN="http://127.0.0.1:9/",  # a missing local asset fails, never fetched
        MCSIM_EXERCISE_DIR=str(tmp_path_factory.mktemp("exercise-logs")),
    )
    log = tmp_path_factory.mktemp("server") / "server.log"
    results = tmp_path_factory.mktemp("results")  # the only folder the Sweeps tab may read
    _write_sweep_folder(results / "fleet")
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*mcsim_command(), "app", "--host", "127.0.0.1", "--port", str(port),
             "--results", str(results)],  # fmt: skip
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


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server, request):
    """A fresh page on the app; checks console errors and outside requests afterwards."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    pg = context.new_page()
    pg.set_default_timeout(TIMEOUT_MS)
    errors: list[str] = []
    outside: list[str] = []

    def on_console(msg) -> None:
        if msg.type == "error":
            errors.append(msg.text)

    def on_request(req) -> None:
        u = urlparse(req.url)
        if u.scheme not in LOCAL_SCHEMES and u.hostname not in LOCAL_HOSTS:
            outside.append(req.url)

    pg.on("console", on_console)
    pg.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
    pg.on("request", on_request)
    pg.goto(server)
    pg.get_by_role("button", name="Run").wait_for()
    yield pg
    OUTPUT.mkdir(exist_ok=True)
    pg.screenshot(path=str(OUTPUT / f"{request.node.name}.png"))
    context.close()
    assert not errors, f"browser console errors: {errors}"
    assert not outside, f"requests left 127.0.0.1: {outside}"


def run_default(pg) -> list[str]:
    pg.get_by_role("button", name="Run").click()
    values = pg.locator(".mcsim-kpi-value")
    values.nth(3).wait_for()
    return values.all_inner_texts()


def test_run_default_scenario_shows_kpi_cards(page):
    labels_before = page.locator(".mcsim-kpi").count()
    assert labels_before == 0
    values = run_default(page)
    labels = page.locator(".mcsim-kpi-label").all_inner_texts()
    assert labels == ["Critical mortality", "Deaths", "First hospital arrival", "Scene cleared"]
    assert values[0].endswith("%")
    assert values[1].isdigit() and int(values[1]) > 0
    assert values[2].endswith("min")
    page.locator("img.mcsim-map-image").wait_for()
    page.locator("img.mcsim-charts").wait_for()


def test_scrubber_moves_the_map(page):
    run_default(page)
    caption = page.locator(".mcsim-map-caption")
    assert caption.inner_text().startswith("minute 0:")
    img = page.locator("img.mcsim-map-image")
    src0 = img.get_attribute("src")
    slider = page.locator(".mcsim-scrubber .v-slider")
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.05, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => !document.querySelector('.mcsim-map-caption').innerText.startsWith('minute 0:')"
    )
    page.wait_for_function(
        "(src) => document.querySelector('img.mcsim-map-image').src !== src", arg=src0
    )
    minute = int(caption.inner_text().split(":")[0].split()[1])
    assert minute > 0
    page.get_by_role("button", name="+10").click()
    page.wait_for_function(
        "(m) => document.querySelector('.mcsim-map-caption').innerText.startsWith(m)",
        arg=f"minute {minute + 10}:",
    )


def test_compare_two_policy_sets(page):
    page.get_by_role("tab", name="Compare").click()
    page.get_by_role("button", name="Run comparison").click()
    table = page.locator(".mcsim-compare-table table")
    table.wait_for()
    text = table.inner_text()
    assert "B − A" in text
    for label in ("Critical mortality", "Deaths", "Scene cleared"):
        assert label in text
    page.locator("img.mcsim-compare-charts").wait_for()
    map_a = page.locator("img.mcsim-compare-map-a")
    map_a.wait_for()
    page.locator("img.mcsim-compare-map-b").wait_for()
    # one scrubber moves both maps
    src_a = map_a.get_attribute("src")
    src_b = page.locator("img.mcsim-compare-map-b").get_attribute("src")
    slider = page.locator(".mcsim-compare-scrubber .v-slider")
    slider.scroll_into_view_if_needed()
    box = slider.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.1, box["y"] + box["height"] / 2)
    page.wait_for_function(
        """([a, b]) => document.querySelector('img.mcsim-compare-map-a').src !== a
                   && document.querySelector('img.mcsim-compare-map-b').src !== b""",
        arg=[src_a, src_b],
    )


def test_broken_upload_shows_the_error_inline(page, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("schema_version: 1\nname: broken\nhospitals: 3\n")
    page.get_by_text("Upload a scenario (YAML)").click()
    page.locator("input[type=file]").set_input_files(str(broken))
    error = page.locator(".mcsim-upload-error")
    error.wait_for()
    text = error.inner_text()
    assert "broken.yaml" in text and "Scenario refused" in text
    # the app still works: the shipped scenario is still selected and runs
    assert run_default(page)[1].isdigit()


def choose(pg, label: str, option: str) -> None:
    """Pick ``option`` in the Vuetify select labelled ``label``."""
    field = pg.locator(".v-select").filter(has=pg.locator("label", has_text=label)).first
    field.click()
    pg.locator(".menuable__content__active .v-list-item", has_text=option).first.click()
    pg.wait_for_function(
        """([label, option]) => [...document.querySelectorAll('.v-select')].some(
               s => s.querySelector('label')?.innerText === label
                    && s.querySelector('.v-select__selection')?.innerText === option)""",
        arg=[label, option],
    )


def test_exercise_pause_decide_export_replays_equal(page, tmp_path):
    """Start the default scenario, pause at 30, switch to balance, export: the log replays equal."""
    from mcsim.exercise import events_digest, load_log, replay

    page.get_by_role("tab", name="Exercise").click()
    page.locator(".mcsim-ex-start").click()
    now = page.locator(".mcsim-ex-now")
    now.wait_for()
    assert now.inner_text().startswith("minute 0 of")
    field = page.locator(".mcsim-ex-run-to-field input")
    field.fill("30")
    field.press("Enter")
    page.locator(".mcsim-ex-run-to").click()
    page.wait_for_function(
        "() => document.querySelector('.mcsim-ex-now').innerText.startsWith('minute 30 of')"
    )
    page.locator("img.mcsim-ex-map").wait_for()
    choose(page, "Action", "set_policy")
    choose(page, "policy", "destination")
    choose(page, "name", "balance")
    page.locator(".mcsim-ex-apply").click()
    done = page.locator(".mcsim-ex-action-done")
    done.wait_for()
    assert "set_policy" in done.inner_text() and "name=balance" in done.inner_text()
    page.wait_for_function(
        "() => document.querySelector('.mcsim-ex-actions').innerText.includes('name=balance')"
    )
    # on to the end, so that the exported digest is the live session's own event log
    field.fill("720")
    field.press("Enter")
    page.locator(".mcsim-ex-run-to").click()
    page.wait_for_function(
        "() => document.querySelector('.mcsim-ex-now').innerText.includes('run over')"
    )
    page.locator(".mcsim-ex-export").click()
    saved = page.locator(".mcsim-ex-saved")
    saved.wait_for()
    path = saved.inner_text().removeprefix("Log saved to ").strip()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download log").click()
    got = tmp_path / "downloaded.json"
    download.value.save_as(got)
    assert got.read_bytes() == open(path, "rb").read()
    log = load_log(got)
    assert [(a.kind, a.at_min, a.name) for a in log.actions] == [("set_policy", 30, "balance")]
    assert events_digest(replay(log).events) == log.result_digest


# ------------------------------------------------------------------ issue 13 defects and views


def test_a_bad_casualty_count_is_refused_by_name_and_nothing_runs(page):
    """Defect 5: -50 was clamped to 1, then Run failed on incidents[1].casualties."""
    field = page.locator(".mcsim-field-casualties input")
    field.fill("-50")
    page.get_by_role("button", name="Run").click()
    error = page.locator(".mcsim-setup-error")
    error.wait_for()
    assert "Casualties: 1 or more is needed, not -50" in error.inner_text()
    assert page.locator(".mcsim-field-casualties .error--text").count() > 0  # red, inline
    assert field.input_value() == "-50"  # kept as typed, not clamped
    assert page.locator(".mcsim-kpi").count() == 0 and page.locator(".mcsim-running").count() == 0
    field.fill("60")
    assert run_default(page)[1].isdigit()  # fixed: it runs
    assert page.locator(".mcsim-setup-error").count() == 0


def test_sweeps_tab_lists_the_results_root_and_opens_a_sweep(page):
    """Defect 6: no typed server path; the sweeps under --results are listed and opened."""
    page.get_by_role("tab", name="Sweeps").click()
    assert page.locator("text=Sweep folder").count() == 0
    field = page.locator(".mcsim-sweep-select")
    field.click()
    page.locator(".menuable__content__active .v-list-item", has_text="fleet").first.click()
    page.locator(".mcsim-sweep-open").click()
    page.locator("img.mcsim-sweep-plot").wait_for()
    assert page.locator(".mcsim-sweep-size").inner_text().startswith("8 runs")


def test_layout_scrubber_full_width_speed_control_no_banner_and_minute_reset(page):
    """Defect 9: scrubber 189 px, no speed control, the Solara banner over the page, the
    minute carried over into the next run."""
    run_default(page)
    tabs = page.locator(".v-tabs-items").bounding_box()
    slider = page.locator(".mcsim-scrubber .v-slider").bounding_box()
    assert slider["width"] >= 0.5 * tabs["width"], (slider, tabs)
    assert page.get_by_text("This website runs on").count() == 0
    page.locator(".mcsim-speed").wait_for()
    page.get_by_role("button", name="+10").click()
    caption = page.locator(".mcsim-map-caption")
    page.wait_for_function(
        "() => document.querySelector('.mcsim-map-caption').innerText.startsWith('minute 10:')"
    )
    page.get_by_role("button", name="Run").click()
    page.wait_for_function(
        "() => document.querySelector('.mcsim-map-caption').innerText.startsWith('minute 0:')"
    )
    assert caption.inner_text().startswith("minute 0:")
    assert page.locator(".mcsim-policy-help-triage").inner_text().startswith("START")
    assert "vehicles" in page.locator(".mcsim-fleet-meaning").inner_text()


def caption_minute(pg) -> int:
    return int(pg.locator(".mcsim-map-caption").inner_text().split(":")[0].split()[1])


def test_play_then_pause_stops_the_scrubber(page):
    """Waits on the page's state, never on a sleep: Play moves the caption on; after Pause
    (the button reads Play again) each +10 moves it by exactly 10 once the loop has ended."""
    run_default(page)
    page.locator(".mcsim-play").click()
    page.wait_for_function(
        "() => !document.querySelector('.mcsim-map-caption').innerText.startsWith('minute 0:')"
    )
    page.locator(".mcsim-play").click()
    page.wait_for_function(
        "() => document.querySelector('.mcsim-play').innerText.toLowerCase().includes('play')"
    )
    for _ in range(2):  # a tick under way at Pause may land once; after that none does
        before = caption_minute(page)
        page.get_by_role("button", name="+10").click()
        page.wait_for_function(
            "(m) => parseInt(document.querySelector('.mcsim-map-caption').innerText.split(' ')[1])"
            " >= m",
            arg=before + 10,
        )
    assert caption_minute(page) == before + 10


def test_scenario_tab_and_report_download(page, tmp_path):
    """The scenario information panel, and the run's HTML report as a download."""
    run_default(page)
    with page.expect_download() as download:
        page.get_by_role("button", name="Report (HTML)").click()
    got = tmp_path / "report.html"
    download.value.save_as(got)
    text = got.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>") and "Key performance indicators" in text
    page.locator(".mcsim-about-scenario").click()
    info = page.locator(".mcsim-scenario-info")
    info.wait_for()
    assert "Stadium explosion" in info.inner_text() and "Assumptions" in info.inner_text()
