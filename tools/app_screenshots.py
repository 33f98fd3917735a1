"""Screenshots of the app's main views for the docs (docs/img/*.png), from a real browser.

Starts ``mcsim app`` on a free local port, drives Debian's Chromium with Playwright, and
writes one PNG per view: Explore on the default scenario, the Las Vegas map with a hospital's
hover card, the hospital load and casualty flow below it, and Compare. Rerun it after a change
to the app so the pictures in the docs stay current::

    .venv/bin/python tools/app_screenshots.py [--out docs/img]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
DRAWN = "(sel) => document.querySelector(sel + ' .js-plotly-plot')?.data?.length > 0"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _server(port: int) -> subprocess.Popen:
    env = dict(os.environ, SOLARA_MODE="production", SOLARA_TELEMETRY_MIXPANEL_ENABLE="false")
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    code = "import sys; from mcsim.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "app", "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except OSError:
            time.sleep(0.3)  # the server is starting
    proc.kill()
    raise SystemExit("error: the app server did not start")


def _run(page, scenario: str | None) -> None:
    if scenario:
        field = page.locator(".v-select").filter(has=page.locator("label", has_text="Scenario"))
        field.first.click()
        page.locator(
            ".menuable__content__active .v-list-item", has_text=re.compile(scenario, re.I)
        ).first.click()
    page.get_by_role("button", name="Run").click()
    page.locator(".mcsim-kpi-value").nth(3).wait_for()
    time.sleep(1.0)  # the progress bar shows up
    page.wait_for_function(
        "() => !document.querySelector('.mcsim-drawing, .mcsim-running')"
        " && document.querySelector('.mcsim-sankey')"
    )
    page.wait_for_function(DRAWN, arg=".mcsim-map-image")
    for sel in (".mcsim-hospital-load", ".mcsim-sankey"):
        page.locator(sel).scroll_into_view_if_needed()
        page.wait_for_function(DRAWN, arg=sel)
    page.locator(".mcsim-run-title").scroll_into_view_if_needed()


def main() -> None:
    """Write the screenshots."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=REPO / "docs" / "img")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    args.out.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    proc = _server(port)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(120_000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("button", name="Run").wait_for()
            _run(page, None)
            page.screenshot(path=str(args.out / "explore.png"))
            _run(page, "las.vegas")
            for _ in range(3):
                page.get_by_role("button", name="+10").click()
            page.wait_for_function(
                "() => document.querySelector('.mcsim-map-image .gtitle')?.textContent"
                ".startsWith('minute 30 ')"
            )
            at = page.evaluate(
                """() => { const gd = document.querySelector('.mcsim-map-image .js-plotly-plot');
                  const tr = gd.data.find(t => (t.name || '').startsWith('hospital'));
                  const L = gd._fullLayout, r = gd.getBoundingClientRect();
                  return {x: r.left + L._size.l + L.xaxis.l2p(tr.x[1]),
                          y: r.top + L._size.t + L.yaxis.l2p(tr.y[1])}; }"""
            )
            page.mouse.move(at["x"], at["y"])
            time.sleep(0.5)  # the hover card fades in
            page.screenshot(path=str(args.out / "map_las_vegas.png"))
            page.locator(".mcsim-hospital-load").scroll_into_view_if_needed()
            page.locator(".mcsim-hospital-load").screenshot(
                path=str(args.out / "hospital_load.png")
            )
            page.locator(".mcsim-sankey").scroll_into_view_if_needed()
            page.locator(".mcsim-sankey").screenshot(path=str(args.out / "casualty_flow.png"))
            page.get_by_role("tab", name="Compare").click()
            page.get_by_role("button", name="Run comparison").click()
            page.locator(".mcsim-compare-map-b .js-plotly-plot .gtitle").wait_for()
            page.locator(".mcsim-compare-maps").scroll_into_view_if_needed()
            time.sleep(0.5)
            page.screenshot(path=str(args.out / "compare.png"))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    for f in sorted(args.out.glob("*.png")):
        print(f"{f.relative_to(REPO)}: {f.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
