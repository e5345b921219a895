"""活动 → 名单 → 补录 in a real browser against the local stack: the attendance of vol2, checked in on the 签到大屏 by
test_login_members_events.py (``CHECKED_IN``), is checked out 2 minutes on and settled from the roster. A module of
its own, named to run after the console's other modules, so that those 2 minutes pass while they run (when xdist
hands it to another worker than the check-in's, it checks vol2 in to an event of its own and waits the 2 minutes)."""
import time
from datetime import timedelta

import pytest

from tests.e2e.console.browser import By, EC, Select, shot, wait
from tests.e2e.console.test_login_members_events import CHECKED_IN
from tests.stack import Client

pytestmark = pytest.mark.e2e


def test_an_attendance_settled_from_the_roster(stack, browser):
    """活动 → 名单 → 补录: vol2 checked out (2 minutes after checking in on the 签到大屏), the organiser sets their
    minutes from the roster — beyond the bound the API's own message (the most it allows), then within it — and the
    API holds the minutes, the reason and an audit record."""
    from tests.e2e.console.browser import dev_login
    from tongxin.domain.clock import to_api, utcnow
    base, driver = stack.api_url, browser
    admin, volunteer = Client(base).login("admin"), Client(base).login("vol2")
    if not CHECKED_IN:  # run alone: an event of its own, checked in now
        start = utcnow() + timedelta(seconds=30)
        event = admin.call("POST", "/v1/events", {
            "title": "垃圾分类督导", "kind": "volunteer_service", "capacity": 10, "points_per_hour": 20,
            "starts_at": to_api(start), "ends_at": to_api(start + timedelta(hours=2))}).json()
        assert volunteer.call("POST", f"/v1/events/{event['id']}/signup").status_code == 201
        code = admin.call("GET", f"/v1/events/{event['id']}/qrcode?kind=rotating").json()["code"]
        assert volunteer.call("POST", "/v1/checkins", {"code": code}).json()["action"] == "check_in"
        CHECKED_IN.update(event_id=event["id"], at=time.monotonic())
    event_id = CHECKED_IN["event_id"]
    time.sleep(max(0.0, CHECKED_IN["at"] + 122 - time.monotonic()))
    code = admin.call("GET", f"/v1/events/{event_id}/qrcode?kind=rotating").json()["code"]
    out = volunteer.call("POST", "/v1/checkins", {"code": code})
    assert out.status_code == 200 and out.json()["action"] == "check_out", out.text

    dev_login(driver, base, "admin", expect="社区书记老王")
    driver.find_element(By.LINK_TEXT, "活动").click()
    Select(wait(driver).until(EC.presence_of_element_located((By.ID, "event-range")))).select_by_visible_text("过去 7 天开始的")
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "a[aria-label='垃圾分类督导 的名单']"))).click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "roster"), "名单：垃圾分类督导"))
    assert f"id={event_id}" in driver.current_url
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label='补录 志愿者2号 的时长']"))).click()
    minutes = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr.adjust-row input[name=minutes]")))
    minutes.clear()
    minutes.send_keys("9999")
    driver.find_element(By.CSS_SELECTOR, "tr.adjust-row input[name=reason]").send_keys("现场核实")
    driver.find_element(By.CSS_SELECTOR, "tr.adjust-row button[type=submit]").click()
    refused = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "tr.adjust-row .notice.error"))).text
    most = admin.call("POST", f"/v1/events/{event_id}/attendance/{volunteer.user['id']}/adjust",
                      {"minutes": 9999, "reason": "现场核实"}).json()["error"]
    assert refused == most["message"] and most["code"] == "ADJUSTMENT_OUT_OF_RANGE"
    shot(driver, "15-roster-adjust-refused")
    minutes.clear()
    minutes.send_keys(str(most["details"]["max"]))
    driver.find_element(By.CSS_SELECTOR, "tr.adjust-row button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "roster"), "已补录 志愿者2号 的时长"))
    shot(driver, "16-roster-adjusted")
    [entry] = [r for r in admin.call("GET", f"/v1/events/{event_id}/roster?status=checked_out").json()["items"]
               if r["user"]["id"] == volunteer.user["id"]]
    assert entry["minutes"] == most["details"]["max"]
    audit = admin.call("GET", "/v1/admin/audit").json()["items"][0]
    assert (audit["subject"]["id"], audit["reason"], audit["after"]["minutes"]) == (
        volunteer.user["id"], "现场核实", most["details"]["max"])
