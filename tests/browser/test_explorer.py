"""The explorer in a real browser. Debian's headless Chromium opens /graphql on a
running `trackql serve` (seeded by `trackql seed-demo`): the tour's Login fills the
Authorization header, Me then answers as the demo user, and every operation of the
tour runs from the page to its expected answer. Each test leaves a screenshot in
test-artifacts/."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as seen
from selenium.webdriver.support.ui import WebDriverWait

from graph.graphiql import TOUR
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


# CodeMirror draws only the lines in view and exposes its editor on the element:
# how the tour's lower operations are reached and a long answer is read whole.
EDITOR = "document.querySelector(arguments[0]).CodeMirror"
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
VARIABLES_EDITOR = ".graphiql-editor-tool .CodeMirror"
RESULT_EDITOR = ".result-window .CodeMirror"


def run_named(driver: WebDriver, name: str, variables: dict[str, Any]) -> None:
    """Set the variables, put the cursor in operation `name`, press Ctrl+Enter."""
    opening = re.compile(rf"^(query|mutation) {name}\b")
    line = next(
        number for number, text in enumerate(TOUR.splitlines()) if opening.match(text)
    )
    driver.execute_script(
        f"{EDITOR}.setValue(arguments[1])", VARIABLES_EDITOR, json.dumps(variables)
    )
    driver.execute_script(
        f"const cm = {EDITOR}; cm.focus(); cm.setCursor({{line: arguments[1], ch: 0}})",
        QUERY_EDITOR,
        line,
    )
    keys = ActionChains(driver).key_down(Keys.CONTROL).send_keys(Keys.ENTER)
    keys.key_up(Keys.CONTROL).perform()


def answer_with(driver: WebDriver, field: str) -> Any:
    """Wait for the result pane to hold an answer with `field`, and return it."""

    def answered(driver: WebDriver) -> Any:
        text = driver.execute_script(f"return {EDITOR}.getValue()", RESULT_EDITOR)
        try:
            body = json.loads(text)
        except ValueError:
            return None
        data = body.get("data")
        return body if isinstance(data, dict) and field in data else None

    return wait(driver).until(answered)


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


def test_the_whole_tour_runs_in_the_explorer(server: str, browser: WebDriver) -> None:
    browser.get(f"{server}/graphql")
    wait(browser).until(
        seen.presence_of_element_located((By.CSS_SELECTOR, EDITOR_LINE))
    )
    open_tab(browser, "Variables")

    run_named(browser, "Login", {})
    login = answer_with(browser, "login")
    run_named(browser, "Me", {})
    me = answer_with(browser, "me")
    run_named(browser, "MyProjects", {})
    projects = answer_with(browser, "projects")
    nodes = projects["data"]["projects"]["nodes"]
    quarterly = next(p for p in nodes if p["name"] == "Quarterly planning")
    run_named(browser, "CreateTask", {"projectId": quarterly["id"]})
    created = answer_with(browser, "createTask")
    new_id = created["data"]["createTask"]["id"]
    task_ids = [new_id, *(t["id"] for t in quarterly["tasks"]["nodes"])]
    run_named(browser, "BulkComplete", {"taskIds": task_ids})
    bulk = answer_with(browser, "bulkUpdateTasks")

    assert [a.get("errors") for a in (login, me, projects, created, bulk)] == [None] * 5
    assert me["data"]["me"]["email"] == "demo@trackql.dev"
    assert projects["data"]["projects"]["totalCount"] == 3
    assert created["data"]["createTask"]["project"] == {"name": "Quarterly planning"}
    assert bulk["data"]["bulkUpdateTasks"]["updatedCount"] == 3
    assert all(t["isCompleted"] for t in bulk["data"]["bulkUpdateTasks"]["tasks"])
