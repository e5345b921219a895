"""志愿服务记录证明 (issue 25, part F) over HTTP: a volunteer asks for a certificate of a period; an admin issues it
(a snapshot of the record and a number never given twice, ONE transaction) or refuses it; the PDF (a real PDF whose
text holds the name, the hours and the number); the public check (JSON and the QR's page; 20 a minute per
address); revocation. Sequences: the same call twice, refuse then ask again, a role taken away in between, a real
name changed in between, a later check-out that must not change an issued certificate; edges: dates of year 1 and
9999, a period of exactly 10 years and one day more, purpose empty after trimming and at its maximum, 500 and 501
services (and the item's size at 500)."""
from __future__ import annotations

import io
import uuid
from datetime import date, datetime, timedelta

import pytest

from tests.api.test_checkins import at, check, publish, sign_up, when
from tests.support import make_community
from tongxin.adapters.dynamo.models import CertificateModel, CounterModel, SignupModel, UserModel
from tongxin.domain import certificates as rules
from tongxin.domain.clock import SHANGHAI, utcnow
from tongxin.usecases import certificate_checks

SOURCE = "127.0.0.1"  # the Chalice test client's source address
PURPOSE = "升学材料"


@pytest.fixture(scope="module")
def c(api, fresh_tables_per_module):
    return make_community(api)


@pytest.fixture(autouse=True)
def fresh_check_counter():
    """Each test may check 20 times this minute (the tests share the client's one address)."""
    open_checks()
    yield


def open_checks() -> None:
    CounterModel(certificate_checks.rate_key(SOURCE, utcnow())).delete()


def today() -> date:
    return utcnow().astimezone(SHANGHAI).date()


def seed_services(user_id: str, community_id: str, count: int, *, minutes: int = 60, first: datetime | None = None,
                  title: str = "社区义诊志愿服务", place: str = "幸福小区中心广场", organiser: str = "李网格") -> None:
    """Attendances as check-outs leave them (test-only writes of the signups table: fast for hundreds), one a day
    back from ``first`` (default: yesterday noon, Shanghai)."""
    first = first or datetime.combine(today() - timedelta(days=1), datetime.min.time(), tzinfo=SHANGHAI).replace(
        hour=12)
    with SignupModel.batch_write() as batch:
        for i in range(count):
            moment = first - timedelta(days=i)
            event_id = f"e_{uuid.uuid4().hex[:12]}"
            batch.save(SignupModel(event_id, user_id, community_id=community_id, status="checked_out",
                                   event_starts_at=moment, roster_key=f"{event_id}#checked_out", roster_order=1,
                                   created_at=moment, updated_at=moment, checked_in_at=moment, attended_at=moment,
                                   checked_out_at=moment + timedelta(minutes=minutes), minutes=minutes, points=0,
                                   attendee_name="王志愿", event_title=f"{title}{i}", event_kind="volunteer_service",
                                   event_address=place, organiser_id="u_organiser", organiser_nickname=organiser,
                                   attendee_key=user_id))


def volunteer_with_services(c, count: int = 3, **kw):
    member = c.volunteer(0)
    seed_services(member.id, c.id, count, **kw)
    return member


def ask(member, *, start: str | None = None, end: str | None = None, purpose: str = PURPOSE):
    return member.post("/v1/me/certificates", {
        "from": (today() - timedelta(days=365)).isoformat() if start is None else start,
        "to": today().isoformat() if end is None else end, "purpose": purpose})


def asked(member, **kw) -> dict:
    resp = ask(member, **kw)
    assert resp.status == 201, resp.body
    assert resp.json["status"] == "pending" and resp.json["number"] is None
    return resp.json


def issued(c, member, **kw) -> dict:
    cert = asked(member, **kw)
    resp = c.admin.post(f"/v1/admin/certificates/{cert['id']}/issue")
    assert resp.status == 200, resp.body
    return resp.json


def verify(api, number: str, name: str):
    from urllib.parse import urlencode
    return api.get("/v1/certificates/verify?" + urlencode({"number": number, "name": name}))


def pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def assert_refused(resp, status: int, code: str, field: str | None = None) -> None:
    assert (resp.status, resp.error_code) == (status, code), resp.body
    assert resp.json["error"]["message"] and not resp.json["error"]["message"].isascii(), resp.body  # Chinese
    if field is not None:
        assert resp.json["error"]["details"].get("field") == field, resp.body


# --- the whole story, as an outside client plays it --------------------------------------------------------------

def test_issue_download_verify_revoke_through_real_check_outs(c, api):
    """Real attendances (sign-up, check-in, check-out) → request → issue → PDF → public check → revoke; and the
    certificate stays what the record said when issued, whatever is credited later."""
    admin = c.admin
    member = c.volunteer(0)
    events = [publish(admin, points_per_hour=10, starts_in=timedelta(hours=1 + i * 3)) for i in range(3)]
    for event in events:
        sign_up(member, event)
    for event, minutes in zip(events[:2], (45, 60)):  # 45 + 60 minutes credited
        with at(when(event) - timedelta(minutes=5)):
            check(member, admin, event, "check_in")
        with at(when(event) + timedelta(minutes=minutes)):
            check(member, admin, event, "check_out")
    later = when(events[1]) + timedelta(hours=2)
    with at(later):
        # The attendance counts on the day of its check-in (5 minutes before the start: maybe the day before).
        first_day = (when(events[0]) - timedelta(minutes=5)).astimezone(SHANGHAI).date().isoformat()
        member.relogin()  # WeChat's content check wants a session of the last 2 hours
        cert = asked(member, start=first_day, end=later.astimezone(SHANGHAI).date().isoformat())
        pending = admin.get("/v1/admin/certificates?status=pending").json["items"]
        assert [item["id"] for item in pending] == [cert["id"]]
        resp = admin.post(f"/v1/admin/certificates/{cert['id']}/issue")
        assert resp.status == 200, resp.body
        done = resp.json
        assert done["status"] == "issued" and done["total_minutes"] == 105 and done["line_count"] == 2
        assert rules.valid_number(done["number"]) and done["number"].endswith("-000001")
        assert done["issuer"] == c_name(c) and done["signatory"] == "—"
        assert done["check_url"].endswith(f"/v/{done['number']}")
        assert [i["id"] for i in admin.get("/v1/admin/certificates?status=issued").json["items"]] == [cert["id"]]
        assert admin.get("/v1/admin/certificates").json["items"] == []  # pending by default: none left

        pdf = member.get(f"/v1/certificates/{cert['id']}/pdf")
        assert pdf.status == 200 and pdf.headers["Content-Type"] == "application/pdf"
        assert pdf.body.startswith(b"%PDF-")
        text = pdf_text(pdf.body)
        for expected in ("志愿服务记录证明", "王志愿", done["number"], "1 小时 45 分钟", "105", "社区义诊志愿服务",
                         "幸福小区中心广场", c_name(c), rules.volunteer_number(member.id)):
            assert expected in text, (expected, text)
        assert admin.get(f"/v1/certificates/{cert['id']}/pdf").body == pdf.body  # the admin's is the same

        check_answer = verify(api, done["number"], " 王志愿 ").json  # trimmed
        assert check_answer == {"valid": True, "status": "issued", "name_masked": "王**", "total_minutes": 105,
                                "issuer": c_name(c), "issued_at": done["issued_at"]}

    # A third check-out credited after the issue: the certificate (its PDF, its check) does not change.
    with at(when(events[2]) - timedelta(minutes=5)):
        check(member, admin, events[2], "check_in")
    with at(when(events[2]) + timedelta(minutes=30)):
        check(member, admin, events[2], "check_out")
    with at(when(events[2]) + timedelta(hours=2)):
        open_checks()
        assert pdf_text(member.get(f"/v1/certificates/{cert['id']}/pdf").body) == text
        assert verify(api, done["number"], "王志愿").json["total_minutes"] == 105

        revoked = admin.post(f"/v1/admin/certificates/{cert['id']}/revoke", {"reason": "记录有误，重新出具"})
        assert revoked.status == 200 and revoked.json["status"] == "revoked", revoked.body
        gone = verify(api, done["number"], "王志愿").json
        assert (gone["valid"], gone["status"], gone["name_masked"]) == (False, "revoked", "王**")
        assert "已于" in pdf_text(member.get(f"/v1/certificates/{cert['id']}/pdf").body)  # the PDF says revoked
        assert_refused(admin.post(f"/v1/admin/certificates/{cert['id']}/revoke", {"reason": "再来一次"}), 409,
                       "INVALID_STATE")


def told(member) -> list[tuple]:
    """The volunteer's certificate messages, oldest first (test-only look at the outbox: what the sender delivers)."""
    from tongxin.adapters.dynamo.models import OutboxModel
    found = [m for m in OutboxModel.scan(OutboxModel.recipient_id == member.id) if m.kind == "certificate_decided"]
    return [(m.data["result"], m.data.get("number"), m.data.get("reason"))
            for m in sorted(found, key=lambda m: m.created_at)]


def c_name(c) -> str:
    from tongxin.adapters.dynamo.models import CommunityModel
    return CommunityModel.get(c.id).name


# --- requesting --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("start, end, field", [
    ("0001-01-01", None, "from"),  # year 1: far beyond 10 years
    (None, "9999-12-31", "to"),  # after today
    ("2026-02-30", None, "from"),  # no such day
    (None, "2026-13-01", "to"),
    ("2026/01/01", None, "from"),  # the pattern
    ("", None, "from"),
], ids=["year-1", "year-9999", "feb-30", "month-13", "slashes", "empty"])
def test_bad_periods_are_400_naming_the_field(c, start, end, field):
    member = volunteer_with_services(c, 1)
    assert_refused(ask(member, start=start, end=end), 400, "VALIDATION_FAILED", field)


def test_period_edges_ten_years_today_and_order(c):
    member = volunteer_with_services(c, 1)
    tomorrow = (today() + timedelta(days=1)).isoformat()
    assert_refused(ask(member, end=tomorrow), 400, "VALIDATION_FAILED", "to")
    yesterday = (today() - timedelta(days=1)).isoformat()
    assert_refused(ask(member, start=today().isoformat(), end=yesterday), 400, "VALIDATION_FAILED", "from")
    end = today()
    try:
        start = end.replace(year=end.year - 10)
    except ValueError:
        start = end.replace(year=end.year - 10, day=28)
    assert_refused(ask(member, start=(start - timedelta(days=1)).isoformat(), end=end.isoformat()), 400,
                   "VALIDATION_FAILED", "from")
    assert ask(member, start=start.isoformat(), end=end.isoformat()).status == 201  # exactly 10 years


@pytest.mark.parametrize("purpose, status", [("   ", 400), ("", 400), ("甲" * 100, 201), ("甲" * 101, 400),
                                             ("升学\n材料", 400)], ids=["blank", "empty", "max", "over", "newline"])
def test_purpose_edges(c, purpose, status):
    member = volunteer_with_services(c, 1)
    resp = ask(member, purpose=purpose)
    assert resp.status == status, resp.body
    if status == 400:
        assert_refused(resp, 400, "VALIDATION_FAILED", "purpose")


def test_purpose_passes_content_security(c):
    member = volunteer_with_services(c, 1)
    assert_refused(ask(member, purpose="违禁内容"), 400, "CONTENT_REJECTED")
    assert ask(member).status == 201  # nothing was written by the refused one


def test_one_pending_at_a_time_refuse_then_ask_again(c):
    member = volunteer_with_services(c, 2)
    first = asked(member)
    assert_refused(ask(member), 409, "CERTIFICATE_PENDING")
    refused = c.admin.post(f"/v1/admin/certificates/{first['id']}/refuse", {"reason": "请补充用途说明"})
    assert refused.status == 200 and refused.json["status"] == "refused", refused.body
    assert refused.json["refuse_reason"] == "请补充用途说明"
    assert_refused(c.admin.post(f"/v1/admin/certificates/{first['id']}/refuse", {"reason": "重复"}), 409,
                   "INVALID_STATE")
    assert_refused(c.admin.post(f"/v1/admin/certificates/{first['id']}/issue"), 409, "INVALID_STATE")
    assert_refused(member.get(f"/v1/certificates/{first['id']}/pdf"), 409, "INVALID_STATE")
    assert told(member) == [("refused", None, "请补充用途说明")]
    second = asked(member)  # the refusal freed the slot
    mine = member.get("/v1/me/certificates").json["items"]
    assert [item["id"] for item in mine] == [second["id"], first["id"]]  # newest first
    issued_one = c.admin.post(f"/v1/admin/certificates/{second['id']}/issue")
    assert issued_one.status == 200
    assert told(member)[-1] == ("issued", issued_one.json["number"], None)
    assert_refused(c.admin.post(f"/v1/admin/certificates/{second['id']}/issue"), 409, "INVALID_STATE")  # twice
    assert_refused(c.admin.post(f"/v1/admin/certificates/{second['id']}/refuse", {"reason": "晚了"}), 409,
                   "INVALID_STATE")
    assert asked(member)["status"] == "pending"  # issuing freed it too


def test_no_services_and_only_this_communitys_record(c, api):
    member = c.volunteer(0)
    assert_refused(ask(member), 409, "NO_SERVICES")
    other = make_community(api, grids=1)
    seed_services(member.id, other.id, 2)  # served elsewhere before moving: not this community's to certify
    assert_refused(ask(member), 409, "NO_SERVICES")
    seed_services(member.id, c.id, 1, minutes=0)  # a no-show: credits nothing
    assert_refused(ask(member), 409, "NO_SERVICES")
    seed_services(member.id, c.id, 1, minutes=90, first=datetime.combine(
        today() - timedelta(days=400), datetime.min.time(), tzinfo=SHANGHAI))  # outside the year asked
    assert_refused(ask(member), 409, "NO_SERVICES")
    seed_services(member.id, c.id, 1, minutes=75)
    cert = issued(c, member)
    assert (cert["line_count"], cert["total_minutes"]) == (1, 75)


def test_who_may_request_and_handle(c, api):
    resident = c.resident(0)
    assert_refused(ask(resident), 403, "FORBIDDEN")  # not a registered volunteer
    member = volunteer_with_services(c, 1)
    cert = asked(member)
    for person in (resident, member, c.grid_worker(0)):
        assert_refused(person.post(f"/v1/admin/certificates/{cert['id']}/issue"), 403, "FORBIDDEN")
        assert_refused(person.get("/v1/admin/certificates"), 403, "FORBIDDEN")
    assert_refused(resident.get(f"/v1/certificates/{cert['id']}/pdf"), 404, "NOT_FOUND")
    other = make_community(api, grids=1)
    assert_refused(other.admin.post(f"/v1/admin/certificates/{cert['id']}/issue"), 404, "NOT_FOUND")
    assert_refused(other.admin.post(f"/v1/admin/certificates/{cert['id']}/refuse", {"reason": "不是我们的"}), 404,
                   "NOT_FOUND")
    assert other.admin.get("/v1/admin/certificates").json["items"] == []
    # An admin whose role is taken away between two calls: the second is refused.
    deputy = c.with_roles(c.resident(0), ["admin"])
    assert deputy.get("/v1/admin/certificates").status == 200
    c.with_roles(deputy, ["volunteer"])
    assert_refused(deputy.post(f"/v1/admin/certificates/{cert['id']}/issue"), 403, "FORBIDDEN")
    done = c.admin.post(f"/v1/admin/certificates/{cert['id']}/issue")
    assert done.status == 200
    assert_refused(other.admin.get(f"/v1/certificates/{cert['id']}/pdf"), 404, "NOT_FOUND")
    assert_refused(resident.get(f"/v1/certificates/{cert['id']}/pdf"), 404, "NOT_FOUND")


def test_an_admin_does_not_certify_themself(c):
    admin = c.with_roles(c.volunteer(0), ["admin", "volunteer"])
    seed_services(admin.id, c.id, 1)
    cert = asked(admin)
    assert_refused(admin.post(f"/v1/admin/certificates/{cert['id']}/issue"), 409, "SELF_CERTIFICATE")
    assert c.admin.post(f"/v1/admin/certificates/{cert['id']}/issue").status == 200


def test_real_name_required_and_re_checked_at_issue(c):
    member = volunteer_with_services(c, 1)
    UserModel(member.id).update(actions=[UserModel.real_name.remove()])
    assert_refused(ask(member), 409, "REAL_NAME_REQUIRED")
    UserModel(member.id).update(actions=[UserModel.real_name.set("王志愿")])
    cert = asked(member)
    UserModel(member.id).update(actions=[UserModel.real_name.set("王志原")])  # changed after the request
    assert_refused(c.admin.post(f"/v1/admin/certificates/{cert['id']}/issue"), 409, "REAL_NAME_REQUIRED")
    assert CertificateModel.get(cert["id"]).status == "pending"  # nothing written
    assert CounterModel.count(rules.pending_key(member.id)) == 1


# --- numbers ---------------------------------------------------------------------------------------------------

def test_numbers_follow_each_other_and_are_never_reused(c, api):
    fresh = make_community(api, grids=1)
    year = today().year
    people = [volunteer_with_services(fresh, 1) for _ in range(3)]
    numbers = [issued(fresh, person)["number"] for person in people[:2]]
    short = rules.community_short(fresh.id)
    assert numbers == [f"TXZM-{year}-{short}-000001", f"TXZM-{year}-{short}-000002"]
    first = CertificateModel.by_number.query(numbers[0])
    first_id = next(iter(first)).id
    assert fresh.admin.post(f"/v1/admin/certificates/{first_id}/revoke", {"reason": "撤销"}).status == 200
    assert issued(fresh, people[2])["number"] == f"TXZM-{year}-{short}-000003"  # the revoked one stays taken
    # A number taken behind the counter's back (a lost race): the issue moves on to the next free one.
    CounterModel(rules.number_key(f"TXZM-{year}-{short}-000004"), n=1).save()
    fourth = volunteer_with_services(fresh, 1)
    assert issued(fresh, fourth)["number"] == f"TXZM-{year}-{short}-000005"


# --- the public check ------------------------------------------------------------------------------------------

def test_check_answers_nothing_unless_number_and_name_match(c, api):
    member = volunteer_with_services(c, 2, minutes=30)
    cert = issued(c, member)
    nothing = {"valid": False, "status": None, "name_masked": None, "total_minutes": None, "issuer": None,
               "issued_at": None}
    assert verify(api, cert["number"], "王志").json == nothing  # wrong name
    assert verify(api, cert["number"], "王志愿愿").json == nothing
    assert verify(api, cert["number"][:-1] + "9", "王志愿").json == nothing  # wrong number
    assert verify(api, "NOT-A-NUMBER", "王志愿").json == nothing
    assert verify(api, cert["number"].lower(), "王志愿").json["valid"] is True  # case of the letters
    assert_refused(verify(api, cert["number"], "   "), 400, "VALIDATION_FAILED", "name")
    assert_refused(api.get("/v1/certificates/verify?number=TXZM"), 400, "VALIDATION_FAILED", "name")
    assert_refused(verify(api, "X" * 41, "王志愿"), 400, "VALIDATION_FAILED", "number")


def test_twenty_checks_a_minute_per_address_then_429(c, api):
    member = volunteer_with_services(c, 1)
    cert = issued(c, member)
    open_checks()
    for _ in range(certificate_checks.VERIFY_PER_MINUTE):
        assert verify(api, cert["number"], "王志愿").status == 200
    refused = verify(api, cert["number"], "王志愿")
    assert_refused(refused, 429, "RATE_LIMITED")
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    page = api.get(f"/v/{cert['number']}?name=王志愿")
    assert page.status == 200 and "查询过于频繁" in page.body.decode() and "证明真实有效" not in page.body.decode()
    assert api.get(f"/v/{cert['number']}").status == 200  # the bare form is not a check


def test_the_qr_page_asks_for_the_name_and_answers(c, api):
    member = volunteer_with_services(c, 1, minutes=90)
    cert = issued(c, member)
    bare = api.get(f"/v/{cert['number']}")
    assert bare.status == 200 and bare.headers["Content-Type"].startswith("text/html")
    html = bare.body.decode()
    assert '<meta charset="utf-8">' in html and "请输入证明上志愿者的姓名" in html and cert["number"] in html
    good = api.get(f"/v/{cert['number']}?name=王志愿").body.decode()
    assert "证明真实有效" in good and "王**" in good and "1 小时 30 分钟" in good and "王志愿" not in good.replace(
        'value="王志愿"', "")
    bad = api.get(f"/v/{cert['number']}?name=李四").body.decode()
    assert "未找到相符的证明" in bad and "王**" not in bad
    assert "&lt;script&gt;" in api.get(f"/v/{cert['number']}?name=<script>").body.decode()


# --- size and the 500 lines ----------------------------------------------------------------------------------------

def test_500_lines_fit_and_501_ask_for_a_shorter_period(c, api):
    member = c.volunteer(0)
    seed_services(member.id, c.id, rules.MAX_LINES, minutes=61, title="社区" * 20, place="幸福小区" * 25,
                  organiser="网格员甲乙丙丁戊己庚辛壬癸")
    cert = issued(c, member, start=(today() - timedelta(days=rules.MAX_LINES + 5)).isoformat())
    assert (cert["line_count"], cert["total_minutes"], cert["star_level"]) == (500, 500 * 61, "二星")
    raw = CertificateModel.get(cert["id"]).serialize()
    size = len(str(raw).encode("utf-8"))
    assert size < 100_000, size  # far below DynamoDB's 400 KB item limit (measured: docs/api.md "志愿服务记录证明")
    pdf = member.get(f"/v1/certificates/{cert['id']}/pdf")
    assert pdf.status == 200
    text = pdf_text(pdf.body)
    assert "500 次" in text and "508 小时 20 分钟" in text
    seed_services(member.id, c.id, 1, first=datetime.combine(today() - timedelta(days=rules.MAX_LINES + 2),
                                                             datetime.min.time(), tzinfo=SHANGHAI))
    assert_refused(ask(member, start=(today() - timedelta(days=rules.MAX_LINES + 5)).isoformat()), 409,
                   "TOO_MANY_SERVICES")


# --- what each route costs ----------------------------------------------------------------------------------------

def test_call_counts(c, api):
    member = volunteer_with_services(c, 3)
    resp = ask(member)
    assert resp.status == 201
    meter = api.last_meter
    # the caller; the period's attendances (one Query); ONE transaction; WeChat's content check
    assert (meter.reads, meter.writes, sum(meter.wechat.values())) == (2, 1, 1), (meter.dynamo, meter.wechat)
    cert_id = resp.json["id"]
    c.admin.get("/v1/admin/certificates")
    assert (api.last_meter.reads, api.last_meter.writes) == (2, 0)
    c.admin.post(f"/v1/admin/certificates/{cert_id}/issue")
    # the caller; the certificate, the community and the year's counter (one BatchGetItem); the period (one Query);
    # ONE transaction
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1, "Query": 1, "TransactWriteItems": 1}
    member.get(f"/v1/certificates/{cert_id}/pdf")
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1}
    member.get("/v1/me/certificates")
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "Query": 1}
    number = CertificateModel.get(cert_id).number
    verify(api, number, "王志愿")
    # no caller; the address's minute (one conditional write); by_number (one Query); the certificate
    assert dict(api.last_meter.dynamo) == {"TransactWriteItems": 1, "Query": 1, "BatchGetItem": 1}
    c.admin.post(f"/v1/admin/certificates/{cert_id}/revoke", {"reason": "测试"})
    assert dict(api.last_meter.dynamo) == {"GetItem": 1, "BatchGetItem": 1, "TransactWriteItems": 1}


# --- for the authorisation table and the fault module ------------------------------------------------------------

TABLE_NUMBER = "TXZM-2026-AAAA-000001"  # a well-formed number that names nothing


def seed_certificate(community_id: str, user_id: str, status: str = "pending") -> str:
    """A certificate of ``user_id`` as a request (and, ``issued``, an issue) would have left it: test-only write."""
    now = utcnow()
    cert_id = f"crt_{uuid.uuid4().hex[:16]}"
    item = CertificateModel(cert_id, community_id=community_id, user_id=user_id, real_name="表格人",
                            volunteer_number=rules.volunteer_number(user_id), period_from="2026-01-01",
                            period_to=today().isoformat(), purpose="表格", status=status,
                            listed=f"{community_id}#{status}", created_at=now)
    if status == "issued":
        lines = [rules.line(today(), "表格活动", "服务中心", 90, "表格管理员")]
        item.number = rules.number_of(today().year, community_id, 900_000 + int(uuid.uuid4().int % 99_999))
        item.lines, item.line_count, item.total_minutes = rules.encode_lines(lines), 1, 90
        item.issuer, item.signatory, item.handler_name, item.issued_at = "表格社区", "—", "表格管理员", now
    item.save()
    return cert_id


def table_path(path: str, state: str, community_id: str, owner_id: str) -> str:
    """The path of a certificate route for the authorisation table's (and the fault module's) cell: ``state`` is
    ``certificate:<status>`` (a fresh certificate of ``owner_id``) or ``certificate_check`` (the check's counter
    reset: the table checks more than 20 times a minute from one address)."""
    if state == "certificate_check":
        open_checks()
        return path.replace("{number}", TABLE_NUMBER)
    return path.replace("{certificate_id}", seed_certificate(community_id, owner_id, state.split(":", 1)[1]))


def test_deletion_withdraws_a_pending_request_and_leaves_an_issued_certificate_checkable(c, api):
    """注销: the pending request is refused by the system (the admin's list no longer shows it pending); the issued
    certificate is the community's record and still checks by its number and the full name."""
    member = volunteer_with_services(c, 2)
    done = issued(c, member)
    pending = asked(member, start=(today() - timedelta(days=30)).isoformat())
    assert member.delete("/v1/me").status == 204
    from tongxin.adapters.dynamo.models import CertificateModel
    stored = CertificateModel.get(pending["id"])
    assert (stored.status, stored.refuse_reason) == ("refused", "申请人已注销账号")
    listed = [x["id"] for x in c.admin.get("/v1/admin/certificates?status=pending").json["items"]]
    assert pending["id"] not in listed
    refused_list = [x["id"] for x in c.admin.get("/v1/admin/certificates?status=refused").json["items"]]
    assert pending["id"] in refused_list
    found = verify(api, done["number"], "王志愿")
    assert found.status == 200 and (found.json["valid"], found.json["status"]) == (True, "issued")
