"""The console's 共建项目 (群众评单) tab of 双报到 and an event's 承办单位, in a real browser against the local stack.
The admin records a co-project from the form — the demo unit 同心区人民医院 (its agreement is in force) with one of its
resources, a written need, serving 第1网格 only — after a date range the API refuses (its message shown); the list
shows it as GET /v1/co-projects answers (every figure compared); a 40 % progress report and 完成 (a confirm step with
a note) go through the detail's forms and its timeline; a resident of 第1网格 rates it over the API (one of 第2网格 is
refused) and the console shows the count and average as the API has them, and under them each rating with its
comment and rater as GET /v1/admin/co-projects/{id}/ratings answers (newest first). On 活动, an event published with the unit
from the form carries it in GET /v1/events/{id}, and the roster's 承办单位 clears it (unit_id null). Screenshots go to
.cache/screens/."""
import time
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.console.browser import By, EC, Select, alert_text, dev_login, open_page, shot, shown, wait
from tests.e2e.outside import ok
from tests.stack import Client, resident

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")
UNIT_ID = "unit_demo_hospital"  # the seed's unit, with an agreement with the demo community and two resources
STATUS = {"planned": "计划中", "in_progress": "进行中", "done": "已完成"}
GRIDS = {"g_demo1": "第1网格", "g_demo2": "第2网格"}


def day_name(iso: str) -> str:
    return f"{int(iso[:4])}年{int(iso[5:7])}月{int(iso[8:10])}日"


def when(iso: str) -> str:
    return f"{int(iso[5:7])}月{int(iso[8:10])}日 {iso[11:16]}"


def listed(p: dict) -> list[str]:
    """A project's row in the console's list, from the API's JSON."""
    return [p["title"], p["unit"]["name"], f"{day_name(p['starts_on'])}至 {day_name(p['ends_on'])}", f"{p['percent']}%",
            "、".join(GRIDS[g] for g in p["served_grid_ids"]) or "全社区", STATUS[p["status"]], str(p["ratings_count"]),
            "—" if p["rating_average"] is None else str(p["rating_average"]), "查看"]


def rating_rows(driver, list_id: str) -> list[list[str]]:
    """Each rating of the console's list ``list_id`` (coprojects.js's ratingItem): score, rater, when, comment."""
    return driver.execute_script(
        "return [...document.querySelectorAll(`#${arguments[0]} li`)].map((li) => [li.querySelector('.tag').textContent,"
        " li.querySelector('b').textContent, li.querySelector('time').textContent, li.querySelector('p').textContent])",
        list_id)


def rated(items: list[dict]) -> list[list[str]]:
    """The same, from the API's ratings (``…/ratings``)."""
    return [[f"{r['rating']} 分", r["rater"]["nickname"], when(r["created_at"]), r["comment"] or "只评了分，没有写评价"]
            for r in items]


def typed(driver, element_id: str, value: str) -> None:
    """A date or datetime-local field set as a person picking it would (the picker is not typeable alike everywhere)."""
    field = driver.find_element(By.ID, element_id)
    driver.execute_script("arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input'))", field, value)


def test_co_projects_tab(stack, browser, signs_out):
    started = time.monotonic()
    base, driver = stack.api_url, browser
    tag = uuid.uuid4().hex[:4]
    admin = Client(base).login("admin")
    today = datetime.now(SHANGHAI).date()
    resources = ok(admin.call("GET", f"/v1/units/{UNIT_ID}/resources", params={"limit": 100}))["items"]
    assert resources, "the seed's unit has resources"

    dev_login(driver, base, "admin", expect="社区书记老王")
    open_page(driver, "双报到")
    wait(driver).until(EC.element_to_be_clickable((By.ID, "tab-coprojects"))).click()
    wait(driver).until(lambda d: "tab=coprojects" in d.current_url and d.find_elements(By.CSS_SELECTOR, "#co-list table, #co-list p:not(:empty)")
                       and "正在加载" not in d.find_element(By.ID, "co-list").text)
    before = ok(admin.call("GET", "/v1/co-projects", params={"limit": 20}))["items"]

    # ---- 登记共建项目: a date range refused by the API first, then recorded ------------------------------------------------
    driver.find_element(By.ID, "co-new").click()
    title = wait(driver).until(EC.visibility_of_element_located((By.ID, "co-title")))
    units = Select(driver.find_element(By.ID, "co-unit"))
    signed = [u for u in ok(admin.call("GET", "/v1/admin/units", params={"limit": 100}))["items"] if u["agreement"] and u["agreement"]["valid"]]
    assert [o.text for o in units.options[1:]] == [u["name"] for u in signed]  # only the units with an agreement in force
    units.select_by_value(UNIT_ID)
    wait(driver).until(lambda d: len(Select(d.find_element(By.ID, "co-resource")).options) == len(resources) + 1
                       and d.find_element(By.ID, "co-resource").is_enabled())
    Select(driver.find_element(By.ID, "co-resource")).select_by_value(resources[0]["id"])
    posts = ok(admin.call("GET", "/v1/posts", params={"limit": 100}))["items"]
    assert [o.text for o in Select(driver.find_element(By.ID, "co-post")).options[1:]] == [p["title"] for p in posts]
    project_title = f"周末义诊进社区{tag}"
    title.send_keys(project_title)
    driver.find_element(By.ID, "co-need").send_keys("独居老人希望每月有人上门量血压、讲解用药")
    driver.find_element(By.ID, "co-beneficiaries").send_keys("第1网格的独居老人")
    driver.find_element(By.CSS_SELECTOR, "#co-grids input[value='g_demo1']").click()
    starts, bad_end = today.isoformat(), (today - timedelta(days=1)).isoformat()
    typed(driver, "co-starts", starts)
    typed(driver, "co-ends", bad_end)
    driver.find_element(By.CSS_SELECTOR, "#co-form button[type=submit]").click()
    refused = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#co-form .notice.error"))).text
    body = {"title": project_title, "need": {"text": "独居老人希望每月有人上门量血压、讲解用药"}, "unit_id": UNIT_ID,
            "resource_id": resources[0]["id"], "starts_on": starts, "ends_on": bad_end, "beneficiaries_note": "第1网格的独居老人",
            "served_grid_ids": ["g_demo1"]}
    bad = admin.call("POST", "/v1/admin/co-projects", body)
    assert bad.status_code == 400 and refused == bad.json()["error"]["message"], (refused, bad.text)
    assert bad.json()["error"]["details"]["field"] == "ends_on"
    assert driver.switch_to.active_element.get_attribute("id") == "co-ends"  # the field named is focused
    assert ok(admin.call("GET", "/v1/co-projects", params={"limit": 20}))["items"] == before  # nothing written
    shot(driver, "80-coprojects-form-refused")
    ends = (today + timedelta(days=60)).isoformat()
    typed(driver, "co-ends", ends)
    driver.find_element(By.CSS_SELECTOR, "#co-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "co-notice"), f"已登记共建项目“{project_title}”（同心区人民医院）"))
    items = ok(admin.call("GET", "/v1/co-projects", params={"limit": 20}))["items"]
    project = items[0]
    assert (project["title"], project["unit"]["id"], project["resource"]["id"], project["need"]["text"]) == (
        project_title, UNIT_ID, resources[0]["id"], "独居老人希望每月有人上门量血压、讲解用药")
    assert (project["starts_on"], project["ends_on"], project["served_grid_ids"], project["status"]) == (starts, ends, ["g_demo1"], "planned")
    wait(driver).until(lambda d: shown(d, "co-table") and shown(d, "co-table")[0][0] == project_title)
    assert shown(driver, "co-table") == [listed(p) for p in items]
    assert shown(driver, "co-table")[0][4] == "第1网格"  # the grid by its name, not its id
    wait(driver).until(EC.presence_of_element_located((By.ID, "co-timeline")))
    assert "id=" + project["id"] in driver.current_url
    shot(driver, "81-coprojects-list")

    # ---- 登记进展 40 %, then 完成 through its confirm step --------------------------------------------------------------
    driver.find_element(By.ID, "co-progress-note").send_keys("已为 3 栋、5 栋的 12 位老人上门量血压")
    percent = driver.find_element(By.ID, "co-progress-percent")
    percent.clear()
    percent.send_keys("40")
    driver.find_element(By.CSS_SELECTOR, "#co-progress button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "co-act-notice"), "已登记进展：40%"))
    detail = ok(admin.call("GET", f"/v1/co-projects/{project['id']}"))
    assert (detail["percent"], detail["status"], len(detail["timeline"])) == (40, "in_progress", 2)
    assert driver.find_element(By.ID, "co-percent").text == "40%"
    steps = [li.text for li in driver.find_elements(By.CSS_SELECTOR, "#co-timeline li")]
    assert len(steps) == 2 and "社区书记老王（管理员）" in steps[1] and "40%" in steps[1] and when(detail["timeline"][1]["at"]) in steps[1]
    assert "已为 3 栋、5 栋的 12 位老人上门量血压" in steps[1] and steps[0].startswith("登记项目")
    assert shown(driver, "co-table")[0] == listed(ok(admin.call("GET", "/v1/co-projects", params={"limit": 20}))["items"][0])
    shot(driver, "82-coprojects-progress")
    driver.find_element(By.ID, "co-complete").click()
    note = wait(driver).until(EC.visibility_of_element_located((By.ID, "co-complete-note")))
    assert ok(admin.call("GET", f"/v1/co-projects/{project['id']}"))["status"] == "in_progress"  # not before the confirm
    note.send_keys("第一期服务结束，共服务 20 位老人")
    driver.find_element(By.ID, "co-complete-yes").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "co-act-notice"), f"“{project_title}”已完成"))
    detail = ok(admin.call("GET", f"/v1/co-projects/{project['id']}"))
    assert (detail["status"], detail["percent"], detail["timeline"][-1]["note"]) == ("done", 100, "第一期服务结束，共服务 20 位老人")
    assert not driver.find_elements(By.ID, "co-progress") and not driver.find_elements(By.ID, "co-complete")

    # ---- 群众评单: residents of the served grid rate it; the console shows the API's count and average ------------------
    other_grid = resident(base, f"co_g2_{tag}", invite="DEMOGRID2")
    assert other_grid.call("POST", f"/v1/co-projects/{project['id']}/rating", {"rating": 1}).status_code == 403
    ok(resident(base, f"co_g1a_{tag}").call("POST", f"/v1/co-projects/{project['id']}/rating", {"rating": 4}), 201)
    ok(resident(base, f"co_g1b_{tag}").call("POST", f"/v1/co-projects/{project['id']}/rating", {"rating": 5, "comment": "很方便"}), 201)
    Select(driver.find_element(By.ID, "co-status")).select_by_value("done")
    done = ok(admin.call("GET", "/v1/co-projects", params={"status": "done", "limit": 20}))["items"]
    wait(driver).until(lambda d: "status=done" in d.current_url and shown(d, "co-table") == [listed(p) for p in done])
    assert (done[0]["id"], done[0]["ratings_count"], done[0]["rating_average"]) == (project["id"], 2, 4.5)
    driver.find_element(By.CSS_SELECTOR, f"#co-table tr[data-id='{project['id']}'] button.open").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "co-ratings"), "4.5 分（2 人）"))
    assert "2 位居民评价，平均 4.5 分" in driver.find_element(By.ID, "co-detail").text
    # The comments under the summary, newest first, as the staff's list route answers them.
    ratings = ok(admin.call("GET", f"/v1/admin/co-projects/{project['id']}/ratings"))
    assert [(r["rating"], r["comment"]) for r in ratings["items"]] == [(5, "很方便"), (4, None)]
    assert ratings["next_cursor"] is None
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#co-rating-list li")))
    assert rating_rows(driver, "co-rating-list") == rated(ratings["items"])
    assert not driver.find_elements(By.CSS_SELECTOR, "#co-rating-list button.more")  # one page: nothing more to load
    assert alert_text(driver) == ""
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    shot(driver, "83-coprojects-done-rated")
    assert driver.execute_script("return document.documentElement.scrollWidth") <= 1366  # nothing wider than the screen

    # ---- 活动: an event published with its 承办单位 from the form; cleared above its roster ---------------------------------
    open_page(driver, "活动")
    wait(driver).until(EC.element_to_be_clickable((By.ID, "new-event"))).click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "ev-unit")))
    start = (datetime.now(SHANGHAI) + timedelta(days=4)).replace(hour=14, minute=0, second=0, microsecond=0)
    driver.find_element(By.ID, "ev-title").send_keys(f"义诊进社区{tag}")
    typed(driver, "ev-start", start.strftime("%Y-%m-%dT%H:%M"))
    typed(driver, "ev-end", (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    assert [o.text for o in Select(driver.find_element(By.ID, "ev-unit")).options] == ["无（社区自办）"] + [u["name"] for u in signed]
    Select(driver.find_element(By.ID, "ev-unit")).select_by_value(UNIT_ID)
    shot(driver, "84-event-form-unit")
    driver.find_element(By.CSS_SELECTOR, ".event-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "roster"), f"名单：义诊进社区{tag}（0 人）"))
    event_id = driver.current_url.split("id=")[1]
    assert ok(admin.call("GET", f"/v1/events/{event_id}"))["unit"] == {"id": UNIT_ID, "name": "同心区人民医院"}
    assert Select(driver.find_element(By.ID, "event-unit-select")).first_selected_option.get_attribute("value") == UNIT_ID
    Select(driver.find_element(By.ID, "event-unit-select")).select_by_value("")
    driver.find_element(By.CSS_SELECTOR, "#event-unit button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "roster"), "已取消承办单位。"))
    assert ok(admin.call("GET", f"/v1/events/{event_id}"))["unit"] is None
    assert alert_text(driver) == ""
    shot(driver, "85-event-unit-cleared")
    assert time.monotonic() - started < 40
