"""The console's browser tests' tools: screenshots under .cache/screens/, dev-login, waits, and the QR decoder that
reads the 签到大屏's code off a screenshot. The fixtures (one local stack, one Chromium) are in conftest.py."""
import png

from tests import qr_read
from tests.stack import ROOT

SCREENS = ROOT / ".cache" / "screens"
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys  # noqa: F401  (for the tests)
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: F401


def shot(driver, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENS / f"{name}.png"))


def wait(driver, seconds: float = 10) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def image_loaded(driver, element) -> bool:
    return driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", element)


def shown(driver, table_id: str) -> list[list[str]]:
    """Each body row of the table (but a row's open form, ``tr.adjust-row``): its cells' text (the row's header cell
    included)."""
    return driver.execute_script(
        "return [...document.querySelectorAll(`#${arguments[0]} tbody tr:not(.adjust-row)`)]"
        ".map((tr) => [...tr.children].map((c) => c.textContent.trim()))", table_id)


def alert_text(driver) -> str:
    return driver.execute_script("const a = document.getElementById('alert'); return a.hidden ? '' : a.textContent")


def code_from_screenshot(data: bytes) -> str:
    """The text of the QR in an element's screenshot: dark modules found by threshold, the module's size from the
    top-left finder (7 modules), each module sampled at its centre."""
    width, height, rows, info = png.Reader(bytes=data).asRGBA8()
    # dark: black-ish in every channel (the screen's dark red around the rounded corners is not)
    dark = [[max(row[4 * x], row[4 * x + 1], row[4 * x + 2]) < 100 for x in range(width)] for row in rows]
    top = next(y for y, row in enumerate(dark) if any(row))
    left = min(row.index(True) for row in dark if any(row))
    right = max(width - 1 - row[::-1].index(True) for row in dark if any(row))
    run = next(i for i, d in enumerate(dark[top][left:]) if not d)
    module = run / 7
    size = round((right - left + 1) / module)
    module = (right - left + 1) / size
    modules = [[dark[int(top + (r + .5) * module)][int(left + (c + .5) * module)] for c in range(size)]
               for r in range(size)]
    return qr_read.decode(modules)


def dev_login(driver, base: str, name: str, *, expect: str) -> None:
    """Signed in as the demo user ``name`` through the login page's dev form (the local stack's), waiting for
    ``expect`` in the header's name line; whoever was signed in is logged out first."""
    driver.get(base + "/console/")
    wait(driver).until(lambda d: d.find_elements(By.ID, "dev-name")
                       or d.execute_script("return !document.getElementById('top').hidden"))
    if not driver.find_elements(By.ID, "dev-name"):  # still signed in: log out from the header
        driver.find_element(By.ID, "logout").click()
    field = wait(driver).until(EC.presence_of_element_located((By.ID, "dev-name")))
    field.clear()
    field.send_keys(name)
    driver.find_element(By.CSS_SELECTOR, "#dev-login button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "who"), expect))


def open_page(driver, label: str) -> None:
    """The menu entry ``label`` clicked (the page is the app's: no reload)."""
    wait(driver).until(EC.element_to_be_clickable((By.LINK_TEXT, label))).click()
