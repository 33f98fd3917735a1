"""The browser tests skip without Chromium, and fail instead when CI requires a browser."""

from __future__ import annotations

import pytest

from tests import test_app_browser as browser_tests


def test_missing_chromium_skips_with_the_reason(monkeypatch):
    monkeypatch.setattr(browser_tests, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.delenv("MCSIM_REQUIRE_BROWSER", raising=False)
    with pytest.raises(pytest.skip.Exception, match="/nonexistent/chromium is missing"):
        browser_tests._require_browser()


def test_missing_chromium_fails_when_a_browser_is_required(monkeypatch):
    monkeypatch.setattr(browser_tests, "CHROMIUM", "/nonexistent/chromium")
    monkeypatch.setenv("MCSIM_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="MCSIM_REQUIRE_BROWSER=1"):
        browser_tests._require_browser()
