"""The console's 心愿 and 统计 pages in a real browser against the local stack: wishes a resident published wait for
review (the community's review setting on), the admin approves one and rejects another with a reason (both checked
through the API); 统计 shows this month's wish count as the API counts it, exports a chart's CSV (the file read
back), and the street's staff see their street's statistics. Screenshots go to .cache/screens/."""
import time
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.console.browser import By, EC, Select, alert_text, dev_login, open_page, shot, wait
from tests.stack import Client

pytestmark = pytest.mark.e2e


def text_of(driver, css: str) -> str:
    return driver.execute_script("return document.querySelector(arguments[0])?.textContent || ''", css)


def test_wishes_review_and_stats(stack, browser, tmp_path):
    started = time.monotonic()
    base, driver = stack.api_url, browser
    admin = Client(base).login("admin")
    review_before = admin.call("GET", "/v1/admin/community").json()["settings"]["wish_review_required"]
    if not review_before:
        assert admin.call("PATCH", "/v1/admin/community", {"wish_review_required": True}).status_code == 200
    try:
        # A resident publishes two wishes: with review on, both wait for it.
        resident = Client(base).login("res1")
        stamp = time.strftime("%H%M%S")
        titles = {"ok": f"帮忙搬花盆{stamp}", "no": f"代取快递{stamp}"}
        ids = {}
        for key, title in titles.items():
            resp = resident.call("POST", "/v1/wishes", {"title": title, "content": f"{title}，谢谢邻居们",
                                                       "category": "生活帮扶", "contact_phone": "13800138000"})
            assert resp.status_code == 201, resp.text
            assert resp.json()["status"] == "pending_review"
            ids[key] = resp.json()["id"]

        # 心愿 filtered to 待审核: the wish is listed with its author and grid; open it and approve it.
        dev_login(driver, base, "admin", expect="社区书记老王")
        open_page(driver, "心愿")
        Select(wait(driver).until(EC.presence_of_element_located((By.ID, "wish-status")))).select_by_visible_text("待审核")
        row = wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"button[data-wish='{ids['ok']}']")))
        assert "status=pending_review" in driver.current_url
        line = row.find_element(By.XPATH, "ancestor::tr").text
        assert titles["ok"] in line and "居民1号" in line and "第1网格" in line and "待审核" in line, line
        shot(driver, "40-wishes-pending")
        row.click()
        wait(driver).until(EC.text_to_be_present_in_element((By.ID, "wish-title"), titles["ok"]))
        assert "13800138000" in text_of(driver, "#wish-detail")  # the admin sees the contact unmasked
        assert f"id={ids['ok']}" in driver.current_url
        driver.find_element(By.ID, "approve-wish").click()
        wait(driver).until(EC.text_to_be_present_in_element((By.ID, "wish-detail"), "已通过"))
        assert admin.call("GET", f"/v1/wishes/{ids['ok']}").json()["status"] == "open"
        wait(driver).until(EC.invisibility_of_element_located((By.CSS_SELECTOR, f"button[data-wish='{ids['ok']}']")))
        assert "待认领" in text_of(driver, "#wish-detail .wish-card")
        shot(driver, "41-wishes-approved")

        # The other, opened by its link, rejected with a reason the resident will read.
        driver.get(f"{base}/console/wishes?status=pending_review&id={ids['no']}")
        wait(driver).until(EC.text_to_be_present_in_element((By.ID, "wish-title"), titles["no"]))
        reason = "快递请到驿站自取，社区暂不代取"
        driver.find_element(By.ID, "reject-reason").send_keys(reason)
        driver.find_element(By.ID, "reject-wish").click()
        wait(driver).until(EC.text_to_be_present_in_element((By.ID, "wish-detail"), "已驳回"))
        rejected = admin.call("GET", f"/v1/wishes/{ids['no']}").json()
        assert rejected["status"] == "rejected" and rejected["reject_reason"] == reason
        assert reason in text_of(driver, "#wish-detail .wish-history")
        assert alert_text(driver) == ""
        shot(driver, "42-wishes-rejected")

        # 统计: this month's wishes in the chart are the API's count; the chart's CSV downloads with it.
        open_page(driver, "统计")
        month = datetime.now(ZoneInfo("Asia/Shanghai")).strftime("%Y-%m")
        cell = wait(driver).until(EC.presence_of_element_located(
            (By.XPATH, f"//figure[@id='chart-wishes-month']//table//tr[th='{month}']/td")))
        expected = admin.call("GET", "/v1/admin/stats").json()["wishes"]["by_month"][month]
        assert expected >= 2
        assert cell.get_attribute("textContent") == str(expected)
        plot = driver.find_element(By.CSS_SELECTOR, "#chart-wishes-month svg")
        assert f"{int(month[:4])}年{int(month[5:])}月 {expected} 件" in plot.get_attribute("aria-label")
        assert str(expected) in [t.get_attribute("textContent") for t in plot.find_elements(By.CSS_SELECTOR, "text.value")]
        assert driver.find_element(By.CSS_SELECTOR, ".rate-value[data-rate=resolution_rate]").text  # the three rates show
        shot(driver, "45-stats-admin")
        # where Chromium saves the download (the new headless mode takes the browser-wide command; Page's is older)
        for command in ("Browser.setDownloadBehavior", "Page.setDownloadBehavior"):
            driver.execute_cdp_cmd(command, {"behavior": "allow", "downloadPath": str(tmp_path)})
        driver.find_element(By.CSS_SELECTOR, "button[aria-label='导出 CSV：心愿按月']").click()
        wait(driver).until(lambda d: [p for p in tmp_path.glob("心愿-按月-*.csv")])
        csv = next(tmp_path.glob("心愿-按月-*.csv"))
        assert csv.name.endswith(f"至{month}.csv"), csv.name
        lines = csv.read_text(encoding="utf-8-sig").splitlines()
        assert lines[0] == "月份,心愿数" and f"{month},{expected}" in lines, lines

        # The street's staff: the requests statistics of their street, per community and month, without an error.
        raised = Client(base).login("res3").call("POST", "/v1/requests", {"category": "设施维修", "content": "3号楼路灯不亮"})
        assert raised.status_code == 201, raised.text
        street = Client(base).login("street1").call("GET", "/v1/admin/requests/stats").json()
        dev_login(driver, base, "street1", expect="街道工作人员小周")
        open_page(driver, "统计")
        table = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#chart-rates-community table")))
        first = street["by_community"][0]
        row = table.find_element(By.XPATH, f".//tr[th='{first['name']}']").text
        assert first["received"] >= 1 and row.split()[1] == str(first["received"]), row
        received = driver.find_element(By.XPATH, f"//figure[@id='chart-requests-month']//table//tr[th='{month}']/td[1]")
        assert received.get_attribute("textContent") == str(street["by_month"][month]["received"])
        assert "诉求（接诉即办） · 全街道" in text_of(driver, "#stats-body")
        assert not driver.find_elements(By.ID, "chart-wishes-month")  # the community's own statistics are the admin's
        # the street's communities side by side: the demo community's row as GET /v1/street/stats has it
        rollup = Client(base).login("street1").call("GET", "/v1/street/stats").json()
        demo = next(r for r in rollup["items"] if r["community"]["name"] == "同心示范社区")
        cells = driver.find_element(By.XPATH, "//figure[@id='chart-rollup']//tr[th='同心示范社区']").text.split()
        assert cells[1] == str(demo["wishes"]) and cells[2] == str(demo["volunteers"]), cells
        assert cells[7] == str(demo["requests"]) and demo["requests"] >= 1, cells
        assert driver.find_element(By.XPATH, "//figure[@id='chart-rollup']//tr[th='合计']")
        assert alert_text(driver) == ""
        shot(driver, "46-stats-street")
    finally:
        if not review_before:
            admin.call("PATCH", "/v1/admin/community", {"wish_review_required": False})
    assert time.monotonic() - started < 40
