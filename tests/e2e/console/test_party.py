"""The console's 双报到 pages in a real browser against the local stack. The street's staff (street1), on 共建单位,
register a unit (a malformed phone refused with the API's message first) and make a liaison invite whose link and code
are shown large — a newcomer joins with that code over the API and the unit's liaison count shows it. The admin, on
双报到: 报到审核 lists the pending registrations as the API has them, approves the demo's pending one (res2 becomes a
party member), rejects another with a reason (an empty reason refused in the page), and a registration decided
elsewhere meanwhile answers the API's refusal; 岗位 publishes a post (a risky title refused by WeChat's check first),
shows it in the list and its claimant once a party member claimed it, and closes it; 考核 shows the quarter's
members, services, minutes and verdicts exactly as GET /v1/admin/party-members answers (this quarter and the one
before) and downloads the server's own CSV; 共建单位 signs an agreement with the unit street1 registered. Every
figure is compared with the API's JSON read over HTTP in the same test. Screenshots go to .cache/screens/."""
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
STATUS = {"open": "可认领", "full": "已满员", "closed": "已关闭"}
MISSING = {"services": "服务次数不足", "hours": "服务时长不足"}


def quarter_of(day) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def quarter_name(key: str) -> str:
    return f"{key[:4]}年第{'一二三四'[int(key[5]) - 1]}季度"


def when(iso: str) -> str:
    """lib.js's `when`: 12月6日 09:30 of the ISO text as written (the API answers Shanghai times)."""
    return f"{int(iso[5:7])}月{int(iso[8:10])}日 {iso[11:16]}"


def day_name(iso: str) -> str:
    return f"{int(iso[:4])}年{int(iso[5:7])}月{int(iso[8:10])}日"


def report(client: Client, real_name: str) -> dict:
    return ok(client.call("POST", "/v1/me/party-registration", {"real_name": real_name, "work_unit": "同心区教育局",
                                                                "party_branch": "教育局机关第二党支部"}), 201)


def test_party_pages(stack, browser, signs_out, tmp_path):
    started = time.monotonic()
    base, driver = stack.api_url, browser
    tag = uuid.uuid4().hex[:4]
    street, admin = Client(base).login("street1"), Client(base).login("admin")

    # ---- street1, 共建单位: register a unit, make its liaison invite ----------------------------------------------------
    dev_login(driver, base, "street1", expect="街道工作人员小周")
    menu = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#nav a")]
    assert "共建单位" in menu and "双报到" not in menu, menu
    open_page(driver, "共建单位")
    wait(driver).until(EC.presence_of_element_located((By.ID, "street-unit-table")))
    units = ok(street.call("GET", "/v1/street/units", params={"limit": 50}))["items"]
    assert [r[:7] for r in shown(driver, "street-unit-table")] == [
        [u["name"], u["kind"], u["contact_name"], u["contact_phone"], str(u["liaison_count"]), str(u["agreement_count"]),
         str(u["resource_count"])] for u in units]
    unit_name = f"同心实验学校{tag}"
    driver.find_element(By.ID, "unit-name").send_keys(unit_name)
    Select(driver.find_element(By.ID, "unit-kind")).select_by_value("学校")
    driver.find_element(By.ID, "unit-contact").send_keys("李校长")
    phone = driver.find_element(By.ID, "unit-phone")
    phone.send_keys("12345")
    driver.find_element(By.CSS_SELECTOR, "#unit-form button[type=submit]").click()
    refused = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#unit-form .notice.error"))).text
    bad = street.call("POST", "/v1/street/units", {"name": f"同心实验学校{tag}", "kind": "学校", "contact_name": "李校长",
                                                   "contact_phone": "12345"})
    assert bad.status_code == 400 and refused == bad.json()["error"]["message"], (refused, bad.text)
    assert len(ok(street.call("GET", "/v1/street/units", params={"limit": 50}))["items"]) == len(units)  # nothing written
    phone.clear()
    phone.send_keys("028-86661234")
    driver.find_element(By.CSS_SELECTOR, "#unit-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "unit-notice"), f"已登记{unit_name}（学校）"))
    units = ok(street.call("GET", "/v1/street/units", params={"limit": 50}))["items"]
    unit = next(u for u in units if u["name"] == unit_name)
    assert unit["kind"] == "学校" and unit["contact_phone"] == "028-86661234", unit
    wait(driver).until(lambda d: len(shown(d, "street-unit-table")) == len(units))
    assert shown(driver, "street-unit-table")[-1][:7] == [unit_name, "学校", "李校长", "028-86661234", "0", "0", "0"]
    shot(driver, "59-units-registered")
    driver.find_element(By.CSS_SELECTOR, f"button[aria-label='生成联络员邀请：{unit_name}']").click()
    link = wait(driver).until(EC.visibility_of_element_located((By.ID, "invite-link"))).text
    code = driver.find_element(By.ID, "invite-code").text
    assert link.endswith(f"/u/{code}") and len(code) >= 4, (link, code)
    assert f"{unit_name} · 联络员邀请" in driver.find_element(By.CSS_SELECTOR, "#unit-invite h2").text
    assert alert_text(driver) == ""
    shot(driver, "60-units-invite")
    # the code works: a newcomer becomes the unit's liaison, and the list counts them
    joined = ok(Client(base).login(f"liaison_{tag}").call("POST", "/v1/me/unit", {"invite": link}))
    assert joined["unit"] == {"id": unit["id"], "name": unit_name}
    open_page(driver, "工作台")
    open_page(driver, "共建单位")
    wait(driver).until(lambda d: len(shown(d, "street-unit-table")) == len(units)
                       and shown(d, "street-unit-table")[-1][4] == "1")

    # ---- admin, 双报到 → 报到审核 ---------------------------------------------------------------------------------------
    rejected = resident(base, f"party_rej_{tag}")
    raced = resident(base, f"party_race_{tag}")
    rej_id = report(rejected, "刘晓明")["id"]
    raced_reg = report(raced, "周建国")
    pending = ok(admin.call("GET", "/v1/admin/party-registrations", params={"status": "pending", "limit": 50}))["items"]
    demo = next(r for r in pending if r["user"]["id"] == "u_demo_res2")
    dev_login(driver, base, "admin", expect="社区书记老王")
    open_page(driver, "双报到")
    wait(driver).until(EC.presence_of_element_located((By.ID, "reg-table")))
    assert driver.find_element(By.TAG_NAME, "h1").text == "双报到"
    unit_names = {u["id"]: u["name"] for u in ok(admin.call("GET", "/v1/admin/units", params={"limit": 100}))["items"]}
    assert shown(driver, "reg-table") == [
        [r["real_name"], r["user"]["nickname"], r["work_unit"], r["party_branch"],
         unit_names.get(r["unit_id"], r["unit_id"]) if r["unit_id"] else "—", when(r["submitted_at"]), "通过 驳回"]
        for r in pending]
    shot(driver, "61-party-review")
    driver.find_element(By.CSS_SELECTOR, f"tr[data-id='{demo['id']}'] button.approve").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "reg-notice"), f"已通过 {demo['real_name']} 的报到"))
    res2 = Client(base).login("res2")
    assert ok(res2.call("GET", "/v1/me/party-registration"))["status"] == "approved"
    assert "party_member" in ok(res2.call("GET", "/v1/me"))["roles"]
    wait(driver).until(lambda d: demo["id"] not in d.execute_script(
        "return [...document.querySelectorAll('#reg-table tbody tr')].map((tr) => tr.dataset.id)") )
    # 驳回: an empty reason is refused in the page; then a reason, which the member reads
    driver.find_element(By.CSS_SELECTOR, f"tr[data-id='{rej_id}'] button.reject").click()
    reason = wait(driver).until(EC.visibility_of_element_located((By.ID, f"reason-{rej_id}")))
    reason.send_keys("   ")
    driver.find_element(By.CSS_SELECTOR, "tr.adjust-row button[type=submit]").click()
    assert wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "tr.adjust-row .notice.error"))).text == "请填写驳回理由"
    shot(driver, "66-party-reject-form")
    reason.send_keys("党组织名称不完整，请补充后重新报到")
    driver.find_element(By.CSS_SELECTOR, "tr.adjust-row button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "reg-notice"), "已驳回 刘晓明 的报到"))
    mine = ok(rejected.call("GET", "/v1/me/party-registration"))
    assert mine["status"] == "rejected" and mine["reason"] == "党组织名称不完整，请补充后重新报到"
    # decided elsewhere meanwhile: the page's 驳回 gets the API's refusal, shown beside the form
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"tr[data-id='{raced_reg['id']}']")))
    ok(admin.call("POST", f"/v1/admin/party-registrations/{raced_reg['id']}/approve"))
    driver.find_element(By.CSS_SELECTOR, f"tr[data-id='{raced_reg['id']}'] button.reject").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, f"reason-{raced_reg['id']}"))).send_keys("重复")
    driver.find_element(By.CSS_SELECTOR, "tr.adjust-row button[type=submit]").click()
    refusal = admin.call("POST", f"/v1/admin/party-registrations/{raced_reg['id']}/reject", {"reason": "重复"})
    assert refusal.status_code == 409
    box = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#reg-notice .notice.error")))
    assert box.text == f"周建国：{refusal.json()['error']['message']}"
    wait(driver).until(lambda d: raced_reg["id"] not in [r.get_attribute("data-id") for r in
                                                          d.find_elements(By.CSS_SELECTOR, "#reg-table tbody tr")])
    shot(driver, "65-party-review-refused")
    assert ok(raced.call("GET", "/v1/me/party-registration"))["status"] == "approved"
    # 已通过: the other status by the filter, with when it was decided
    Select(driver.find_element(By.ID, "reg-status")).select_by_value("approved")
    approved = ok(admin.call("GET", "/v1/admin/party-registrations", params={"status": "approved", "limit": 50}))["items"]
    wait(driver).until(lambda d: len(shown(d, "reg-table")) == len(approved) and "status=approved" in d.current_url)
    assert [row[0] for row in shown(driver, "reg-table")] == [r["real_name"] for r in approved]
    assert {"居民2号", "周建国"} <= {row[0] for row in shown(driver, "reg-table")}

    # ---- 岗位: publish (a risky title refused first), the list as the API's, a claimant, 关闭 ----------------------------
    driver.find_element(By.ID, "tab-posts").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "post-table")))
    driver.find_element(By.ID, "post-new").click()
    title = wait(driver).until(EC.visibility_of_element_located((By.ID, "post-title")))
    title.send_keys("违禁宣传员")
    driver.find_element(By.ID, "post-skills").send_keys("宣讲、沟通")
    headcount = driver.find_element(By.ID, "post-headcount")
    headcount.clear()
    headcount.send_keys("3")
    driver.find_element(By.ID, "post-desc").send_keys("每月在小区宣传栏和楼道张贴、讲解最新惠民政策")
    driver.find_element(By.CSS_SELECTOR, "#post-form button[type=submit]").click()
    refused = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#post-form .notice.error"))).text
    risky = admin.call("POST", "/v1/admin/posts", {"title": "违禁宣传员", "description": "讲解政策", "headcount": 3})
    assert risky.status_code == 400 and refused == risky.json()["error"]["message"], (refused, risky.text)
    title.clear()
    post_title = f"政策宣传员{tag}"
    title.send_keys(post_title)
    driver.find_element(By.CSS_SELECTOR, "#post-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "post-notice"), f"已发布岗位“{post_title}”，名额 3 人"))
    posts = ok(admin.call("GET", "/v1/posts", params={"limit": 50}))["items"]
    post = posts[0]
    assert post["title"] == post_title and post["skills"] == ["宣讲", "沟通"] and post["headcount"] == 3, post
    wait(driver).until(lambda d: shown(d, "post-table") and shown(d, "post-table")[0][0] == post_title)
    assert [r[:6] for r in shown(driver, "post-table")] == [
        [p["title"], "、".join(p["skills"]) or "—", str(p["headcount"]), str(p["claimed_count"]),
         STATUS[p["status"]] + ("已过截止" if p["past_due"] else ""), when(p["due"]) if p["due"] else "长期"] for p in posts]
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "post-detail"), "还没有人认领。"))
    ok(Client(base).login("vol1").call("POST", f"/v1/posts/{post['id']}/claim", {}))
    driver.find_element(By.CSS_SELECTOR, f"#post-table tr[data-id='{post['id']}'] button.claimants").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "claimant-table")))
    detail = ok(admin.call("GET", f"/v1/posts/{post['id']}"))
    assert shown(driver, "claimant-table") == [[c["user"]["nickname"], "党员", "—", when(c["claimed_at"])] for c in detail["claimants"]]
    assert [c["user"]["nickname"] for c in detail["claimants"]] == ["志愿者1号"]
    assert "已认领 1 人，剩余 2 个名额" in driver.find_element(By.ID, "post-detail").text
    assert shown(driver, "post-table")[0][3] == "1"  # the list's row follows the post as read for its claimants
    driver.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    shot(driver, "62-party-posts")
    driver.find_element(By.CSS_SELECTOR, f"#post-table tr[data-id='{post['id']}'] button.close").click()
    driver.switch_to.alert.accept()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "post-notice"), f"岗位“{post_title}”已关闭"))
    assert ok(admin.call("GET", f"/v1/posts/{post['id']}"))["status"] == "closed"
    wait(driver).until(lambda d: shown(d, "post-table")[0][4] == "已关闭")
    assert not driver.find_elements(By.CSS_SELECTOR, f"#post-table tr[data-id='{post['id']}'] button.close")

    # ---- 考核: this quarter and the one before, exactly as the API's; the server's CSV ----------------------------------
    today = datetime.now(SHANGHAI).date()
    this_q = quarter_of(today)
    last_q = quarter_of(today.replace(month=(today.month - 1) // 3 * 3 + 1, day=1) - timedelta(days=1))
    driver.find_element(By.ID, "tab-assess").click()

    def expect(view):
        return [[m["user"]["real_name"] or "—", m["user"]["nickname"],
                 unit_names.get(m["unit_id"], m["unit_id"]) if m["unit_id"] else "—",
                 *(str(m["quarter"][k]) for k in ("services", "events", "wishes", "posts", "requests", "minutes")),
                 str(m["year_minutes"]),
                 "达标" if m["meets_rules"] else "未达标" + "、".join(MISSING[k] for k in m["missing"])] for m in view["items"]]

    view = ok(admin.call("GET", "/v1/admin/party-members", params={"quarter": this_q}))
    wait(driver).until(EC.presence_of_element_located((By.ID, "assess-table")))
    assert Select(driver.find_element(By.ID, "assess-quarter")).first_selected_option.text == quarter_name(this_q)
    assert len(Select(driver.find_element(By.ID, "assess-quarter")).options) == 8
    assert shown(driver, "assess-table") == expect(view)
    vol1 = next(m for m in view["items"] if m["user"]["id"] == "u_demo_vol1")
    assert vol1["quarter"]["posts"] >= 1  # the claim above is on vol1's service record
    assert "居民2号" in [m["user"]["real_name"] for m in view["items"]]  # approved above
    rules = driver.find_element(By.ID, "assess-rules").text
    assert f"每季度至少服务 {view['rules']['services_per_quarter_min']} 次" in rules
    assert f"每年至少服务 {view['rules']['hours_per_year_min']} 小时" in rules
    short = driver.find_elements(By.CSS_SELECTOR, "#assess-table tr.short")
    assert len(short) == sum(not m["meets_rules"] for m in view["items"])
    shot(driver, "63-party-assess")
    csv = driver.find_element(By.ID, "assess-csv")
    assert f"/v1/admin/party-members?quarter={this_q}&format=csv" in csv.get_attribute("href")
    server = admin.call("GET", "/v1/admin/party-members", params={"quarter": this_q, "format": "csv"})
    assert server.status_code == 200 and server.headers["Content-Type"].startswith("text/csv")
    for command in ("Browser.setDownloadBehavior", "Page.setDownloadBehavior"):
        driver.execute_cdp_cmd(command, {"behavior": "allow", "downloadPath": str(tmp_path)})
    csv.click()
    wait(driver).until(lambda d: list(tmp_path.glob("*.csv")))
    saved = next(tmp_path.glob("*.csv"))
    assert saved.read_bytes() == server.content
    assert saved.read_text(encoding="utf-8-sig").splitlines()[0].startswith("成员ID,昵称,姓名,共建单位ID,季度")
    before = ok(admin.call("GET", "/v1/admin/party-members", params={"quarter": last_q}))
    Select(driver.find_element(By.ID, "assess-quarter")).select_by_value(last_q)
    wait(driver).until(lambda d: f"quarter={last_q}" in d.current_url and shown(d, "assess-table") == expect(before))
    assert f"quarter={last_q}&format=csv" in driver.find_element(By.ID, "assess-csv").get_attribute("href")

    # ---- 共建单位: the street's units with this community's agreement; sign one with the unit street1 registered ---------
    driver.find_element(By.ID, "tab-units").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "unit-table")))
    listed = ok(admin.call("GET", "/v1/admin/units", params={"limit": 100}))["items"]
    hospital = next(u for u in listed if u["name"] == "同心区人民医院")
    rows = {r[0]: r for r in shown(driver, "unit-table")}
    assert set(rows) == {u["name"] for u in listed}
    assert rows["同心区人民医院"][4].startswith("有效至 " + day_name(hospital["agreement"]["valid_until"]))
    assert rows["同心区人民医院"][5] == "；".join(hospital["agreement"]["pledges"]) and rows["同心区人民医院"][6] == "续签协议"
    assert rows[unit_name][4] == "未签订" and rows[unit_name][6] == "签订协议"
    driver.find_element(By.CSS_SELECTOR, f"button[aria-label='签订协议：{unit_name}']").click()
    pledges = wait(driver).until(EC.visibility_of_element_located((By.ID, "ag-pledges")))
    pledges.send_keys("每季度为社区青少年开设一次科普课\n寒暑假开放学校操场")
    activities = driver.find_element(By.ID, "ag-activities")
    activities.clear()
    activities.send_keys("2")
    driver.find_element(By.CSS_SELECTOR, "#agreement-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "unit-notice"), f"已与{unit_name}签订共建协议"))
    signed = next(u for u in ok(admin.call("GET", "/v1/admin/units", params={"limit": 100}))["items"] if u["id"] == unit["id"])
    agreement = signed["agreement"]
    assert agreement["pledges"] == ["每季度为社区青少年开设一次科普课", "寒暑假开放学校操场"]
    assert agreement["activities_per_quarter"] == 2 and agreement["valid"]
    assert agreement["valid_until"] == str(today + timedelta(days=365))  # the form's default: a year
    wait(driver).until(lambda d: {r[0]: r for r in shown(d, "unit-table")}[unit_name][6] == "续签协议")
    row = {r[0]: r for r in shown(driver, "unit-table")}[unit_name]
    assert row[4] == f"有效至 {day_name(agreement['valid_until'])}每季度至少 2 次活动"
    assert alert_text(driver) == ""
    shot(driver, "64-party-units")
    assert time.monotonic() - started < 40
