"""How fast the app answers in a real browser (Playwright + /usr/bin/chromium).

Two figures, each the median of several tries, for the default scenario:

- **Run → KPI cards**: from the click on Run to the four KPI cards on the page (target < 3 s);
  each try on a fresh page (a fresh server-side session), so nothing is cached.
- **Scrubber → map**: from a click on the scrubber (or the +10 button) to the map image
  replaced in the page (target < 200 ms), measured in the browser with a MutationObserver
  (while the replications run in the background, as a user scrubs them).
- **Run → replications done**: from the click on Run to "10 runs, seeds 0–9" (the KPI cards
  with intervals, the typical run on the map, the bands); no target, it follows the first.
  redrawn at the new minute (target < 200 ms), measured in the browser with a
  MutationObserver. benchmarks/app_map.py measures the same on the Las Vegas scenario.

Usage: ``.venv/bin/python benchmarks/app_timing.py [--tries 5]``
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# Resolves with the ms from the click to the interactive map redrawn at the new minute (its
# title, drawn by plotly.js from the same update as the moving traces, changes).
CLICK_AND_TIME_MAP = """
async (selector) => {
  const title = () =>
    document.querySelector('.mcsim-map-image .js-plotly-plot .gtitle')?.textContent;
  const before = title();
  return await new Promise((resolve) => {
    const t0 = performance.now();
    const obs = new MutationObserver(() => {
      if (title() !== before) { obs.disconnect(); resolve(performance.now() - t0); }
    });
    obs.observe(document.body, {subtree: true, childList: true, characterData: true});
    document.querySelector(selector).click();
  });
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    exe = Path(sys.executable).parent / "mcsim"
    env = dict(os.environ, SOLARA_MODE="production", SOLARA_TELEMETRY_MIXPANEL_ENABLE="false")
    proc = subprocess.Popen(
        [str(exe), "app", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("the app server did not start")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tries", type=int, default=5)
    args = ap.parse_args()
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} is missing")
    port = free_port()
    proc = start_server(port)
    url = f"http://127.0.0.1:{port}/"
    load_s: list[float] = []
    run_s: list[float] = []
    scrub_ms: list[float] = []
    reps_s: list[float] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for k in range(args.tries + 1):  # the first try warms the server up, not counted
                ctx = browser.new_context(viewport={"width": 1280, "height": 800})
                page = ctx.new_page()
                page.set_default_timeout(60_000)
                t_load = time.perf_counter()
                page.goto(url)
                run = page.get_by_role("button", name="Run")
                run.wait_for()
                if k:  # page load: navigation until the set-up panel's Run button is shown
                    load_s.append(time.perf_counter() - t_load)
                t0 = time.perf_counter()
                run.click()
                page.locator(".mcsim-kpi-value").nth(3).wait_for()
                dt = time.perf_counter() - t0
                if k:
                    run_s.append(dt)
                page.locator(".mcsim-map-image .js-plotly-plot .gtitle").wait_for()
                for _ in range(4):
                    ms = page.evaluate(CLICK_AND_TIME_MAP, ".mcsim-plus10")
                    if k:
                        scrub_ms.append(ms)
                page.locator(".mcsim-reps-done").wait_for(timeout=300_000)
                if k:
                    reps_s.append(time.perf_counter() - t0)
                ctx.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    run_med, scrub_med = statistics.median(run_s), statistics.median(scrub_ms)
    print(
        f"page load -> Run button: median {statistics.median(load_s):.2f} s "
        f"(min {min(load_s):.2f}, max {max(load_s):.2f}, n={len(load_s)}; target < 3 s)"
    )
    print(
        f"Run -> KPI cards (default scenario): median {run_med:.2f} s "
        f"(min {min(run_s):.2f}, max {max(run_s):.2f}, n={len(run_s)}; target < 3 s)"
    )
    print(
        f"scrubber (+10 min) -> map updated, while the 10 replications run: median "
        f"{scrub_med:.0f} ms (min {min(scrub_ms):.0f}, max {max(scrub_ms):.0f}, "
        f"n={len(scrub_ms)}; benchmarks/app_map.py times it on an idle server)"
    )
    print(
        f"Run -> 10 replications done: median {statistics.median(reps_s):.2f} s "
        f"(min {min(reps_s):.2f}, max {max(reps_s):.2f}, n={len(reps_s)})"
    )


if __name__ == "__main__":
    main()
