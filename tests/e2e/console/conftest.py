"""One local stack and one headless Chromium for all the console's browser tests (starting either takes seconds):
each test signs in as whom it needs and makes its own data. Debian's chromium and chromedriver (`make browser`, which
`make test` runs); without them the tests are skipped, except on CI, where they must run."""
import os
import shutil
import tempfile

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service

from tests.e2e.console.browser import EC, By, wait
from tests.stack import stack_fixture

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")

# The local stack (`make dev`'s entry point) for every console test: each test makes the data it needs.
stack = stack_fixture("console", scope="session")


@pytest.fixture(scope="session")
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromedriver are missing on CI (make browser installs them)")
        pytest.skip("chromium and chromedriver not installed (make browser)")
    profile = tempfile.mkdtemp(prefix="tongxin-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1366,768", "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_window_size(1366, 768)
    # the page's own area 1366×768 (what a desk's screen shows), whatever the window's frame takes
    inner = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    driver.set_window_size(1366 + 1366 - inner[0], 768 + 768 - inner[1])
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture
def signs_out(browser):
    """The browser left signed out, as the other modules' tests expect it (they open the login page first)."""
    yield browser
    if browser.find_elements(By.ID, "logout") and browser.find_element(By.ID, "logout").is_displayed():
        browser.find_element(By.ID, "logout").click()
        wait(browser).until(EC.presence_of_element_located((By.ID, "dev-name")))
    browser.delete_all_cookies()
