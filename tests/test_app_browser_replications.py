"""Replications in a real browser: Explore's progress bar and KPI intervals, Compare's B − A.

Uses the server, browser and page fixtures of tests/test_app_browser.py (no console error, no
request off 127.0.0.1, a screenshot per test); skipped without Chromium the same way.
"""

from __future__ import annotations

import re

import pytest

from tests.test_app_browser import browser, page, server, wait_for_figures  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser

#: Ten runs of the default scenario, on a machine shared with other work.
REPS_TIMEOUT_MS = 120_000


def test_explore_replicates_with_a_progress_bar_and_shows_intervals_on_the_cards(page):  # noqa: F811
    page.get_by_role("button", name="Run").click()
    values = page.locator(".mcsim-kpi-value")
    values.nth(3).wait_for()
    # the first seed is on screen at once, then the other nine run with a progress bar
    first = values.all_inner_texts()
    assert first[1].isdigit()  # one run's deaths: a whole number
    page.locator(".mcsim-reps-progress").wait_for()
    done = page.locator(".mcsim-reps-done")
    done.wait_for(timeout=REPS_TIMEOUT_MS)
    assert done.inner_text() == "10 runs, seeds 0–9"
    page.locator(".mcsim-reps-progress").wait_for(state="detached")
    intervals = page.locator(".mcsim-kpi-interval").all_inner_texts()
    assert len(intervals) == 4
    assert any(re.fullmatch(r"95 % CI \[\d+\.\d, \d+\.\d\].*", i) for i in intervals), intervals
    assert "most typical of 10 runs" in page.locator(".mcsim-run-title").inner_text()
    page.locator("img.mcsim-bands").wait_for()
    wait_for_figures(page)  # the typical run is on the map, its figures drawn


def test_compare_shows_the_paired_difference_over_the_same_seeds(page):  # noqa: F811
    page.get_by_role("tab", name="Compare").click()
    page.get_by_role("button", name="Run comparison").click()
    page.locator(".mcsim-compare-table table").wait_for()  # the first seed at once
    table = page.locator(".mcsim-paired-table table")
    table.wait_for(timeout=REPS_TIMEOUT_MS)
    text = table.inner_text()
    assert "B − A [95 % CI]" in text and "B better in" in text
    assert re.search(r"\b\d+ of 10\b", text)
    assert "within noise" in text or "better" in text
    # a bold value is always a named winner (never one within noise)
    for cell in page.locator(".mcsim-paired-table tbody tr").all():
        tds = cell.locator("td")
        bold = cell.locator("strong").count()
        verdict = tds.nth(5).inner_text()
        assert (bold > 0) == verdict.endswith("better"), (tds.nth(0).inner_text(), verdict)
    page.locator("img.mcsim-compare-bands").wait_for()
