"""The run report in a real browser: the page renders offline and the numbers it shows are the run's.

Uses a Chromium-family browser on PATH (its ``--dump-dom`` is the DOM after rendering), else Playwright when it is
importable with a browser installed. Neither is part of the test dependencies, so without one the test is skipped
with what to install.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.target.conftest import AEP, ALL_STREAMS, datasets_setting, run_target, singer_messages
from tests.target.run_report_page import ReportPage, number

pytestmark = pytest.mark.timeout(120)

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome", "msedge")
INSTALL_HINT = (
    "no headless browser found: install Chromium (e.g. `apt-get install chromium`) or Playwright with a browser "
    "(`pip install playwright && playwright install chromium`) to render the run report in a browser"
)


def rendered_dom(page: Path) -> str:
    """The page's DOM once a real browser has loaded it from disk (no network: the page needs none)."""
    for name in CHROMIUM_NAMES:
        browser = shutil.which(name)
        if browser:
            done = subprocess.run(
                [browser, "--headless", "--disable-gpu", "--no-sandbox", "--dump-dom", page.as_uri()],
                capture_output=True,
                text=True,
                timeout=60,
                check=True,
            )
            return done.stdout
    try:
        from playwright.sync_api import Error, sync_playwright
    except ImportError:
        pytest.skip(INSTALL_HINT)
    with sync_playwright() as playwright:
        for kind in (playwright.chromium, playwright.firefox, playwright.webkit):
            try:
                browser = kind.launch()
            except Error:
                continue
            try:
                tab = browser.new_page()
                tab.goto(page.as_uri())
                return tab.content()
            finally:
                browser.close()
    pytest.skip(INSTALL_HINT)


def browser_available() -> bool:
    if any(shutil.which(name) for name in CHROMIUM_NAMES):
        return True
    try:
        import playwright  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not browser_available(), reason=INSTALL_HINT)
def test_the_report_in_a_browser_shows_the_runs_numbers(aep: AEP, tmp_path: Path) -> None:
    streams = ["customers", "charges"]
    messages = [m for m in singer_messages(ALL_STREAMS) if m.get("stream") in streams or m["type"] == "STATE"]
    before = aep.landed_counts()
    config = aep.config(tmp_path, datasets=datasets_setting(streams))
    run = run_target(config, "".join(json.dumps(m) + "\n" for m in messages), tmp_path)
    assert run.returncode == 0, run.stderr[-3000:]
    landed = {d: n - before[d] for d, n in aep.landed_counts().items() if n > before[d]}

    page = ReportPage(rendered_dom(tmp_path / "report.html"))

    assert page.by_id["outcome-status"] == "Succeeded"
    assert number(page.by_id["total-received"]) == sum(1 for m in messages if m["type"] == "RECORD")
    assert number(page.by_id["total-landed"]) == sum(landed.values())
    for dataset_id, count in landed.items():
        assert page.count("dataset-row", dataset_id, "landed") == count
