"""The staff console's pages (管理后台, /console/) in a real browser — Debian's Chromium driven by Selenium — against the
real local stack: dev-login, a member found and given a role, a setting changed (and one refused with the API's
message), the events and the 签到大屏 whose rotating code is read back from the screenshot and used to check a
volunteer in, the count on the screen following. Screenshots of every page go to .cache/screens/ (to look at)."""
import io
import os
import shutil
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import png
import pytest
import requests

from tests import qr_read
from tests.stack import ROOT, Client, checked_stack

pytestmark = pytest.mark.e2e

SCREENS = ROOT / ".cache" / "screens"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
# Where `make test` installs the browser (apt) CI must have it; elsewhere (say macOS) the test is skipped.
if not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("CI"):
    pytest.skip("chromium and chromedriver not installed (make browser)", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with checked_stack(tmp_path_factory.mktemp("console") / "stack.log") as running:
        yield running


@pytest.fixture(scope="module")
def browser():
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


def shot(driver, name: str) -> None:
    SCREENS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENS / f"{name}.png"))


def wait(driver, seconds: float = 10) -> WebDriverWait:
    return WebDriverWait(driver, seconds)


def image_loaded(driver, element) -> bool:
    return driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth > 0", element)


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


def test_console_in_a_browser(stack, browser):
    started = time.monotonic()
    base = stack.api_url
    driver = browser

    # Login: the scan-login code shows, and on the local stack the dev-login form signs in.
    driver.get(base + "/console/")
    code = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".login img.code")))
    wait(driver).until(lambda d: image_loaded(d, code))
    csp = requests.get(base + "/console/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    shot(driver, "01-login")
    name = driver.find_element(By.ID, "dev-name")
    name.clear()
    name.send_keys("admin")
    driver.find_element(By.CSS_SELECTOR, "#dev-login button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "who"), "社区书记老王"))
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "main"), "发送失败的订阅消息"))
    assert driver.execute_script("return sessionStorage.getItem('tongxin.csrf')")
    shot(driver, "02-work")

    # 居民: search, open a member, make them a party member (a cookie write with its CSRF token).
    driver.find_element(By.LINK_TEXT, "居民").click()
    search = wait(driver).until(EC.presence_of_element_located((By.ID, "q")))
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "results"), "共"))  # the first page of the directory
    search.send_keys("志愿者1号")
    Select(driver.find_element(By.ID, "role")).select_by_visible_text("志愿者")
    driver.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "results"), "共 1 人"))
    view = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label='查看 志愿者1号']")))
    assert "/console/members?q=" in driver.current_url
    view.click()
    party = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "#detail input[value=party_member]")))
    assert not party.is_selected()
    party.click()
    driver.find_element(By.CSS_SELECTOR, "#detail button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "detail"), "角色已保存"))
    shot(driver, "03-members")
    admin = Client(base).login("admin")
    assert "party_member" in admin.call("GET", "/v1/admin/members/u_demo_vol1").json()["roles"]

    # 设置: one setting changed; one out of range refused with the API's own message, naming the field.
    driver.find_element(By.LINK_TEXT, "设置").click()
    cap = wait(driver).until(EC.presence_of_element_located((By.ID, "set-points_per_hour_cap")))
    cap.clear()
    cap.send_keys("30")
    driver.find_element(By.CSS_SELECTOR, "form.settings button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "form.settings"), "已保存 1 项设置"))
    assert admin.call("GET", "/v1/admin/community").json()["settings"]["points_per_hour_cap"] == 30
    driver.execute_script("window.scrollTo(0, 0)")
    shot(driver, "04-settings")
    cap = driver.find_element(By.ID, "set-points_per_hour_cap")
    cap.clear()
    cap.send_keys("99999")
    driver.find_element(By.CSS_SELECTOR, "form.settings button[type=submit]").click()
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "form.settings .notice.error")))
    refused = driver.find_element(By.CSS_SELECTOR, "form.settings .notice.error").text
    assert refused.startswith("活动每小时积分上限：") and "100" in refused, refused  # the API's message, by its label
    shot(driver, "05-settings-refused")

    # 活动: the list, a roster, the 签到大屏 of a demo event (its code image loads).
    driver.find_element(By.LINK_TEXT, "活动").click()
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "a[aria-label='周末楼道清洁志愿服务 的名单']"))).click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "roster"), "名单：周末楼道清洁志愿服务"))
    shot(driver, "06-events")
    driver.find_element(By.CSS_SELECTOR, "a[aria-label='周末楼道清洁志愿服务 的签到大屏']").click()
    image = wait(driver).until(EC.presence_of_element_located((By.ID, "checkin-code")))
    wait(driver).until(lambda d: image_loaded(d, image))
    wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, ".screen-title"), "周末楼道清洁志愿服务"))
    assert alert_text(driver) == ""
    shot(driver, "07-screen-demo")

    # An event starting now: a volunteer signs up, scans the code read off the screen, and the screen counts them.
    from tongxin.domain.clock import to_api, utcnow
    start = utcnow() + timedelta(seconds=60)
    event = admin.call("POST", "/v1/events", {
        "title": "垃圾分类督导", "kind": "volunteer_service", "capacity": 10, "points_per_hour": 20,
        "starts_at": to_api(start), "ends_at": to_api(start + timedelta(hours=2))}).json()
    volunteer = Client(base).login("vol2")
    assert volunteer.call("POST", f"/v1/events/{event['id']}/signup").status_code == 201
    driver.get(f"{base}/console/events/{event['id']}/screen")
    image = wait(driver).until(EC.presence_of_element_located((By.ID, "checkin-code")))
    wait(driver).until(lambda d: image_loaded(d, image))
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "signed-count"), "1"))
    assert driver.find_element(By.ID, "checked-count").text == "0"
    (SCREENS / "08-code.png").write_bytes(image.screenshot_as_png)
    read = code_from_screenshot(image.screenshot_as_png)
    answer = volunteer.call("POST", "/v1/checkins", {"code": read})
    assert answer.status_code == 200 and answer.json()["action"] == "check_in", answer.text
    wait(driver, 8).until(EC.text_to_be_present_in_element((By.ID, "checked-count"), "1"))
    shot(driver, "08-screen-checked-in")

    # Logout: the session is revoked, the login page is back.
    driver.get(base + "/console/work")
    wait(driver).until(EC.element_to_be_clickable((By.ID, "logout"))).click()
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".login img.code")))
    assert driver.execute_script("return sessionStorage.getItem('tongxin.csrf')") is None

    # A grid worker: their grid's tasks on the 工作台, no 设置 in the menu.
    name = driver.find_element(By.ID, "dev-name")
    name.clear()
    name.send_keys("grid1")
    name.send_keys(Keys.ENTER)  # the form, from the keyboard
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "main"), "我的网格待办"))
    assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#nav a")] == ["工作台", "居民", "活动"]
    shot(driver, "09-work-grid-worker")
    assert time.monotonic() - started < 60
