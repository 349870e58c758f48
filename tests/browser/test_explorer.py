"""The explorer in a real browser. Debian's headless Chromium opens /graphql on a
running `trackql serve` (seeded by `trackql seed-demo`), runs the tour's Login and
then Me through the page as a person would, and sees the signed-in user. Each test
leaves a screenshot in test-artifacts/."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.server import demo_server

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WAIT_SECONDS = 20
RESULT = (By.CSS_SELECTOR, ".result-window")
EDITOR_LINE = ".graphiql-query-editor pre.CodeMirror-line"


def require_chromium() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    message = f"{', '.join(missing)} missing: apt-get install chromium chromium-driver"
    if os.environ.get("CI"):
        pytest.fail(message)  # CI installs them (.ci/run): never a silent skip there
    pytest.skip(message)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    with demo_server(tmp_path_factory.mktemp("explorer")) as url:
        yield url


@pytest.fixture
def browser(request: pytest.FixtureRequest) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
        "--disable-dev-shm-usage",
        "--window-size=1400,1000",
        "--no-first-run",
        "--disable-background-networking",
    ):
        options.add_argument(argument)
    # A driver path of our own keeps Selenium from looking for one to download.
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / f"{request.node.name}.png"))
        driver.quit()


def wait(driver: WebDriver) -> WebDriverWait[WebDriver]:
    return WebDriverWait(driver, WAIT_SECONDS)


def run_operation(driver: WebDriver, first_line: str) -> None:
    """Put the cursor on the line that opens an operation, then press Ctrl+Enter."""
    lines = driver.find_elements(By.CSS_SELECTOR, EDITOR_LINE)
    line = next(line for line in lines if line.text.startswith(first_line))
    keys = ActionChains(driver).click(line).key_down(Keys.CONTROL)
    keys.send_keys(Keys.ENTER).key_up(Keys.CONTROL).perform()


def open_tab(driver: WebDriver, name: str) -> None:
    xpath = f"//button[normalize-space()='{name}']"
    driver.find_element(By.XPATH, xpath).click()


def test_signing_in_from_the_tour_fills_the_header_and_me_answers(
    server: str, browser: WebDriver
) -> None:
    browser.get(f"{server}/graphql")
    wait(browser).until(
        seen.presence_of_element_located((By.CSS_SELECTOR, EDITOR_LINE))
    )

    run_operation(browser, "mutation Login")
    wait(browser).until(seen.text_to_be_present_in_element(RESULT, "Dana Demo"))
    open_tab(browser, "Headers")
    headers = (By.CSS_SELECTOR, ".graphiql-editor-tool")
    wait(browser).until(seen.text_to_be_present_in_element(headers, "Bearer ey"))
    run_operation(browser, "query Me")
    wait(browser).until(seen.text_to_be_present_in_element(RESULT, "demo@trackql.dev"))

    result = browser.find_element(*RESULT).text
    assert '"name": "Dana Demo"' in result
    assert "errors" not in result
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )
    assert loaded, "the page loaded no assets"
    assert all(url.startswith(server) for url in loaded), loaded
    assert [e for e in browser.get_log("browser") if e["level"] == "SEVERE"] == []
