"""The console's 通报 page in a real browser against the local stack: the street's staff (street1) see their street's
communities ranked as GET /v1/street/bulletin has them (names, counts, rates, the 通报 mark), download the server's own
CSV (format=csv), go back a month, and read the street's 汇总 as GET /v1/street/stats has it; the district's staff
(district1) see the district's streets, departments and communities and the district's 汇总 per street. Someone made
street AND district staff by the operator's commands sees both; once the district is taken from them the API's 403
is shown in its place, and with neither role the menu has no 通报. Every figure is compared with the API's JSON read
over HTTP in the same test. Screenshots go to .cache/screens/."""
import math
import subprocess
import sys
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.console.browser import By, EC, Select, alert_text, dev_login, open_page, shot, shown, wait
from tests.stack import ROOT, Client, stack_env

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")
STREET, DISTRICT = "st_demo", "dt_demo"
RATES = (("response_rate", "响应率"), ("resolve_rate", "解决率"), ("satisfaction_rate", "满意率"))
COUNTS = ("received", "answered_on_time", "resolved_on_time", "overdue", "extended")
ROLLUP = ("wishes", "volunteers", "volunteer_minutes", "events", "points_issued", "points_redeemed", "requests")
ROLLUP_RATES = ("response_rate", "resolution_rate", "satisfaction_rate")


def pct(rate) -> str:
    """The page's form of a rate: one decimal, half up; — when null."""
    return "—" if rate is None else f"{math.floor(rate * 1000 + 0.5) / 10:.1f}%"


def month_name(key: str) -> str:
    return f"{int(key[:4])}年{int(key[5:])}月"


def bulletin_rows(rows: list[dict], ref: str, thresholds: dict) -> list[list[str]]:
    """What the page must show for the API's rows, in the API's (rank) order."""
    out = []
    for r in rows:
        below = "、".join(f"{label}低于{thresholds[key]}%" for key, label in RATES if key in r["below"])
        flag = f"通报{below}" if r["flagged"] else ("本月无诉求" if r["rank"] is None else "")
        out.append(["—" if r["rank"] is None else str(r["rank"]), r[ref]["name"], *(str(r[k]) for k in COUNTS),
                    *(pct(r[k]) for k, _ in RATES), flag])
    return out


def rollup_rows(view: dict, ref: str, extra: tuple[str, ...] = ()) -> list[list[str]]:
    def cells(r):
        return [*(str(r[k]) for k in extra), *(f"{r[k] / 60:.1f}" if k == "volunteer_minutes" else str(r[k]) for k in ROLLUP),
                *(pct(r[k]) for k in ROLLUP_RATES)]
    total = dict(view["total"], communities=sum(r.get("communities", 0) for r in view["items"]))
    return [[r[ref]["name"], *cells(r)] for r in view["items"]] + [["合计", *cells(total)]]


def last_30_days() -> dict:
    """The page's default 汇总 window: the last 30 Shanghai days, today included."""
    today = datetime.now(SHANGHAI).date()
    return {"from": f"{today - timedelta(days=29)}T00:00:00+08:00", "to": f"{today}T23:59:59+08:00"}


def operator(stack, *argv: str) -> None:
    """The platform operator's command (python -m tongxin.cli) as the README runs it, finding this stack by its
    endpoints file (in the folder it was started with, beside its log)."""
    env = {**stack_env(), "TONGXIN_STAGE": "dev", "TONGXIN_LOCAL_DATA": str(stack.log.parent / "data")}
    done = subprocess.run([sys.executable, "-m", "tongxin.cli", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def wait_title(driver, element_id: str, text: str) -> None:
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, element_id), text))


def test_bulletin_page(stack, browser, signs_out, tmp_path):
    started = time.monotonic()
    base, driver = stack.api_url, browser
    this_month = datetime.now(SHANGHAI).strftime("%Y-%m")
    first = datetime.now(SHANGHAI).replace(day=1)
    last_month = (first - timedelta(days=1)).strftime("%Y-%m")
    # A request this month: the demo community has something to rank (and, unresolved, its 解决率 under the line).
    filed = Client(base).login("res5").call("POST", "/v1/requests", {"category": "环境卫生", "content": "5号楼垃圾桶满了没人清"})
    assert filed.status_code == 201, filed.text

    # ---- street1: the street's communities, as the API ranks them ----------------------------------------------------
    street = Client(base).login("street1")
    view = street.call("GET", "/v1/street/bulletin").json()
    assert view["month"] == this_month and view["street"]["name"] == "同心街道"
    demo = next(r for r in view["items"] if r["community"]["name"] == "同心示范社区")
    assert demo["received"] >= 1 and demo["flagged"] and "resolve_rate" in demo["below"], demo
    dev_login(driver, base, "street1", expect="街道工作人员小周")
    open_page(driver, "通报")
    wait(driver).until(EC.presence_of_element_located((By.ID, "bulletin-street-communities")))
    assert driver.find_element(By.TAG_NAME, "h1").text == "通报"
    assert "同心街道" in driver.find_element(By.ID, "bulletin-street-title").text
    assert shown(driver, "bulletin-street-communities") == bulletin_rows(view["items"], "community", view["thresholds"])
    flagged = driver.find_element(By.CSS_SELECTOR, f"#bulletin-street-communities tr[data-id='{demo['community']['id']}']")
    assert "flagged" in flagged.get_attribute("class")
    assert flagged.find_element(By.CSS_SELECTOR, ".tag.flag").text == "通报"
    note = driver.find_element(By.CSS_SELECTOR, "#bulletin-street .unit-note").text
    assert ("已定稿" if view["final"] else "实时") in driver.find_element(By.CSS_SELECTOR, "#bulletin-street .unit-head").text
    assert view["final"] or "本月未结束" in note
    t = view["thresholds"]
    assert f"响应率 {t['response_rate']}%" in note and f"解决率 {t['resolve_rate']}%" in note and f"满意率 {t['satisfaction_rate']}%" in note
    assert Select(driver.find_element(By.ID, "bulletin-month")).first_selected_option.text == month_name(this_month)
    assert alert_text(driver) == ""
    shot(driver, "50-bulletin-street")

    # 导出 CSV: the server's file (format=csv), byte for byte what the API answers.
    link = driver.find_element(By.ID, "bulletin-street-csv")
    assert f"/v1/street/bulletin?month={this_month}&format=csv" in link.get_attribute("href")
    server = street.call("GET", "/v1/street/bulletin", params={"month": this_month, "format": "csv"})
    assert server.status_code == 200 and server.headers["Content-Type"].startswith("text/csv"), server.headers
    for command in ("Browser.setDownloadBehavior", "Page.setDownloadBehavior"):
        driver.execute_cdp_cmd(command, {"behavior": "allow", "downloadPath": str(tmp_path)})
    link.click()
    wait(driver).until(lambda d: [p for p in tmp_path.glob("*.csv")])
    saved = next(tmp_path.glob("*.csv"))
    assert saved.read_bytes() == server.content
    assert saved.read_text(encoding="utf-8-sig").splitlines()[0].startswith("社区,收到,按时响应,按时办结,超期,延期,响应率,解决率,满意率")

    # The month before: the page asks for it, the tables are the API's for that month.
    before = street.call("GET", "/v1/street/bulletin", params={"month": last_month}).json()
    Select(driver.find_element(By.ID, "bulletin-month")).select_by_value(last_month)
    wait_title(driver, "bulletin-street-title", month_name(last_month))
    assert f"month={last_month}" in driver.current_url
    assert shown(driver, "bulletin-street-communities") == bulletin_rows(before["items"], "community", before["thresholds"])
    assert ("已定稿" if before["final"] else "实时") in driver.find_element(By.CSS_SELECTOR, "#bulletin-street .unit-head").text
    assert f"month={last_month}&format=csv" in driver.find_element(By.ID, "bulletin-street-csv").get_attribute("href")

    # 汇总: the street's communities over the last 30 days, as GET /v1/street/stats has them.
    rollup = street.call("GET", "/v1/street/stats", params=last_30_days()).json()
    driver.find_element(By.ID, "tab-rollup").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "rollup-street-communities")))
    assert shown(driver, "rollup-street-communities") == rollup_rows(rollup, "community")
    assert "tab=rollup" in driver.current_url and alert_text(driver) == ""
    shot(driver, "51-bulletin-street-rollup")

    # ---- district1: streets, departments, communities; 汇总 per street -------------------------------------------------
    district = Client(base).login("district1")
    dview = district.call("GET", "/v1/district/bulletin").json()
    assert dview["district"]["name"] == "同心区"
    assert {r["department"]["name"] for r in dview["departments"]} == {"城管局", "住建局"}
    dev_login(driver, base, "district1", expect="区指挥中心小赵")
    menu = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#nav a")]
    assert "通报" in menu and "统计" not in menu, menu
    open_page(driver, "通报")
    wait(driver).until(EC.presence_of_element_located((By.ID, "bulletin-district-communities")))
    assert "同心区" in driver.find_element(By.ID, "bulletin-district-title").text
    for key, ref in (("streets", "street"), ("departments", "department"), ("communities", "community")):
        assert shown(driver, f"bulletin-district-{key}") == bulletin_rows(dview[key], ref, dview["thresholds"]), key
    assert [row[1] for row in shown(driver, "bulletin-district-streets")] == ["同心街道"]
    assert f"/v1/district/bulletin?month={this_month}&format=csv" in \
        driver.find_element(By.ID, "bulletin-district-csv").get_attribute("href")
    dcsv = district.call("GET", "/v1/district/bulletin", params={"format": "csv"})
    assert dcsv.status_code == 200 and dcsv.headers["Content-Type"].startswith("text/csv")
    assert not driver.find_elements(By.ID, "bulletin-street")  # not street staff
    assert alert_text(driver) == ""
    shot(driver, "52-bulletin-district")
    drollup = district.call("GET", "/v1/district/stats", params=last_30_days()).json()
    driver.find_element(By.ID, "tab-rollup").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "rollup-district-streets")))
    assert shown(driver, "rollup-district-streets") == rollup_rows(drollup, "street", ("communities",))
    shot(driver, "53-bulletin-district-rollup")

    # ---- both roles: both units; the district taken away → its 403 in place; neither → no 通报 --------------------------
    both = Client(base).login("bulletin_both")
    uid = both.user["id"]
    operator(stack, "add-street-staff", "--street", STREET, "--user-id", uid)
    operator(stack, "add-district-staff", "--district", DISTRICT, "--user-id", uid)
    try:
        dev_login(driver, base, "bulletin_both", expect=both.user["nickname"])
        open_page(driver, "通报")
        wait(driver).until(EC.presence_of_element_located((By.ID, "bulletin-district-streets")))
        assert driver.find_element(By.ID, "bulletin-street-communities")
        shot(driver, "54-bulletin-both")
        driver.find_element(By.ID, "tab-rollup").click()
        wait(driver).until(EC.presence_of_element_located((By.ID, "rollup-district-streets")))
        assert shown(driver, "rollup-street-communities") and shown(driver, "rollup-district-streets")
        driver.find_element(By.ID, "tab-bulletin").click()
        wait(driver).until(EC.presence_of_element_located((By.ID, "bulletin-district-streets")))
        operator(stack, "remove-district-staff", "--district", DISTRICT, "--user-id", uid)
        refused = both.call("GET", "/v1/district/bulletin")
        assert refused.status_code == 403
        Select(driver.find_element(By.ID, "bulletin-month")).select_by_value(last_month)  # loads again
        box = wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, "#bulletin-district .notice.error")))
        assert box.text == refused.json()["error"]["message"]
        wait_title(driver, "bulletin-street-title", month_name(last_month))  # the street's still shown
        shot(driver, "55-bulletin-district-refused")
    finally:
        operator(stack, "remove-street-staff", "--street", STREET, "--user-id", uid)
    driver.get(base + "/console/bulletin")  # neither role: no 通报 in the menu, the deep link shows 工作台
    wait_title(driver, "main", "工作台")
    assert "通报" not in [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#nav a")]
    assert time.monotonic() - started < 30
