"""The console's 微实事 and 微星光 page in a real browser against the local stack, as the community's admin uses it:
opens a round with the form (the dates typed in Beijing time arrive as those moments), reviews what residents
proposed over HTTP (approves one with a corrected cost, one as proposed, rejects one with a reason the proposer
reads), sees the demo round that is voting with no count at all (the API refuses the results to admins too), then —
the round's dates moved into the past as time would, a resident with a bound phone having voted — the results
exactly as GET …/results answers (rank, votes, 入选, turnout, the budget used) and reports the selected project's
progress to 100 % (done); residents rate it over HTTP (验收) and 查看评价 shows each rating with its comment and rater
as GET /v1/projects/{id}/ratings answers (newest first). On 微星光: the month's candidates as the API's boards, a commendation (a risky title refused by
WeChat's check first) that shows on the person's profile, and its revocation with a reason. Every figure is compared
with the API's JSON read over HTTP in the same test. Screenshots go to .cache/screens/."""
import time
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.console.browser import By, EC, alert_text, dev_login, open_page, shot, shown, wait
from tests.e2e.console.test_coprojects import rated, rating_rows
from tests.e2e.outside import ok, refused
from tests.stack import Client, resident
from tongxin.adapters.dynamo.models import ProjectRoundModel

pytestmark = pytest.mark.e2e

SHANGHAI = ZoneInfo("Asia/Shanghai")
PHASES = {"proposing": "征集中", "reviewing": "审核中", "voting": "投票中", "publicity": "公示中", "implementing": "实施中",
          "done": "已完成"}


def when(iso: str) -> str:
    """lib.js's `when`: 12月6日 09:30 of the ISO text as written (the API answers Shanghai times)."""
    return f"{int(iso[5:7])}月{int(iso[8:10])}日 {iso[11:16]}"


def yuan(n: int) -> str:
    return f"{n:,} 元"


def pass_time(stack, round_id: str, project_ids: list[str], **moments: datetime) -> None:
    """The round's dates (``voting_from=…``) — and its projects' copies — moved to ``moments``, as time would (the
    stack's clock cannot travel; tests/e2e/test_outside_round_walk.py does the same)."""
    db = stack.dynamodb()
    copies = {"voting_from": "round_voting_from", "voting_until": "round_voting_until",
              "publicity_until": "round_publicity_until"}
    values = {k: ProjectRoundModel.voting_until.serialize(v) for k, v in moments.items()}
    fields = {**values, **({"finalise_due": values["voting_until"]} if "voting_until" in values else {})}

    def update(table, key, names):
        db.update_item(TableName=stack.table(table), Key={"id": {"S": key}},
                       UpdateExpression="SET " + ", ".join(f"{k} = :{k}" for k in names),
                       ExpressionAttributeValues={f":{k}": {"S": v} for k, v in names.items()})
    update("project_rounds", round_id, fields)
    for pid in project_ids:
        if any(k in copies for k in values):
            update("round_projects", pid, {copies[k]: v for k, v in values.items() if k in copies})


def set_local(driver, element_id: str, moment: datetime) -> str:
    """A datetime-local input set to ``moment`` in Beijing time (what an admin types); the value set."""
    value = moment.astimezone(SHANGHAI).strftime("%Y-%m-%dT%H:%M")
    driver.execute_script("document.getElementById(arguments[0]).value = arguments[1]", element_id, value)
    return value


@pytest.fixture
def desk(browser):
    """The page's own area 1280×800 for this test (the console's smaller desk screen); the window's size restored."""
    before = browser.get_window_size()
    inner = browser.execute_script("return [window.innerWidth, window.innerHeight]")
    browser.set_window_size(before["width"] - inner[0] + 1280, before["height"] - inner[1] + 800)
    yield browser
    browser.set_window_size(before["width"], before["height"])


def test_rounds_page(stack, browser, desk, signs_out):
    started = time.monotonic()
    base, driver = stack.api_url, browser
    assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == [1280, 800]
    tag = uuid.uuid4().hex[:4]
    admin = Client(base).login("admin")
    res1, res3, res4 = (Client(base).login(n) for n in ("res1", "res3", "res4"))

    # ---- the rounds as the API lists them; open a round with the form ---------------------------------------------------
    dev_login(driver, base, "admin", expect="社区书记老王")
    open_page(driver, "微实事")
    wait(driver).until(EC.presence_of_element_located((By.ID, "round-table")))
    rounds = ok(admin.call("GET", "/v1/project-rounds", params={"limit": 20}))["items"]
    assert [r[:3] for r in shown(driver, "round-table")] == [[r["title"], PHASES[r["phase"]], yuan(r["budget_yuan"])]
                                                             for r in rounds]
    driver.find_element(By.ID, "round-new").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, "round-title"))).send_keys(f"冬季微实事{tag}")
    driver.find_element(By.ID, "round-budget").send_keys("1000")
    driver.find_element(By.CSS_SELECTOR, "#round-style option[value=budget]").click()
    assert not driver.find_element(By.ID, "round-max").is_displayed()  # 预算制 takes no max_choices
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    typed = {name: set_local(driver, element, now + timedelta(hours=hours)) for name, element, hours in (
        ("proposals_until", "round-proposals", 1), ("voting_from", "round-from", 2), ("voting_until", "round-until", 3))}
    days = driver.find_element(By.ID, "round-publicity")
    days.clear()
    days.send_keys("0")
    shot(driver, "70-rounds-new")
    driver.find_element(By.CSS_SELECTOR, "#round-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "round-notice"), f"已发起“冬季微实事{tag}”"))
    made = ok(admin.call("GET", "/v1/project-rounds", params={"limit": 20}))["items"][0]
    assert made["title"] == f"冬季微实事{tag}" and made["style"] == "budget" and made["max_choices"] is None
    assert made["budget_yuan"] == 1000 and made["publicity_days"] == 0 and made["phase"] == "proposing"
    for name, value in typed.items():  # the Beijing time typed is the moment stored
        assert datetime.fromisoformat(made[name]) == datetime.fromisoformat(value + ":00+08:00"), (name, made[name])
    rid = made["id"]
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "round-name"), f"冬季微实事{tag}"))

    # ---- residents propose over HTTP; the admin reviews on the page -------------------------------------------------------
    def propose(who, title, cost, category="设施维修"):
        return ok(who.call("POST", f"/v1/project-rounds/{rid}/projects", {
            "title": title, "description": f"{title}，方便居民出行", "cost_yuan": cost, "category": category}), 201)
    lights, bench, garden = (propose(res3, f"楼道加装声控灯{tag}", 600), propose(res1, f"广场添置长椅{tag}", 300, "便民服务"),
                             propose(res4, f"楼顶改建花园{tag}", 900, "环境美化"))
    driver.find_element(By.CSS_SELECTOR, f"#round-table tr[data-id='{rid}'] button.open").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "review-table")))
    proposed = ok(admin.call("GET", f"/v1/project-rounds/{rid}/projects", params={"status": "proposed"}))["items"]
    assert [r[:5] for r in shown(driver, "review-table")] == [
        [p["title"] + p["description"], p["category"], yuan(p["cost_yuan"]), p["proposer"]["nickname"], when(p["created_at"])]
        for p in proposed]
    assert [p["id"] for p in proposed] == [lights["id"], bench["id"], garden["id"]]
    assert shown(driver, "review-table")[0][3] == "居民3号"  # whole for the admin
    driver.find_element(By.CSS_SELECTOR, f"#review-table tr[data-id='{lights['id']}'] input[name=cost_yuan]").send_keys("500")
    driver.find_element(By.CSS_SELECTOR, f"#review-table tr[data-id='{lights['id']}'] button.approve").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "review-notice"), f"已通过“楼道加装声控灯{tag}”，费用 500 元"))
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"#review-table tr[data-id='{lights['id']}']"))
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"#review-table tr[data-id='{bench['id']}'] button.approve"))).click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "review-notice"), f"已通过“广场添置长椅{tag}”，费用 300 元"))
    # The table is drawn again after each review: act on the new one (an old row's button opens nothing).
    wait(driver).until(lambda d: not d.find_elements(By.CSS_SELECTOR, f"#review-table tr[data-id='{bench['id']}']"))
    wait(driver).until(EC.element_to_be_clickable((By.CSS_SELECTOR, f"#review-table tr[data-id='{garden['id']}'] button.reject"))).click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, f"reason-{garden['id']}"))).send_keys("屋顶属于公共维修基金范围")
    shot(driver, "71-rounds-review")
    driver.find_element(By.CSS_SELECTOR, "#review-table tr.adjust-row button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "review-notice"), f"“楼顶改建花园{tag}”未通过"))
    mine = ok(res4.call("GET", f"/v1/projects/{garden['id']}"))
    assert mine["status"] == "rejected" and mine["reject_reason"] == "屋顶属于公共维修基金范围"
    approved = ok(admin.call("GET", f"/v1/project-rounds/{rid}/projects", params={"status": "approved"}))["items"]
    assert [(p["id"], p["cost_yuan"]) for p in approved] == [(lights["id"], 500), (bench["id"], 300)]
    wait(driver).until(EC.presence_of_element_located((By.ID, "approved-table")))
    assert shown(driver, "approved-table") == [[p["title"], p["category"], yuan(p["cost_yuan"]), p["proposer"]["nickname"],
                                                when(p["approved_at"])] for p in approved]
    assert shown(driver, "rejected-table") == [[garden["title"], "环境美化", yuan(900), "居民4号", "屋顶属于公共维修基金范围"]]

    # ---- the demo round is voting: no count anywhere, the API's results refused to the admin too -------------------------
    driver.find_element(By.CSS_SELECTOR, "#round-table tr[data-id='prd_demo1'] button.open").click()
    voting = wait(driver).until(EC.visibility_of_element_located((By.ID, "round-voting")))
    assert voting.text == "投票进行中，结果在截止后公布"
    refused(admin.call("GET", "/v1/project-rounds/prd_demo1/results"), 409, "RESULTS_NOT_READY")
    assert not driver.find_elements(By.ID, "round-results") and not driver.find_elements(By.ID, "review-table")
    demo = ok(admin.call("GET", "/v1/project-rounds/prd_demo1/projects", params={"status": "approved"}))["items"]
    assert [r[0] for r in shown(driver, "approved-table")] == [p["title"] for p in demo]
    page_text = driver.find_element(By.ID, "round-detail").text
    assert "得票" not in page_text and "参与投票" not in page_text and "入选" not in page_text
    shot(driver, "72-rounds-voting")

    # ---- voting opens, a resident with a bound phone votes, voting closes (no 公示): the results and delivery ------------
    past = datetime.now(timezone.utc) - timedelta(minutes=5)
    ids = [lights["id"], bench["id"], garden["id"]]
    pass_time(stack, rid, ids, proposals_until=past - timedelta(minutes=1), voting_from=past)
    voter = resident(base, f"rv{tag}")
    code = requests.post(stack.wechat_url + "__dev/phone-codes", json={"phone": f"1380000{int(tag, 16) % 10000:04d}"},
                         timeout=30).json()["code"]
    ok(voter.call("POST", "/v1/me/phone", {"code": code}))
    ok(voter.call("POST", f"/v1/project-rounds/{rid}/ballot", {"project_ids": [lights["id"]]}), 201)
    closed = datetime.now(timezone.utc) - timedelta(seconds=1)
    pass_time(stack, rid, ids, voting_until=closed, publicity_until=closed)
    driver.find_element(By.CSS_SELECTOR, f"#round-table tr[data-id='{rid}'] button.open").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "results-table")))
    results = ok(admin.call("GET", f"/v1/project-rounds/{rid}/results"))
    assert shown(driver, "results-table") == [
        [str(i["rank"]), i["project"]["title"], i["project"]["category"], yuan(i["project"]["cost_yuan"]), str(i["votes"]),
         "入选" if i["selected"] else "—"] for i in results["items"]]
    assert [(i["project"]["id"], i["votes"], i["selected"]) for i in results["items"]] == [
        (lights["id"], 1, True), (bench["id"], 0, False)]
    assert driver.find_element(By.ID, "round-turnout").text == (
        f"参与投票 {results['turnout']} 人 · 入选 1 个项目，使用预算 {yuan(results['selected_yuan'])} / {yuan(1000)}")
    assert results["turnout"] == 1 and results["selected_yuan"] == 500
    assert shown(driver, "delivery-table")[0][:4] == [lights["title"], "0%", "实施中", "—"]
    shot(driver, "73-rounds-results")
    for percent, note in ((60, "声控灯已安装 3 个单元"), (100, "全部安装完毕，已通电试用")):
        row = f"#delivery-table tr[data-id='{lights['id']}']"
        box = driver.find_element(By.CSS_SELECTOR, f"{row} input[name=note]")
        box.send_keys(note)
        number = driver.find_element(By.CSS_SELECTOR, f"{row} input[name=percent]")
        number.clear()
        number.send_keys(str(percent))
        driver.find_element(By.CSS_SELECTOR, f"{row} button[type=submit]").click()
        said = f"已登记“{lights['title']}”的进展：60%" if percent < 100 else f"“{lights['title']}”已完工"
        wait(driver).until(EC.text_to_be_present_in_element((By.ID, "review-notice"), said))
        # The table is drawn again after each report: the next one is typed into the new one.
        wait(driver).until(lambda d: shown(d, "delivery-table")[0][1] == f"{percent}%")
    detail = ok(admin.call("GET", f"/v1/projects/{lights['id']}"))
    assert detail["percent"] == 100 and detail["done_at"] and detail["selected"] is True
    assert [(s["percent"], s["note"]) for s in detail["timeline"]] == [(60, "声控灯已安装 3 个单元"), (100, "全部安装完毕，已通电试用")]
    assert ok(admin.call("GET", f"/v1/project-rounds/{rid}"))["phase"] == "done"
    wait(driver).until(lambda d: shown(d, "delivery-table")[0][:3] == [lights["title"], "100%", f"已完工 {when(detail['done_at'])}"])
    assert not driver.find_elements(By.CSS_SELECTOR, "#delivery-table form")  # nothing more to report
    assert "已完成" in driver.find_element(By.ID, "round-name").text
    driver.execute_script("document.getElementById('round-results').scrollIntoView()")
    shot(driver, "74-rounds-delivered")

    # ---- 验收: residents rate the done project over HTTP; 查看评价 lists them as the staff's route answers -------------
    for who, body in ((res4, {"rating": 4}), (res1, {"rating": 5, "comment": "声控灯很灵敏，晚上回家方便多了"}),
                      (res3, {"rating": 2, "comment": "三单元的灯半夜会自己亮，请来看看"})):
        ok(who.call("POST", f"/v1/projects/{lights['id']}/rate", body), 201)
    driver.find_element(By.CSS_SELECTOR, f"#round-table tr[data-id='{rid}'] button.open").click()
    detail = ok(admin.call("GET", f"/v1/projects/{lights['id']}"))
    summary = f"{detail['rating_average']} 分（3 人）"
    wait(driver).until(lambda d: shown(d, "delivery-table") and shown(d, "delivery-table")[0][3] == summary + " 查看评价")
    driver.find_element(By.CSS_SELECTOR, f"#delivery-table tr[data-id='{lights['id']}'] button.show-ratings").click()
    listed = f"ratings-{lights['id']}"
    wait(driver).until(EC.presence_of_element_located((By.CSS_SELECTOR, f"#{listed} li")))
    ratings = ok(admin.call("GET", f"/v1/projects/{lights['id']}/ratings"))
    assert [(r["rating"], r["rater"]["id"]) for r in ratings["items"]] == [
        (2, res3.user["id"]), (5, res1.user["id"]), (4, res4.user["id"])] and ratings["next_cursor"] is None
    assert rating_rows(driver, listed) == rated(ratings["items"])
    assert driver.find_element(By.CSS_SELECTOR, f"#{listed} li .tag").get_attribute("class") == "tag flag"  # the complaint
    driver.execute_script("document.getElementById(arguments[0]).scrollIntoView()", listed)
    shot(driver, "74b-rounds-ratings")
    driver.find_element(By.CSS_SELECTOR, f"#delivery-table tr[data-id='{lights['id']}'] button.show-ratings").click()
    assert not driver.find_elements(By.ID, listed)  # 查看评价 again closes it

    # ---- 微星光: candidates as the API's boards, commend (a risky title refused first), revoke with a reason ------------
    driver.find_element(By.ID, "tab-stars").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "cmd-table")))
    month = datetime.now(SHANGHAI).strftime("%Y-%m")
    boards = ok(admin.call("GET", "/v1/admin/commendations/candidates", params={"month": month}))

    def board(items):
        return [[str(c["rank"]), c["user"]["nickname"], str(c["score"]), "已表彰" if c["commended"] else "表彰"] for c in items]
    for key, table in (("points", "cand-points"), ("minutes", "cand-minutes")):
        if boards[key]:
            wait(driver).until(lambda d: shown(d, table) == board(boards[key]))
    listed = ok(admin.call("GET", "/v1/commendations", params={"limit": 20}))["items"]
    assert [r[:4] for r in shown(driver, "cmd-table")] == [
        [c["user"]["nickname"], c["title"], c["story"], f"{int(c['period'][:4])}年{int(c['period'][5:7])}月"] for c in listed]
    assert "志愿者1号" in [r[0] for r in shown(driver, "cmd-table")]  # the demo's commendation of vol1
    # the person: found by the member search (res3), or a candidate not commended this month when a board has one
    driver.find_element(By.ID, "cmd-q").send_keys("居民3")
    driver.find_element(By.ID, "cmd-search").click()
    wait(driver).until(EC.presence_of_element_located((By.ID, "cmd-members")))
    members = ok(admin.call("GET", "/v1/admin/members", params={"q": "居民3", "limit": 10}))["items"]
    assert [r[:2] for r in shown(driver, "cmd-members")] == [[m["nickname"], m["real_name"] or "—"] for m in members]
    driver.find_element(By.CSS_SELECTOR, f"#cmd-members tr[data-id='{res3.user['id']}'] button.choose").click()
    assert driver.find_element(By.ID, "cmd-who").text.startswith("被表彰人：居民3号")
    person = res3.user["id"]
    pick = next((c for c in boards["points"] + boards["minutes"] if not c["commended"] and c["user"]["id"] != admin.user["id"]), None)
    if pick:
        driver.find_element(By.CSS_SELECTOR, f"#cand-list tr[data-id='{pick['user']['id']}'] button.pick").click()
        person = pick["user"]["id"]
        assert driver.find_element(By.ID, "cmd-who").text == f"被表彰人：{pick['user']['nickname']}"
    assert driver.find_element(By.ID, "cmd-user").get_attribute("value") == person
    title = driver.find_element(By.ID, "cmd-title")
    title.send_keys("违禁之星")
    driver.find_element(By.ID, "cmd-story").send_keys("连续三个月义务清扫楼道，带动邻居参与垃圾分类。")
    driver.find_element(By.CSS_SELECTOR, "#cmd-form button[type=submit]").click()
    refusal = wait(driver).until(EC.visibility_of_element_located((By.CSS_SELECTOR, "#cmd-form .notice.error"))).text
    risky = admin.call("POST", "/v1/admin/commendations", {"user_id": person, "title": "违禁之星", "story": "清扫楼道",
                                                           "period": month})
    assert risky.status_code == 400 and refusal == risky.json()["error"]["message"], (refusal, risky.text)
    title.clear()
    title.send_keys(f"楼道守护人{tag}")
    driver.find_element(By.CSS_SELECTOR, "#cmd-form button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "cmd-notice"), f"“楼道守护人{tag}”（{month}）"))
    made = ok(admin.call("GET", "/v1/commendations", params={"limit": 20}))["items"][0]
    assert made["user"]["id"] == person and made["title"] == f"楼道守护人{tag}" and made["period"] == month
    profile = ok(admin.call("GET", "/v1/commendations", params={"user_id": person}))["items"]
    assert made["id"] in [c["id"] for c in profile]  # on the person's profile
    wait(driver).until(lambda d: shown(d, "cmd-table")[0][:2] == [made["user"]["nickname"], f"楼道守护人{tag}"])
    assert shown(driver, "cmd-table")[0][5] == "社区书记老王"
    if pick:
        table = "cand-points" if pick in boards["points"] else "cand-minutes"
        wait(driver).until(lambda d: any(r[1] == pick["user"]["nickname"] and r[3] == "已表彰" for r in shown(d, table)))
    shot(driver, "75-stars")
    driver.execute_script("document.getElementById('cmd-list').scrollIntoView()")
    shot(driver, "76-stars-list")
    driver.find_element(By.CSS_SELECTOR, f"#cmd-table tr[data-id='{made['id']}'] button.revoke").click()
    wait(driver).until(EC.visibility_of_element_located((By.ID, f"revoke-{made['id']}"))).send_keys("事迹需要进一步核实")
    driver.find_element(By.CSS_SELECTOR, "#cmd-table tr.adjust-row button[type=submit]").click()
    wait(driver).until(EC.text_to_be_present_in_element((By.ID, "cmd-notice"), f"已撤销 {made['user']['nickname']} 的“楼道守护人{tag}”"))
    assert made["id"] not in [c["id"] for c in ok(admin.call("GET", "/v1/commendations", params={"user_id": person}))["items"]]
    refused(admin.call("POST", f"/v1/admin/commendations/{made['id']}/revoke", {"reason": "再次"}), 409, "INVALID_STATE")
    wait(driver).until(lambda d: made["id"] not in d.execute_script(
        "return [...document.querySelectorAll('#cmd-table tbody tr')].map((tr) => tr.dataset.id)"))
    assert alert_text(driver) == ""
    elapsed = time.monotonic() - started
    print(f"console rounds page: {elapsed:.1f} s")
    assert elapsed < 40
