"""How fast the interactive map follows the scrubber on the Las Vegas scenario (issue 13).

Two medians:

- **server**: :meth:`viz.mapview.InteractiveMap.apply` on a ``FigureWidget`` (the moving
  traces at a new minute computed from the records and batched into one update), for every
  5th minute of the run;
- **browser** (Playwright + /usr/bin/chromium against ``mcsim app``): from a click on +10 to
  the map redrawn at the new minute by plotly.js (target <= 200 ms).

Usage: ``.venv/bin/python benchmarks/app_map.py [--clicks 20] [--no-browser]``
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # app_timing's server and clicker

SCENARIO = "las_vegas_concert_shooting"


def server_median() -> tuple[float, int]:
    import plotly.graph_objects as go

    from viz import mapview, runner

    view = runner.run(runner.load_shipped(SCENARIO), runner.SetUp())
    imap = mapview.InteractiveMap(view)
    widget = go.FigureWidget(imap.figure(0))
    times = []
    for t in range(0, int(view.last_min), 5):
        t0 = time.perf_counter()
        imap.apply(widget, t)
        times.append(1000 * (time.perf_counter() - t0))
    return statistics.median(times), len(times)


def browser_times(clicks: int) -> list[float]:
    from app_timing import ARGS, CHROMIUM, CLICK_AND_TIME_MAP, free_port, start_server
    from playwright.sync_api import sync_playwright

    port = free_port()
    proc = start_server(port)
    out: list[float] = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(90_000)
            page.goto(f"http://127.0.0.1:{port}/")
            page.get_by_role("button", name="Run").wait_for()
            field = page.locator(".v-select").filter(has=page.locator("label", has_text="Scenario"))
            field.first.click()
            page.locator(
                ".menuable__content__active .v-list-item", has_text=re.compile("las.vegas", re.I)
            ).first.click()
            # one seed: ten replications in the background would share the CPU with the
            # scrub and put the typical run on the map part way through
            runs = page.locator(".mcsim-reps-count input")
            runs.fill("1")
            runs.press("Enter")
            page.get_by_role("button", name="Run").click()
            page.locator(".mcsim-map-image .js-plotly-plot .gtitle").wait_for()
            time.sleep(1.0)  # let the page settle (the charts and flows are still drawing)
            for k in range(clicks + 1):  # the first click warms up, not counted
                ms = page.evaluate(CLICK_AND_TIME_MAP, ".mcsim-plus10")
                if k:
                    out.append(ms)
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clicks", type=int, default=20)
    ap.add_argument("--no-browser", action="store_true")
    args = ap.parse_args()
    med, n = server_median()
    print(
        f"{SCENARIO}: server-side scrub update (frame + batched restyle): "
        f"median {med:.1f} ms (n={n})"
    )
    if args.no_browser:
        return
    if not Path("/usr/bin/chromium").exists():
        raise SystemExit("/usr/bin/chromium is missing (or use --no-browser)")
    load_before = os.getloadavg()[0]
    ms = browser_times(args.clicks)
    load_after = os.getloadavg()[0]
    print(f"load average (1 min) before / after the browser clicks: {load_before:.1f} / "
          f"{load_after:.1f} on {os.cpu_count()} CPUs")  # fmt: skip
    print(
        f"{SCENARIO}: scrubber (+10 min) -> map redrawn in the browser: median "
        f"{statistics.median(ms):.0f} ms (min {min(ms):.0f}, max {max(ms):.0f}, n={len(ms)}; "
        "target <= 200 ms)"
    )


if __name__ == "__main__":
    main()
