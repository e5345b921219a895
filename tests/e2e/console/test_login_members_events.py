"""The staff console's pages (管理后台, /console/) in a real browser — Debian's Chromium driven by Selenium — against the
real local stack: dev-login, a member found and given a role, a setting changed (and one refused with the API's
message), the events and the 签到大屏 whose rotating code is read back from the screenshot and used to check a
volunteer in, the count on the screen following, the code changing within 35 s. Screenshots of every page go to
.cache/screens/ (to look at)."""
import re
import time
from datetime import timedelta

import pytest
import requests

from tests.e2e.console.browser import (SCREENS, By, EC, Keys, Select, alert_text, code_from_screenshot, image_loaded,
                                       shot, wait)
from tests.stack import Client

pytestmark = pytest.mark.e2e

# vol2's check-in to the event the 签到大屏 test made: test_roster_settle.py checks them out (a second scan is a
# check-out only 2 minutes after the first) and settles the attendance from the roster; it runs after the console's
# other modules (by name), so the 2 minutes pass while they run, not in a sleep.
CHECKED_IN: dict = {}


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

    # 居民: search, open a member, save their roles (a cookie write with its CSRF token).
    driver.find_element(By.LINK_TEXT, "居民").click()
    search = wait(driver).until(EC.presence_of_element_located((By.ID, "q")))
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "results"), "共"))  # the first page of the directory
    search.send_keys("志愿者3号")  # vol1 reported as a party member in the seed (党员报到)
    Select(driver.find_element(By.ID, "role")).select_by_visible_text("志愿者")
    driver.find_element(By.CSS_SELECTOR, "form[role=search] button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "results"), "共 1 人"))
    view = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label='查看 志愿者3号']")))
    assert "/console/members?q=" in driver.current_url
    view.click()
    # 党员 is not offered to someone who has not reported (党员报到 grants it); the roles saved as they are.
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "detail"), "党员身份经“党员报到”审核后获得"))
    assert not driver.find_elements(By.CSS_SELECTOR, "#detail input[value=party_member]")
    volunteer = driver.find_element(By.CSS_SELECTOR, "#detail input[value=volunteer]")
    assert volunteer.is_selected()
    driver.find_element(By.CSS_SELECTOR, "#detail button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "detail"), "角色已保存"))
    shot(driver, "03-members")
    admin = Client(base).login("admin")
    assert set(admin.call("GET", "/v1/admin/members/u_demo_vol3").json()["roles"]) == {"resident", "volunteer"}

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
    shown, first_src = time.monotonic(), image.get_attribute("src")
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "signed-count"), "1"))
    assert driver.find_element(By.ID, "checked-count").text == "0"
    (SCREENS / "08-code.png").write_bytes(image.screenshot_as_png)
    read = code_from_screenshot(image.screenshot_as_png)
    answer = volunteer.call("POST", "/v1/checkins", {"code": read})
    assert answer.status_code == 200 and answer.json()["action"] == "check_in", answer.text
    CHECKED_IN.update(event_id=event["id"], at=time.monotonic())  # checked out at the module's end (2 min on)
    wait(driver, 8).until(EC.text_to_be_present_in_element((By.ID, "checked-count"), "1"))
    shot(driver, "08-screen-checked-in")

    # The code on the wall changes with its 30-second step, well before it dies (60 s): within 35 s of showing.
    wait(driver, 36).until(lambda d: image.get_attribute("src") != first_src and image_loaded(d, image))
    assert time.monotonic() - shown <= 35
    renewed = code_from_screenshot(image.screenshot_as_png)
    assert renewed != read
    other = Client(base).login("vol1")
    assert other.call("POST", f"/v1/events/{event['id']}/signup").status_code == 201
    answer = other.call("POST", "/v1/checkins", {"code": renewed})
    assert answer.status_code == 200 and answer.json()["action"] == "check_in", answer.text
    wait(driver, 8).until(EC.text_to_be_present_in_element((By.ID, "checked-count"), "2"))

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
    assert [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#nav a")] == ["工作台", "居民", "心愿", "诉求", "活动", "积分"]
    shot(driver, "09-work-grid-worker")
    assert time.monotonic() - started < 100


def test_scan_login_approved_from_the_mini_program(stack, browser):
    """The real login, without dev-login: the page's code carries a ticket; the mini-program (a Bearer token) approves
    the scene's ticket id; the page's poll collects the session and shows the 工作台. A resident's approval is refused
    and the page keeps waiting."""
    base, driver = stack.api_url, browser
    driver.get(base + "/console/")
    wait(driver).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".login img.code")
                       or d.execute_script("return !document.getElementById('top').hidden"))
    if not driver.find_elements(By.CSS_SELECTOR, ".login img.code"):  # signed in from an earlier test: log out
        driver.find_element(By.ID, "logout").click()
    code = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".login img.code")))
    wait(driver).until(lambda d: image_loaded(d, code))
    ticket = re.search(r"/v1/console/sessions/([^/]+)/qrcode", code.get_attribute("src")).group(1)
    scene_id = requests.utils.unquote(ticket).split(".")[0]  # what the code's scene (lg=<id>) gives the phone
    resident = Client(base).login("res1")
    refused = resident.call("POST", f"/v1/console/sessions/{scene_id}/approve")
    assert refused.status_code == 403, refused.text
    time.sleep(2.5)  # a poll or more: still the login page
    assert driver.find_elements(By.CSS_SELECTOR, ".login img.code")
    approved = Client(base).login("grid1").call("POST", f"/v1/console/sessions/{scene_id}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    wait(driver, 8).until(EC.text_to_be_present_in_element((By.ID, "who"), "网格员小李"))
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "main"), "我的网格待办"))
    cookies = {c["name"]: c for c in driver.get_cookies()}
    assert cookies["tongxin_console"]["httpOnly"] and cookies["tongxin_console"]["sameSite"] == "Strict"
    shot(driver, "10-scan-login-approved")
    again = Client(base).login("admin").call("POST", f"/v1/console/sessions/{scene_id}/approve")
    assert again.status_code in (404, 409), again.text  # single use: approved, then collected


def test_an_event_published_from_the_console(stack, browser):
    """活动 → 发布活动: a refusal named by the API (an event longer than 24 h), then the event published, its roster
    opened; the API holds it as typed (Beijing time); the roster exports as CSV, the month's hours link is there."""
    from tests.e2e.console.browser import dev_login
    from tongxin.domain.clock import SHANGHAI, utcnow
    base, driver = stack.api_url, browser
    dev_login(driver, base, "admin", expect="社区书记老王")
    driver.find_element(By.LINK_TEXT, "活动").click()
    wait(driver).until(EC.element_to_be_clickable((By.ID, "new-event"))).click()
    title = wait(driver).until(EC.presence_of_element_located((By.ID, "ev-title")))
    start = (utcnow().astimezone(SHANGHAI) + timedelta(days=3)).replace(hour=9, minute=30, second=0, microsecond=0)

    def typed(element_id: str, moment) -> None:  # a datetime-local field, typed as a person would
        field = driver.find_element(By.ID, element_id)
        driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))",
                              field, moment.strftime("%Y-%m-%dT%H:%M"))

    title.send_keys("冬季消防安全演练")
    Select(driver.find_element(By.ID, "ev-kind")).select_by_visible_text("社区活动")
    typed("ev-start", start)
    typed("ev-end", start + timedelta(hours=30))
    driver.find_element(By.ID, "ev-capacity").clear()
    driver.find_element(By.ID, "ev-capacity").send_keys("40")
    driver.find_element(By.CSS_SELECTOR, ".event-form button[type=submit]").click()
    refused = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".event-form .notice.error"))).text
    assert "24" in refused, refused  # the API's own message
    shot(driver, "11-event-form-refused")
    typed("ev-end", start + timedelta(hours=2))
    driver.find_element(By.CSS_SELECTOR, ".event-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "roster"), "名单：冬季消防安全演练（0 人）"))
    event_id = driver.current_url.split("id=")[1]
    event = Client(base).login("admin").call("GET", f"/v1/events/{event_id}").json()
    assert (event["title"], event["capacity"], event["kind"]) == ("冬季消防安全演练", 40, "activity")
    assert event["starts_at"] == start.isoformat() and event["ends_at"] == (start + timedelta(hours=2)).isoformat()
    link = driver.find_element(By.ID, "export-hours").get_attribute("href")
    assert "/v1/admin/exports/volunteer-hours?month=" in link
    shot(driver, "12-event-published")


def test_an_invite_poster_is_made_and_printed(stack, browser):
    """居民 → 邀请居民: an invite of a grid; the poster's QR, read off the screen, is the link WeChat's scanner opens
    (<QR_LINK_BASE>/i/<code>) and joins that grid; printed, the poster stands alone on the page."""
    from tests.e2e.console.browser import dev_login
    base, driver = stack.api_url, browser
    dev_login(driver, base, "admin", expect="社区书记老王")
    driver.find_element(By.LINK_TEXT, "居民").click()
    Select(wait(driver).until(EC.presence_of_element_located((By.ID, "invite-grid")))).select_by_index(1)
    driver.find_element(By.CSS_SELECTOR, ".invites button[type=submit]").click()
    image = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, ".poster img")))
    wait(driver).until(lambda d: image_loaded(d, image))
    link = code_from_screenshot(image.screenshot_as_png)
    assert re.fullmatch(r"https?://[^ ]+/i/[A-Za-z0-9]+", link), link
    code = link.rsplit("/", 1)[1]
    assert f"邀请码 {code}" in driver.find_element(By.CSS_SELECTOR, ".poster").text
    grid = Select(driver.find_element(By.ID, "invite-grid")).first_selected_option.get_attribute("value")
    joined = Client(base).login("newcomer7").call("POST", "/v1/me/community", {"invite": link})  # the whole link
    assert joined.status_code == 200 and joined.json()["user"]["grid_id"] == grid, joined.text
    shot(driver, "13-invite-poster")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        assert not driver.find_element(By.ID, "top").is_displayed()
        assert not driver.find_element(By.CSS_SELECTOR, ".invites form").is_displayed()
        assert driver.find_element(By.CSS_SELECTOR, ".poster").is_displayed()
        shot(driver, "14-invite-poster-printed")
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
