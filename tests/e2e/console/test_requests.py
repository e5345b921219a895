"""The console's 诉求 page (接诉即办) in a real browser against the local stack: a resident files a request; the grid
worker sees it in their queue with its clock, opens it, answers it (响应) and escalates it (上报) with a reason — the
API then holds both steps in the timeline; a step refused because the request moved on shows the API's message in
place; the admin finds it in the community's queue (and opens it by its deep link) and escalates it to the street;
the street's staff see it in theirs. Screenshots of the queue and the detail for each of them."""
import re
import time

import pytest

from tests.e2e.console.browser import By, EC, Select, alert_text, dev_login, open_page, shot, wait
from tests.stack import Client

pytestmark = pytest.mark.e2e


def row(driver, request_id: str):
    return wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#queue tr[data-id='{request_id}']")))


def cells(driver, request_id: str) -> list[str]:
    return [td.text for td in row(driver, request_id).find_elements(By.TAG_NAME, "td")]


def detail_shows(driver, text: str) -> None:
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "request-detail"), text))


def test_requests_page(stack, browser):
    started = time.monotonic()
    base, driver = stack.api_url, browser
    resident = Client(base).login("res1")
    filed = resident.call("POST", "/v1/requests", {"category": "设施维修", "content": "3号楼楼道灯坏了",
                                                    "location": {"address": "3号楼2单元门口"}})
    assert filed.status_code == 201, filed.text
    request = filed.json()
    rid = request["id"]
    urgent = Client(base).login("res2").call("POST", "/v1/requests", {"category": "治安隐患", "content": "东门的门禁坏了，外人随便进出",
                                                                      "urgent": True})
    assert urgent.status_code == 201, urgent.text
    urgent = urgent.json()

    # grid1: the grid's queue, each request with its clock (a fresh one: green, the whole answer limit left).
    dev_login(driver, base, "grid1", expect="网格员小李")
    open_page(driver, "诉求")
    mine = cells(driver, rid)
    assert mine[0] == "设施维修" and mine[1] == "3号楼楼道灯坏了" and "居民1号" in mine[2] and "第1网格" in mine[2]
    assert mine[3] == "待响应" and mine[4] == "网格"
    assert re.match(r"剩 1 小时 5\d 分\n响应时限 ", mine[5]), mine[5]
    assert "ok" in row(driver, rid).find_element(By.CSS_SELECTOR, ".clock").get_attribute("class")
    hurry = cells(driver, urgent["id"])
    assert hurry[0] == "紧急治安隐患" and re.match(r"剩 (2\d|30) 分钟", hurry[5]), hurry
    order = [tr.get_attribute("data-id") for tr in driver.find_elements(By.CSS_SELECTOR, "#queue tbody tr")]
    assert order.index(urgent["id"]) < order.index(rid)  # the most urgent deadline first, as the API orders it
    shot(driver, "30-requests-grid1-queue")

    # Open it: content, place, author, the timeline; 响应 (accept) from the keyboard-reachable button.
    row(driver, rid).find_element(By.CSS_SELECTOR, "a.open").click()
    detail_shows(driver, "3号楼2单元门口")
    assert driver.current_url.endswith(f"/console/requests?id={rid}")
    assert driver.switch_to.active_element.get_attribute("id") == "request-title"
    text = driver.find_element(By.ID, "request-detail").text
    assert "3号楼楼道灯坏了" in text and "居民1号" in text and "提交诉求" in text and "居民1号（居民）" in text
    assert [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#request-detail .act button")] == ["响应", "上报"]
    shot(driver, "31-requests-grid1-detail")
    driver.find_element(By.ID, "do-accept").click()
    detail_shows(driver, "已响应，请尽快办理")
    detail_shows(driver, "处理中")
    assert [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#request-detail .act button")] == ["上报", "办结"]
    assert driver.switch_to.active_element.get_attribute("id") == "open-escalate"  # the keyboard is on the next step
    wait(driver).until(lambda d: "处理中" in cells(d, rid)[3])  # the queue read again
    assert re.match(r"剩 2 天 2\d 小时\n办结时限 ", cells(driver, rid)[5])  # now the solve limit's clock

    # 上报 (escalate) with its required reason.
    driver.switch_to.active_element.click()
    reason = wait(driver).until(EC.visibility_of_element_located((By.ID, "escalate-text")))
    assert driver.switch_to.active_element == reason
    driver.find_element(By.CSS_SELECTOR, ".step-form button[type=submit]").click()  # empty: refused on the page
    detail_shows(driver, "请填写上报理由")
    reason.send_keys("需要物业更换线路，网格无法处理")
    shot(driver, "32-requests-grid1-escalate")
    driver.find_element(By.CSS_SELECTOR, ".step-form button[type=submit]").click()
    detail_shows(driver, "已上报社区（吹哨），等待社区响应")
    detail_shows(driver, "理由：需要物业更换线路，网格无法处理")
    assert "此诉求现由社区办理" in driver.find_element(By.ID, "request-detail").text
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"#queue tr[data-id='{rid}']"))  # left the queue
    admin = Client(base).login("admin")
    seen = admin.call("GET", f"/v1/requests/{rid}").json()
    assert (seen["status"], seen["level"], seen["levels_reached"]) == ("escalated", "community", ["grid", "community"])
    assert [(s["action"], s["level"], s["actor"]["nickname"], s["note"]) for s in seen["timeline"][1:]] == [
        ("accept", "grid", "网格员小李", None), ("escalate", "grid", "网格员小李", "需要物业更换线路，网格无法处理")]

    # A step refused because the request moved on meanwhile: the API's message in place, the detail as it is now.
    row(driver, urgent["id"]).click()
    detail_shows(driver, "东门的门禁坏了")
    assert Client(base).login("grid1").call("POST", f"/v1/requests/{urgent['id']}/accept").status_code == 200
    driver.find_element(By.ID, "do-accept").click()
    detail_shows(driver, "诉求当前为“处理中”，不能进行此操作")
    assert [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#request-detail .act button")] == ["上报", "办结"]
    assert alert_text(driver) == ""

    # admin: the community's queue holds it, with a fresh answer clock at the community; its deep link opens it.
    dev_login(driver, base, "admin", expect="社区书记老王")
    open_page(driver, "诉求")
    theirs = cells(driver, rid)
    assert theirs[3] == "已吹哨待报到" and theirs[4] == "社区" and re.match(r"剩 1 小时 5\d 分", theirs[5]), theirs
    assert driver.find_element(By.CSS_SELECTOR, "[data-view=queue]").get_attribute("aria-pressed") == "true"
    shot(driver, "33-requests-admin-queue")
    driver.find_element(By.CSS_SELECTOR, "[data-view=all]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "queue-title"), "全部诉求"))
    assert cells(driver, urgent["id"])[4] == "网格"  # every request of the community, the grid's too
    driver.get(f"{base}/console/requests?id={rid}")
    detail_shows(driver, "理由：需要物业更换线路，网格无法处理")
    assert [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#request-detail .act button")] == ["响应", "上报"]
    steps = driver.find_elements(By.CSS_SELECTOR, "ol.timeline li")
    assert len(steps) == 3 and "网格员小李（网格员）" in steps[2].text and "吹哨" in steps[2].text
    shot(driver, "34-requests-admin-detail")
    driver.find_element(By.ID, "open-escalate").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "escalate-text"))).send_keys("涉及市政线路，请街道协调")
    driver.find_element(By.CSS_SELECTOR, ".step-form button[type=submit]").click()
    detail_shows(driver, "已上报街道（吹哨），等待街道响应")
    assert admin.call("GET", f"/v1/requests/{rid}").json()["level"] == "street"

    # street1: the street's queue, without error, holds it; its detail with the whole timeline.
    dev_login(driver, base, "street1", expect="街道工作人员小周")
    open_page(driver, "诉求")
    theirs = cells(driver, rid)
    assert theirs[4] == "街道" and "同心示范社区" in theirs[2] and theirs[5].startswith("剩 "), theirs
    assert alert_text(driver) == ""
    shot(driver, "35-requests-street1-queue")
    row(driver, rid).click()
    detail_shows(driver, "涉及市政线路，请街道协调")
    assert [b.text for b in driver.find_elements(By.CSS_SELECTOR, "#request-detail .act button")] == ["响应", "上报"]
    assert len(driver.find_elements(By.CSS_SELECTOR, "ol.timeline li")) == 4
    assert alert_text(driver) == ""
    shot(driver, "36-requests-street1-detail")

    # 街呼区应: the street sends it on to a department of its district, named in the form (required).
    driver.find_element(By.ID, "open-escalate").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "escalate-text"))).send_keys("需要城管执法")
    driver.find_element(By.CSS_SELECTOR, ".step-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#request-detail"), "请选择区直部门"))
    Select(driver.find_element(By.ID, "escalate-department")).select_by_visible_text("城管局")
    driver.find_element(By.CSS_SELECTOR, ".step-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#request-detail"), "已上报区直部门"))
    seen = Client(base).login("street1").call("GET", f"/v1/requests/{rid}").json()
    assert (seen["level"], seen["department"]["name"]) == ("department", "城管局"), seen
    shot(driver, "37-requests-street1-to-department")

    # dept1 (城管局): the department's queue holds it; they answer it (响应).
    dev_login(driver, base, "dept1", expect="城管局")
    open_page(driver, "诉求")
    row(driver, rid).click()
    detail_shows(driver, "需要城管执法")
    driver.find_element(By.ID, "do-accept").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "#request-detail"), "已响应"))
    assert Client(base).login("dept1").call("GET", f"/v1/requests/{rid}").json()["status"] == "accepted"
    assert alert_text(driver) == ""
    shot(driver, "38-requests-dept1-accepted")
    assert time.monotonic() - started < 60
