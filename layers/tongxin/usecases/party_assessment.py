"""双报到 考核: a quarter's assessment of the community's party members (``GET /v1/admin/party-members``).

A page is O(page): ONE Query of the member directory's role index (``role#party_member#…``, newest joined first,
the same entries ``GET /v1/admin/members?role=party_member`` reads), then ONE BatchGetItem of the page's members
(names, unit) and their service record items of the year up to the quarter asked (``service_record``: ≤ 4 a
member), at most 5 keys a member and 20 members a page: ≤ 100 keys. The community's rules (its settings) are one
more read. So a page costs 4 reads (caller, community, Query, BatchGetItem) whatever the community's size, and the
whole community (``format=csv``, ``assess_community``) 2 reads per 20 members: O(members).

Counted is what the members already do (``service_record``: attendances that credited minutes, wishes confirmed,
posts claimed, requests answered as staff), never typed twice. A member meets the rules when the quarter holds at
least ``party_services_per_quarter_min`` services and the year, up to the end of the quarter asked, at least
``party_hours_per_year_min`` hours; ``missing`` names what is short (``services``, ``hours``).
"""
from __future__ import annotations

import csv
import codecs
import io

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo import batch
from ..adapters.dynamo.models import CommunityModel, CounterModel, MemberEntryModel, UserModel
from ..domain import party as rules
from ..domain.access import Principal, Role, require_role
from ..domain.clock import utcnow
from ..domain.errors import NotFound
from . import paging, service_record
from ..domain.text import csv_cell
from ..domain.text import DEFAULT_NICKNAME

PAGE_MAX = 20  # members a page: 20 × (the user + 4 quarters) = 100 keys, one BatchGetItem
DIRECTORY_PREFIX = f"role#{Role.PARTY_MEMBER.value}#"  # domain/directory.entry_keys
CSV_HEADER = ("成员ID", "昵称", "姓名", "共建单位ID", "季度", "服务次数", "参加活动", "圆梦心愿", "领岗", "响应诉求",
              "本季度服务分钟", "本年服务分钟", "是否达标", "未达标项")
MISSING_NAMES = {"services": "服务次数", "hours": "服务时长"}


def community_rules(community: CommunityModel | None) -> rules.Rules:
    def value(name: str, default: int) -> int:
        stored = getattr(community, name, None) if community is not None else None
        return int(stored) if stored is not None else default
    defaults = rules.Rules()
    return rules.Rules(value("party_services_per_quarter_min", defaults.services_per_quarter_min),
                       value("party_hours_per_year_min", defaults.hours_per_year_min))


def _load_rules(community_id: str) -> rules.Rules:
    try:
        return community_rules(CommunityModel.get(community_id, consistent_read=True))
    except DoesNotExist:
        raise NotFound("社区不存在") from None


def _present_page(entries: list[MemberEntryModel], community_id: str, quarter: str, rule: rules.Rules) -> list[dict]:
    """The page's members, each with the quarter's services and the year's minutes: ONE BatchGetItem."""
    ids = list(dict.fromkeys(e.user_id for e in entries))
    if not ids:
        return []
    quarters = rules.quarters_to(quarter)
    wanted = [(UserModel, uid) for uid in ids] + [(CounterModel, service_record.key(uid, q))
                                                  for uid in ids for q in quarters]
    raw = batch.get_raw(*wanted)
    users = [UserModel.from_raw_data(item) if item is not None else None for item in raw[:len(ids)]]
    counts: dict[str, dict[str, int]] = {}
    names = (rules.SERVICES, rules.MINUTES) + rules.SERVICE_KINDS
    for item in raw[len(ids):]:
        if item is not None:
            counts[item["key"]["S"]] = {n: int(item[n]["N"]) for n in names if n in item and "N" in item[n]}
    shown = []
    for user in users:
        if user is None or user.status != "active" or user.community_id != community_id \
                or Role.PARTY_MEMBER.value not in (user.roles or ()):
            continue  # the invariant says never; an entry is not trusted over its user
        this = rules.Quarter.of(counts.get(service_record.key(user.id, quarter)))
        year_minutes = sum(max(0, counts.get(service_record.key(user.id, q), {}).get(rules.MINUTES, 0))
                           for q in quarters)
        meets, missing = rules.assess(this, year_minutes, rule)
        shown.append({"user": {"id": user.id, "nickname": user.nickname or DEFAULT_NICKNAME,
                               "real_name": user.real_name},
                      "unit_id": user.party_unit_id, "quarter": this.to_api(), "year_minutes": year_minutes,
                      "meets_rules": meets, "missing": missing})
    return shown


def _query(community_id: str):
    def query(**kw):
        return MemberEntryModel.query(community_id, MemberEntryModel.entry_key.startswith(DIRECTORY_PREFIX),
                                      scan_index_forward=False, **kw)
    return query


def list_party_members(principal: Principal, *, quarter: str | None, limit: int, cursor: str | None) -> dict:
    """A page (≤ 20) of the community's party members with the quarter's services and whether they meet the rules.
    400 for a malformed or future ``quarter`` (default: the current Shanghai quarter)."""
    grant = require_role(principal, Role.ADMIN)
    asked = rules.parse_quarter(quarter, utcnow())
    rule = _load_rules(grant.community_id)
    page = paging.page(_query(grant.community_id), min(limit, PAGE_MAX), cursor,
                       lambda entries: _present_page(entries, grant.community_id, asked, rule),
                       scope=f"party-members:{grant.community_id}", model=MemberEntryModel)
    return {"quarter": asked, "rules": _rules_view(rule), **page}


def _rules_view(rule: rules.Rules) -> dict:
    return {"services_per_quarter_min": rule.services_per_quarter_min, "hours_per_year_min": rule.hours_per_year_min}


def assess_community(community_id: str, quarter: str, rule: rules.Rules | None = None) -> list[dict]:
    """Every party member of the community for ``quarter``: the pages one after another (2 reads per 20 members)."""
    rule = rule or _load_rules(community_id)
    rows: list[dict] = []
    cursor = None
    while True:
        page = paging.page(_query(community_id), PAGE_MAX, cursor,
                           lambda entries: _present_page(entries, community_id, quarter, rule),
                           scope=f"party-members:{community_id}", model=MemberEntryModel)
        rows += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return rows


def community_csv(principal: Principal, quarter: str | None) -> tuple[str, bytes]:
    """``format=csv``: the whole community's assessment for the quarter (O(members) reads), UTF-8 with a BOM."""
    grant = require_role(principal, Role.ADMIN)
    asked = rules.parse_quarter(quarter, utcnow())
    rows = assess_community(grant.community_id, asked, _load_rules(grant.community_id))
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        q = r["quarter"]
        writer.writerow([r["user"]["id"], csv_cell(r["user"]["nickname"]), csv_cell(r["user"]["real_name"]),
                         r["unit_id"] or "", asked, q["services"], q["events"], q["wishes"], q["posts"], q["requests"],
                         q["minutes"], r["year_minutes"], "是" if r["meets_rules"] else "否",
                         "、".join(MISSING_NAMES[m] for m in r["missing"])])
    return asked, codecs.BOM_UTF8 + out.getvalue().encode("utf-8")
