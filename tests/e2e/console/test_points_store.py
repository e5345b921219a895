"""The console's 积分 and 积分超市 pages in a real browser against the real local stack: an admin awards points to a
resident (a refusal above the category's cap shown with the API's message), sees the entry in the member's
passbook, reverses it; a resident redeems goods and the store keeper verifies the pickup code at the counter (the
queue follows, the same code again is refused with the API's message), restocks an item and takes one off the
shelf and back. Every change is checked through the API; screenshots go to .cache/screens/."""
import time

import pytest

from tests.e2e.console.browser import By, EC, Keys, Select, alert_text, dev_login, open_page, shot, wait
from tests.stack import Client

pytestmark = pytest.mark.e2e

REASON = "参加周末楼道清洁（浏览器测试）"


def balance(client: Client) -> int:
    resp = client.call("GET", "/v1/me/points?limit=1")
    assert resp.status_code == 200, resp.text
    return resp.json()["balance"]


def test_points_and_store(stack, browser):
    started = time.monotonic()
    base, driver = stack.api_url, browser
    res2 = Client(base).login("res2")
    before = balance(res2)

    # 积分: find 居民2号, award 10 points (锦上添花 participation) with a reason.
    dev_login(driver, base, "admin", expect="社区书记老王")
    open_page(driver, "积分")
    search = wait(driver).until(EC.presence_of_element_located((By.ID, "pt-q")))
    search.send_keys("居民2号", Keys.ENTER)
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label='选择 居民2号']"))).click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "pt-balance"), str(before)))
    assert "/console/points?user=u_demo_res2" in driver.current_url
    category = Select(driver.find_element(By.ID, "pt-category"))
    category.select_by_value("participation")
    assert "单次最多 20" in category.first_selected_option.text  # the cap read from the community's settings
    points = driver.find_element(By.ID, "pt-points")
    points.send_keys("30")
    driver.find_element(By.ID, "pt-reason").send_keys(REASON)
    submit = driver.find_element(By.CSS_SELECTOR, "#pt-award button[type=submit]")
    submit.click()
    refused = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#pt-award .notice.error"))).text
    assert refused == "锦上添花单次最多奖励 20 积分", refused  # 409 AWARD_CAP_EXCEEDED, the API's own message
    assert balance(res2) == before
    shot(driver, "30-points-cap-refused")
    points.clear()
    points.send_keys("10")
    submit.click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "pt-award"), "已为 居民2号 发放 10 积分（锦上添花（参与））"))
    assert balance(res2) == before + 10
    # the passbook (GET /v1/admin/members/{id}/points) shows the new balance and the entry on top
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "pt-balance"), str(before + 10)))
    first = driver.find_element(By.CSS_SELECTOR, "table.pt-passbook tbody tr")
    cells = [td.text for td in first.find_elements(By.TAG_NAME, "td")]
    assert cells[1:5] == ["奖励", "+10", str(before + 10), f"锦上添花：{REASON}"], cells
    shot(driver, "31-points-awarded")

    # 撤销: the award taken back with a reason; the balance goes back, the entry is marked.
    first.find_element(By.CSS_SELECTOR, "button[aria-label^='撤销']").click()
    reason = wait(driver).until(EC.visibility_of_element_located((By.ID, "pt-reverse-reason")))
    driver.find_element(By.CSS_SELECTOR, "tr.pt-reverse button[type=submit]").click()  # no reason: asked for one
    wait(driver).until(EC.text_to_be_present_in_element((By.CSS_SELECTOR, "tr.pt-reverse"), "请填写撤销理由"))
    shot(driver, "32-points-reverse-ask")
    reason.send_keys("重复发放")
    driver.find_element(By.CSS_SELECTOR, "tr.pt-reverse button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "pt-book"), "已撤销这笔奖励，扣回 10 积分"))
    assert balance(res2) == before
    rows = driver.find_elements(By.CSS_SELECTOR, "table.pt-passbook tbody tr")
    top = [[td.text for td in row.find_elements(By.TAG_NAME, "td")] for row in rows[:2]]
    assert top[0][1:5] == ["奖励撤销", "-10", str(before), "奖励撤销：重复发放"], top
    assert top[1][1] == "奖励" and top[1][5] == "已撤销", top
    assert driver.find_element(By.ID, "pt-balance").text == str(before)
    shot(driver, "33-points-reversed")

    # the deep link opens the member's passbook
    driver.get(base + "/console/points?user=u_demo_res2")
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "pt-book"), "积分存折：居民2号"))
    assert "奖励撤销：重复发放" in driver.find_element(By.ID, "pt-book").text
    assert not alert_text(driver)

    # res1 (demo points) redeems goods of the demo store through the API.
    res1 = Client(base).login("res1")
    store_id = res1.call("GET", "/v1/stores").json()["items"][0]["id"]
    goods = res1.call("GET", f"/v1/stores/{store_id}/goods?limit=100").json()["items"]
    redemption = None
    for item in sorted(goods, key=lambda g: g["price_points"]):
        if item["on_shelf"] and item["stock"] > 0:
            resp = res1.call("POST", "/v1/redemptions", {"goods_id": item["id"]})
            if resp.status_code == 201:
                redemption, item_name = resp.json(), item["name"]
                break
    assert redemption, "res1 could redeem none of the demo goods"
    code = redemption["pickup_code"]

    # 积分超市 at the counter: store1 sees it waiting, types the code and Enter.
    dev_login(driver, base, "store1", expect="超市管理员张姐")
    open_page(driver, "积分超市")
    waiting = f"#st-queue tr[data-redemption='{redemption['id']}']"
    row = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, waiting)))
    assert item_name in row.text
    box = driver.find_element(By.ID, "st-code")
    assert driver.switch_to.active_element == box  # ready for the scanner
    shot(driver, "34-store-queue")
    box.send_keys(code.lower(), Keys.ENTER)  # as typed: case does not matter
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "st-result"), "核销成功"))
    result = driver.find_element(By.ID, "st-result").text
    assert f"{item_name} × 1" in result and "已核销" in result, result
    wait(driver).until(EC.invisibility_of_element_located((By.CSS_SELECTOR, waiting)))  # gone from 待领取
    assert box.get_attribute("value") == "" and driver.switch_to.active_element == box
    assert res1.call("GET", f"/v1/redemptions/{redemption['id']}").json()["status"] == "picked_up"
    shot(driver, "35-store-verified")
    box.send_keys(code, Keys.ENTER)  # the same code again: the API's refusal (409 INVALID_STATE)
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "st-result"), "兑换已领取，不能再操作"))
    assert "核销成功" not in driver.find_element(By.ID, "st-result").text
    shot(driver, "36-store-reused")
    # the 已核销 tab lists it
    driver.find_element(By.CSS_SELECTOR, "#st-queue button[data-tab=picked_up]").click()
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, waiting)))

    # 补货 +5 of the item, then off the shelf and back on: the API has the stock and the shelf.
    admin = Client(base).login("admin")
    stock_of = lambda: next(g for g in admin.call("GET", f"/v1/stores/{store_id}/goods?limit=100").json()["items"]
                            if g["id"] == redemption["goods"]["id"])
    stock = stock_of()["stock"]
    goods_row = f"#st-goods tr[data-goods='{redemption['goods']['id']}']"
    amount = driver.find_element(By.CSS_SELECTOR, f"{goods_row} input.restock")
    amount.send_keys("5", Keys.ENTER)
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "st-goods"), f"补货 +5，现库存 {stock + 5}"))
    assert stock_of()["stock"] == stock + 5
    assert driver.find_element(By.CSS_SELECTOR, f"{goods_row} td.stock").text == str(stock + 5)
    driver.execute_script("document.getElementById('st-goods').scrollIntoView()")
    shot(driver, "37-store-restocked")
    driver.find_element(By.CSS_SELECTOR, f"{goods_row} button[aria-label^='下架']").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "st-goods"), f"{item_name} 已下架"))
    assert stock_of()["on_shelf"] is False
    driver.find_element(By.CSS_SELECTOR, f"{goods_row} button[aria-label^='上架']").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "st-goods"), f"{item_name} 已上架"))
    assert stock_of()["on_shelf"] is True
    assert not alert_text(driver)

    # an admin adds goods to the store (the keeper has no such form)
    assert not driver.find_elements(By.CSS_SELECTOR, "form.st-add")
    dev_login(driver, base, "admin", expect="社区书记老王")
    driver.get(base + f"/console/store?store={store_id}")
    name = wait(driver).until(EC.presence_of_element_located((By.ID, "g-name")))
    name.send_keys("环保抹布")
    driver.find_element(By.ID, "g-price").send_keys("5")
    driver.find_element(By.ID, "g-stock").send_keys("7")
    driver.find_element(By.ID, "g-limit").send_keys("2")
    driver.find_element(By.CSS_SELECTOR, "form.st-add button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "st-goods"), "已新增商品「环保抹布」"))
    added = [g for g in admin.call("GET", f"/v1/stores/{store_id}/goods?limit=100").json()["items"] if g["name"] == "环保抹布"]
    assert [(g["price_points"], g["stock"], g["per_user_limit"], g["on_shelf"]) for g in added] == [(5, 7, 2, True)]
    shot(driver, "38-store-admin-goods-added")

    # a grid worker awards too, but cannot read the community's caps: the form says the API decides
    dev_login(driver, base, "grid1", expect="网格员小李")
    driver.get(base + "/console/points?user=u_demo_res2")
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "pt-book"), "积分存折：居民2号"))
    assert driver.find_element(By.ID, "pt-points-hint").text == "上限以社区设置为准"
    assert not driver.find_elements(By.CSS_SELECTOR, "table.pt-passbook button[aria-label^='撤销']")  # admins only
    assert not alert_text(driver)
    shot(driver, "39-points-grid-worker")
    assert time.monotonic() - started < 60
