"""The call budget every route keeps (issue 7), checked on every request the API tests make.

The in-process DynamoDB (moto, see conftest) and the WeChat client's HTTP session report each call to the meter
of the thread that made it; ``tests.support.Api`` opens a meter around each request and checks it against the
route's budget, failing the test at the request that overspent. A route added later is held to the defaults
without anyone remembering to; the few that may spend more are named below with their reason and bound.
"""
from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field

READS = {"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems"}
WRITES = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}


@dataclass(frozen=True)
class Budget:
    reads: int
    writes: int
    wechat: int = 0
    total: int | None = None  # DynamoDB calls in all, where the contract says so (login)
    why: str = ""


READ_ROUTE = Budget(reads=2, writes=0, why="a read: the caller + one read of what is shown")
WRITE_ROUTE = Budget(reads=2, writes=1, why="a change: the caller (+ Idempotency-Key record) + what it changes")
# A request that lost a race (a cancelled transaction) may retry once: one more write and two more reads.
RACE_ALLOWANCE = Budget(reads=2, writes=1)
EXCEPTIONS: dict[tuple[str, str], Budget] = {
    ("POST", "/v1/auth/login"): Budget(reads=2, writes=1, wechat=1, total=2,
                                       why="code2session + the identity and the user (or the new user's write)"),
    ("POST", "/v1/wishes"): Budget(reads=2, writes=1, wechat=1, why="WeChat's content check"),
    ("POST", "/v1/requests"): Budget(reads=2, writes=1, wechat=1, why="WeChat's content check (content, address)"),
    ("GET", "/v1/admin/requests/stats"): Budget(
        reads=12, writes=0, why="a street's: the street, its communities' names (one BatchGetItem) and their "
                                "counters, ⌈communities × buckets / 100⌉ BatchGetItems (74 buckets at most a "
                                "community: 9 calls cover a street of 12 communities over a year); an admin's: "
                                "one BatchGetItem"),
    ("GET", "/v1/street/stats"): Budget(
        reads=12, writes=0, why="the caller (GetItem), the street (one BatchGetItem), then every community's keys "
                                "of every area in one list, ⌈communities × keys / 100⌉ BatchGetItems "
                                "(usecases/rollups.calls_for): a community's keys are 4 areas × the window's "
                                "day and month buckets + its months of hours + its volunteers counter + its name, "
                                "at most 191 over a year and 142 over 90 days: 10 calls cover 5 communities over a "
                                "year, 7 over 90 days (tests/api/test_rollups.py holds the exact count)"),
    ("GET", "/v1/district/stats"): Budget(
        reads=14, writes=0, why="the caller (GetItem), the district and its streets (two BatchGetItems), then every "
                                "community of every street at once, ⌈communities × keys / 100⌉ BatchGetItems as "
                                "GET /v1/street/stats (tests/api/test_rollups.py holds the exact count)"),
    ("GET", "/v1/street/bulletin"): Budget(
        reads=3, writes=0, why="通报: the caller (GetItem), the street and the month's snapshot (one BatchGetItem), "
                               "then — no snapshot — the district (thresholds) and each community's item and month "
                               "bucket in one list, ⌈(1 + 2 × communities) / 100⌉ BatchGetItems: one up to 49 "
                               "communities (tests/api/test_bulletin.py holds the exact count)"),
    ("GET", "/v1/district/bulletin"): Budget(
        reads=4, writes=0, why="通报: the caller (GetItem), the district and the month's snapshot (one "
                               "BatchGetItem), then — no snapshot — its streets and its departments' items and "
                               "month buckets, ⌈(streets + 2 × departments) / 100⌉ BatchGetItems, and its "
                               "communities' items and month buckets, ⌈2 × communities / 100⌉: one each up to 49 "
                               "(tests/api/test_bulletin.py holds the exact count)"),
    ("POST", "/v1/requests/{request_id}/escalate"): Budget(
        reads=3, writes=1, wechat=1, why="WeChat's content check (the reason); from the street, the department named "
                                         "and the request's district (its limits): one BatchGetItem"),
    ("GET", "/v1/street/departments"): Budget(reads=3, writes=0,
                                              why="the street (its district), then the district's departments: one "
                                                  "Query of departments.by_district"),
    ("GET", "/v1/grid/tasks"): Budget(reads=5, writes=0, why="a page reads on into the next section while it has "
                                                             "room: one Query per section (requests, wishes, "
                                                             "check-ins), three at most, and the wishes' section "
                                                             "its wishes by key (one BatchGetItem: the index holds "
                                                             "keys only)"),
    # 微心愿 lists (usecases/wishes/pages.py; tests/api/test_wishes_pages.py holds the exact counts): index entries
    # hold keys (and status, grid, category), the page's wishes are one BatchGetItem (none for an empty page).
    ("GET", "/v1/wishes"): Budget(reads=5, writes=0,
                                  why="the caller, the entries (one Query; a grid, category or visibility filter "
                                      "reads on: three at most, 4 × limit + 4,000 entries), the page's wishes "
                                      "(one BatchGetItem)"),
    ("GET", "/v1/wishes/mine"): Budget(reads=3, writes=0,
                                       why="the caller, the entries (one Query), the page's wishes (one BatchGetItem)"),
    ("GET", "/v1/wishes/claimed"): Budget(reads=3, writes=0, why="as GET /v1/wishes/mine"),
    ("POST", "/v1/me/phone"): Budget(reads=2, writes=1, wechat=1, why="WeChat's phone number"),
    ("GET", "/v1/admin/invites/{code}/qrcode"): Budget(reads=2, writes=0, wechat=1,
                                                       why="a mini-program code (format=wxacode)"),
    ("POST", "/v1/wishes/{wish_id}/confirm"): Budget(reads=3, writes=1, wechat=1,
                                                     why="a credit reads the claimer's balance (ledger balance_after); "
                                                         "WeChat's content check of the comment"),
    ("GET", "/v1/admin/stats"): Budget(reads=5, writes=0,
                                       why="one BatchGetItem of counters per area (wishes, events, volunteer "
                                           "hours, points), 74 at most each"),
    ("GET", "/v1/me/volunteer-record"): Budget(reads=3, writes=0, why="my totals: one BatchGetItem of two counters"),
    ("GET", "/v1/admin/exports/volunteer-hours"): Budget(reads=12, writes=0,
                                                         why="the month's attendances, one Query per 1 MB page"),
    ("GET", "/v1/events/{event_id}/qrcode"): Budget(reads=2, writes=0, wechat=1,
                                                    why="a mini-program code (kind=wxacode)"),
    ("POST", "/v1/checkins"): Budget(reads=3, writes=1, why="a check-out credit reads the balance (ledger)"),
    ("POST", "/v1/events/{event_id}/attendance/{user_id}/adjust"): Budget(
        reads=4, writes=1, why="the event, the attendance, and the balance for a points correction"),
    ("GET", "/v1/events/{event_id}"): Budget(reads=3, writes=0,
                                             why="a waitlisted caller's position: one COUNT Query of those ahead"),
    ("GET", "/v1/events"): Budget(reads=3, writes=0, why="my status on the page's events: one BatchGetItem"),
    ("GET", "/v1/me/events"): Budget(reads=3, writes=0, why="the page's events: one BatchGetItem"),
    ("GET", "/v1/events/{event_id}/roster"): Budget(reads=3, writes=0, why="the event, to know its organisers"),
    ("POST", "/v1/events/{event_id}/signup"): Budget(reads=2, writes=2,
                                                     why="a waitlisted sign-up takes its ticket first (one atomic "
                                                         "ADD on the event), then its transaction"),
    ("DELETE", "/v1/events/{event_id}/signup"): Budget(reads=3, writes=1,
                                                       why="the first waitlisted (a Query) to promote in the change"),
    ("PATCH", "/v1/events/{event_id}"): Budget(reads=4, writes=2, wechat=1,
                                               why="the first waitlisted (a Query) when capacity is raised; a new "
                                                   "unit_id's unit and agreement (one BatchGetItem); past 40 "
                                                   "promotions a second transaction; WeChat's content check "
                                                   "(title, description)"),
    ("DELETE", "/v1/me"): Budget(reads=19, writes=60,
                                 why="注销 walks the user's wishes (claimed and written: a Query each, and their "
                                     "wishes by key, one BatchGetItem a hundred), requests (接诉即办: name, phone and "
                                     "address erased) and pending redemptions (a Query each, and the balance for "
                                     "each refund), 领岗 claims (a Query and one BatchGetItem of their posts), "
                                     "群众评单 comments (a Query), 微星光 commendations (a Query), 微实事 proposals and "
                                     "验收 comments (a Query each), pending certificate requests and record "
                                     "corrections (a Query each): one write per item touched; the score items of every period since "
                                     "joining (deleted, ≤ 100 a transaction); then the account"),
    ("POST", "/v1/points/awards/{award_id}/reverse"): Budget(
        reads=3, writes=1, why="the award, and the awarded user's balance (ledger balance_after)"),
    ("GET", "/v1/leaderboard"): Budget(reads=3, writes=0,
                                       why="the board's top 50 with their names (a Query of the index), then my "
                                           "own score when I am not among them (a GetItem)"),
    ("GET", "/v1/stores/{store_id}/goods"): Budget(reads=3, writes=0,
                                                   why="the store, so another community's is 404, not an empty shelf"),
    ("GET", "/v1/stores/{store_id}/redemptions"): Budget(
        reads=3, writes=0, why="the store, so another community's is 404, not an empty queue"),
    ("GET", "/v1/admin/messages"): Budget(reads=3, writes=0, why="the page's recipients' names: one BatchGetItem"),
    ("GET", "/v1/admin/members"): Budget(reads=3, writes=0,
                                         why="the directory's page (one Query), then its members as they are now "
                                             "(balance, minutes, roles, names): one BatchGetItem"),
    ("GET", "/v1/admin/members/{user_id}/points"): Budget(
        reads=3, writes=0, why="the member (the member detail's scope check, and the balance), then one Query of "
                               "the ledger's by_time index"),
    ("POST", "/v1/redemptions/verify"): Budget(reads=3, writes=1, why="the pickup code, then its redemption"),
    # 管理后台 扫码登录 (usecases/console.py): public routes read no caller.
    ("POST", "/v1/console/sessions"): Budget(reads=0, writes=1,
                                             why="one transaction: the ticket and its source address's counter"),
    ("GET", "/v1/console/sessions/{ticket}/qrcode"): Budget(reads=1, writes=0, wechat=1,
                                                            why="the ticket, and its mini-program code (format=png)"),
    ("GET", "/v1/console/sessions/{ticket}"): Budget(
        reads=1, writes=1, why="the ticket; the first poll after the approval collects it: one transaction (the "
                               "ticket collected, the session put)"),
    ("POST", "/v1/console/dev-login"): Budget(reads=2, writes=2, wechat=1,
                                              why="dev and test only: the dev:<name> login (code2session, the "
                                                  "identity and the user, or the new user's write), then the "
                                                  "session's put"),
    # 普通链接二维码: the page a code's link opens outside WeChat and the verification file are public and static:
    # nothing read (so nothing about the code told), nothing written, WeChat not asked.
    **{("GET", path): Budget(reads=0, writes=0, why="a static page: nothing read")
       for path in ("/c/{code}", "/i/{code}", "/p/{code}", "/u/{code}", "/{file_name}")},
    # The staff console's pages (routes/console_pages.py): static files of the function, nothing read or written;
    # the data they show comes from the /v1 routes, each held to its own budget.
    **{("GET", path): Budget(reads=0, writes=0, why="the console's static page, script or style: nothing read")
       for path in ("/console", "/console/{page}", "/console/assets/{name}", "/console/events/{event_id}/screen")},
}

# 共建单位 (usecases/units.py; tests/api/test_units.py holds the exact counts).
EXCEPTIONS.update({
    ("GET", "/v1/admin/units"): Budget(reads=4, writes=0, why="the community (its street), the street's units (one "
                                                              "Query a page), the page's agreements with the "
                                                              "community (one BatchGetItem)"),
    ("GET", "/v1/units/{unit_id}/resources"): Budget(reads=3, writes=0, why="the unit and the admin's agreement (one "
                                                                            "BatchGetItem: who may see it), then "
                                                                            "one Query a page"),
    ("GET", "/v1/units/{unit_id}/agreements"): Budget(reads=3, writes=0, why="street staff: the unit (its street), "
                                                                             "then one Query a page"),
    ("GET", "/v1/street/units/{unit_id}/liaisons"): Budget(reads=3, writes=0, why="the unit (its street), then one "
                                                                                   "Query of unit_liaisons a page"),
})

# 领岗 (usecases/posts.py; tests/api/test_posts.py holds the exact counts).
EXCEPTIONS.update({
    ("GET", "/v1/posts"): Budget(reads=4, writes=0, why="one Query a page, then the caller's claims of the page's "
                                                        "posts (one BatchGetItem: `mine`); a liaison naming "
                                                        "community_id also the agreements of their units (one "
                                                        "BatchGetItem)"),
    ("GET", "/v1/posts/{post_id}"): Budget(reads=4, writes=0, why="the post, then its claims (one Query of ≤ 100: "
                                                                  "the headcount's limit); a liaison also the "
                                                                  "agreements of their units (one BatchGetItem)"),
    ("POST", "/v1/posts/{post_id}/withdraw"): Budget(reads=3, writes=1, why="the post and the caller's claim (one "
                                                                            "BatchGetItem); without a claim, a "
                                                                            "liaison's agreements (404 or 409)"),
})

# 双报到 党员报到 and 考核 (usecases/party.py, party_assessment.py; tests/api/test_party_*.py hold the exact counts).
EXCEPTIONS.update({
    ("GET", "/v1/admin/party-members"): Budget(
        reads=12, writes=0, why="the caller and the community (its rules), then a page: one Query of the directory's "
                                "role index and ONE BatchGetItem of ≤ 20 members with their year's ≤ 4 quarter items "
                                "(≤ 100 keys) — 4 reads; format=csv pages through the whole community, 2 reads per "
                                "20 members (the tests' communities: at most 5 pages)"),
})

# 服务卡 (usecases/service_cards.py; tests/api/test_service_cards.py holds the exact counts).
EXCEPTIONS.update({
    ("GET", "/v1/units/{unit_id}/service-cards"): Budget(
        reads=12, writes=0, why="the caller and the unit (who may see it), then a page: the unit's agreements and the "
                                "by_unit index (two Queries), ONE BatchGetItem of ≤ 20 members' year of ≤ 4 quarter "
                                "items (≤ 80 keys) and ONE of their communities with the unit's activity counters "
                                "(≤ 100 keys) — 6 reads; format=csv pages through every member, 2 reads per 20 "
                                "members and each community once (the tests' units: at most 4 pages)"),
})

# 共建项目 and 群众评单 (usecases/co_projects.py; tests/api/test_co_projects.py holds the exact counts): every change is the
# caller, one BatchGetItem of what it names, one transaction, and one content check of the text residents read.
EXCEPTIONS.update({
    ("POST", "/v1/admin/co-projects"): Budget(
        reads=2, writes=1, wechat=1, why="the unit, its agreement, the resource, the post and the served grids "
                                         "(one BatchGetItem, ≤ 54 keys); WeChat's content check (title, need, "
                                         "beneficiaries)"),
    ("POST", "/v1/admin/co-projects/{project_id}/progress"): Budget(
        reads=2, writes=1, wechat=1, why="the project (one BatchGetItem); WeChat's content check (the note)"),
    ("POST", "/v1/admin/co-projects/{project_id}/complete"): Budget(
        reads=2, writes=1, wechat=1, why="the project; WeChat's content check (the note, when given)"),
    ("POST", "/v1/co-projects/{project_id}/rating"): Budget(
        reads=2, writes=1, wechat=1, why="the project and my rating (one BatchGetItem; my grid is the caller as "
                                         "read, the served grids a condition of my grant's check); WeChat's "
                                         "content check (the comment, when given)"),
    ("GET", "/v1/units/{unit_id}/co-projects"): Budget(
        reads=3, writes=0, why="street staff: the unit (its street), then one Query of co_projects.by_unit"),
    ("GET", "/v1/admin/co-projects/{project_id}/ratings"): Budget(
        reads=4, writes=0, why="the project (one BatchGetItem: who may read it), one Query of "
                               "co_project_ratings.by_project_time (≤ 20), the page's raters (one BatchGetItem of "
                               "≤ 20 users; none for an empty page) — usecases/rating_lists.py"),
})

# 微星光 commendations (usecases/commendations.py; tests/api/test_commendations.py holds the exact counts).
EXCEPTIONS.update({
    ("POST", "/v1/admin/commendations"): Budget(
        reads=2, writes=1, wechat=1, why="the person (GetItem: their name, membership); WeChat's content check "
                                         "(title and story)"),
    ("POST", "/v1/admin/commendations/{commendation_id}/revoke"): Budget(
        reads=3, writes=1, why="the commendation (GetItem), then the person's two newest standing ones (one Query "
                               "of by_person: who becomes their latest_commendation)"),
    ("GET", "/v1/admin/commendations/candidates"): Budget(
        reads=4, writes=0, why="the month's two community boards (points, minutes: two Queries of ≤ 20), then "
                               "ONE BatchGetItem of the people and their month's commended counters (≤ 80 keys)"),
})

# 志愿服务记录证明 (usecases/certificates.py; tests/api/test_certificates.py holds the exact counts). The period's
# services are one Query of signups.by_attendee (DynamoDB pages it by 1 MB: 500 lines of the longest text are ≈ 2
# pages); the number race re-reads the year's counter (one GetItem a round, ≤ 2 more).
EXCEPTIONS.update({
    ("POST", "/v1/me/certificates"): Budget(
        reads=4, writes=1, wechat=1, why="the period's attendances (one Query, ≤ 3 pages of 1 MB); WeChat's content "
                                         "check (the purpose); ONE transaction"),
    ("POST", "/v1/admin/certificates/{certificate_id}/issue"): Budget(
        reads=7, writes=1, why="the certificate, the community and the year's counter (one BatchGetItem), the "
                               "period's attendances (one Query, ≤ 3 pages), ≤ 2 re-reads of the counter after a "
                               "lost number race; ONE transaction"),
    ("GET", "/v1/certificates/verify"): Budget(
        reads=2, writes=1, why="public: the address's minute (one conditional write), by_number (one Query), the "
                               "certificate (one BatchGetItem)"),
    ("GET", "/v/{number}"): Budget(
        reads=2, writes=1, why="the check page: with ?name= the same calls as GET /v1/certificates/verify"),
})

# 志愿服务记录更正 (usecases/corrections.py; tests/api/test_corrections.py holds the exact counts). A decision reads the
# correction and its event in one BatchGetItem (the id names the event); approval is the organiser's adjustment.
EXCEPTIONS.update({
    ("POST", "/v1/admin/corrections/{correction_id}/approve"): Budget(
        reads=4, writes=1, why="the correction and its event (one BatchGetItem), then as the adjustment: the "
                               "attendance and the balance for a points correction; ONE transaction"),
    ("GET", "/v1/admin/corrections"): Budget(
        reads=3, writes=0, why="with ?event_id= the event (whose organiser may read it), then one Query of a page"),
})

# 微实事 rounds, proposals, review, delivery (usecases/project_rounds.py, round_delivery.py;
# tests/api/test_project_rounds.py holds the exact counts): the caller, one BatchGetItem, one content check, ONE
# transaction.
EXCEPTIONS.update({
    ("POST", "/v1/admin/project-rounds"): Budget(reads=2, writes=1, wechat=1,
                                                 why="WeChat's content check (the title); the round's Put"),
    ("POST", "/v1/project-rounds/{round_id}/projects"): Budget(
        reads=2, writes=1, wechat=1, why="the round and my proposal counter (one BatchGetItem); WeChat's content "
                                         "check (title and description)"),
    ("GET", "/v1/project-rounds/{round_id}/projects"): Budget(
        reads=3, writes=0, why="the round (one BatchGetItem: whose it is — another community's round is 404, not an "
                               "empty list), then one Query of a page"),
    ("POST", "/v1/projects/{project_id}/reject"): Budget(
        reads=2, writes=1, wechat=1, why="the project (one BatchGetItem); WeChat's content check (the reason)"),
    ("POST", "/v1/projects/{project_id}/progress"): Budget(
        reads=10, writes=2, wechat=1,
        why="the project (one BatchGetItem); WeChat's content check (the note); when the round's voting ended and "
            "the scheduler has not finalised it yet: the round, the finalisation (ballots.finalise: the approved "
            "projects and their vote shards, ≤ 5 reads, one transaction) and the project again"),
    ("POST", "/v1/projects/{project_id}/rate"): Budget(
        reads=2, writes=1, wechat=1, why="the project and my rating (one BatchGetItem); WeChat's content check "
                                         "(the comment, when given)"),
    ("GET", "/v1/projects/{project_id}/ratings"): Budget(
        reads=4, writes=0, why="the project (one BatchGetItem: the admin's community), one Query of "
                               "round_project_ratings.by_project_time (≤ 20), the page's raters (one BatchGetItem of "
                               "≤ 20 users; none for an empty page) — usecases/rating_lists.py"),
})

# 微实事 票选 and results (usecases/ballots.py; tests/api/test_ballots.py holds the exact counts): the ballot reads the
# round and its approved projects, then ONE transaction; the results read the turnout's shards with the round, the
# approved projects, and — until finalised — their vote shards, never the ballots.
EXCEPTIONS.update({
    ("POST", "/v1/project-rounds/{round_id}/ballot"): Budget(
        reads=3, writes=1, why="the round (one BatchGetItem) and its approved projects (one Query of "
                               "round_projects.by_round_status), then ONE transaction (≤ 35 items)"),
    ("GET", "/v1/project-rounds/{round_id}/results"): Budget(
        reads=6, writes=0, why="the round and the turnout's 8 shards (one BatchGetItem), the approved projects (one "
                               "Query), and before the finalisation their vote shards: ⌈projects × 8 / 100⌉ "
                               "BatchGetItems, 3 at most (30 approved at most a round)"),
})

# 代办 (usecases/proxy.py): a proxy action costs the resident's own route's calls plus ONE GetItem (the resident; the
# caller's read is the actor's), with the same number of transactions (the actor's grant check and the proxy-log
# entry ride in the action's own). tests/api/test_proxy.py holds the exact counts against the resident's own routes.
EXCEPTIONS.update({
    ("POST", "/v1/proxy/{user_id}/wishes"): Budget(reads=3, writes=1, wechat=1,
                                                   why="POST /v1/wishes + the resident (GetItem)"),
    ("POST", "/v1/proxy/{user_id}/requests"): Budget(reads=3, writes=1, wechat=1,
                                                     why="POST /v1/requests + the resident (GetItem)"),
    ("POST", "/v1/proxy/{user_id}/events/{event_id}/signup"): Budget(
        reads=3, writes=2, why="POST /v1/events/{event_id}/signup + the resident (GetItem)"),
    ("POST", "/v1/proxy/{user_id}/redemptions"): Budget(reads=3, writes=1,
                                                        why="POST /v1/redemptions + the resident (GetItem)"),
    ("POST", "/v1/proxy/{user_id}/project-rounds/{round_id}/ballot"): Budget(
        reads=4, writes=1, why="POST /v1/project-rounds/{round_id}/ballot + the resident (GetItem)"),
    ("POST", "/v1/me/bind"): Budget(reads=11, writes=1,
                                    why="the caller, the code, the resident with the caller's 党员报到 (one "
                                        "BatchGetItem), and whether the caller holds records (8 Queries of one item: "
                                        "wishes, requests, sign-ups, redemptions, ballots, proposals, 验收 and 群众评单 "
                                        "ratings); ONE transaction (usecases/binding.py)"),
    ("GET", "/v1/admin/managed-residents"): Budget(reads=3, writes=0,
                                                   why="the directory's managed entries (one Query), then the page's "
                                                       "residents as they are now: one BatchGetItem"),
})

# Text shown to others passes WeChat's content check (tongxin/usecases/content.py): one msg_sec_check per request,
# however many fields it carries (they are joined), within the route's usual DynamoDB budget.
CONTENT_CHECKED = {
    ("PATCH", "/v1/me"): "the nickname",
    ("POST", "/v1/wishes/{wish_id}/fulfil"): "the note",
    ("POST", "/v1/events"): "title and description",
    ("POST", "/v1/events/{event_id}/cancel"): "the reason",
    ("POST", "/v1/stores/{store_id}/goods"): "name and description",
    ("PATCH", "/v1/goods/{goods_id}"): "name and description",
    ("POST", "/v1/requests/{request_id}/escalate"): "the reason",
    ("POST", "/v1/requests/{request_id}/resolve"): "the note",
    ("POST", "/v1/requests/{request_id}/rate"): "the comment",
    ("POST", "/v1/requests/{request_id}/extend"): "the reason",
    ("POST", "/v1/requests/{request_id}/extension/reject"): "the reason",
    ("POST", "/v1/requests/{request_id}/supervise"): "the note",
    ("POST", "/v1/admin/posts"): "title, description and skills",  # 领岗 (usecases/posts.py)
    # 共建单位 (usecases/units.py): the unit's name (shown on goods it sponsors), the pledges, a resource.
    ("POST", "/v1/street/units"): "the unit's name",
    ("POST", "/v1/admin/units/{unit_id}/agreement"): "the pledges",
    ("POST", "/v1/units/{unit_id}/resources"): "title and description",
    ("POST", "/v1/me/party-registration"): "real name, work unit and party branch",  # 党员报到 (usecases/party.py)
    ("POST", "/v1/me/volunteer-record/corrections"): "the reason",  # 志愿服务记录更正 (usecases/corrections.py)
}
for _route, _what in CONTENT_CHECKED.items():
    EXCEPTIONS.setdefault(_route, Budget(reads=2, writes=1, wechat=1, why=f"WeChat's content check ({_what})"))
# The POST form of a PATCH route (X-HTTP-Method-Override: PATCH, for wx.request) is the PATCH: the same budget.
for (_method, _path), _budget in list(EXCEPTIONS.items()):
    if _method == "PATCH":
        EXCEPTIONS[("POST", _path)] = _budget


@dataclass
class Meter:
    dynamo: Counter = field(default_factory=Counter)
    wechat: Counter = field(default_factory=Counter)
    cancelled: int = 0

    @property
    def reads(self) -> int:
        return sum(n for op, n in self.dynamo.items() if op in READS)

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.dynamo.items() if op in WRITES)


_local = threading.local()


def open_meter() -> Meter:
    _local.meter = Meter()
    return _local.meter


def close_meter() -> None:
    _local.meter = None


def count_dynamo(operation: str, cancelled: bool = False) -> None:
    meter = getattr(_local, "meter", None)
    if meter is not None:
        meter.dynamo[operation] += 1
        meter.cancelled += int(cancelled)


def count_wechat(path: str) -> None:
    meter = getattr(_local, "meter", None)
    if meter is not None:
        meter.wechat[path.strip("/")] += 1


_TEMPLATES: list[tuple[re.Pattern, str, str]] = []


def route_of(method: str, path: str) -> tuple[str, str] | None:
    if not _TEMPLATES:
        from chalicelib.http import ROUTES
        for route in ROUTES:
            pattern = re.compile("^" + re.sub(r"\\{\w+\\}", "[^/]+", re.escape(route.path)) + "$")
            _TEMPLATES.append((pattern, route.method, route.path))
    bare = path.split("?", 1)[0]
    for pattern, route_method, template in _TEMPLATES:
        if route_method == method and pattern.match(bare):
            return method, template
    return None


def overspent(method: str, path: str, meter: Meter) -> str | None:
    """Why this request broke its budget, or None."""
    route = route_of(method, path)
    if route is None:
        return None
    if any(p.endswith("token") for p in meter.wechat):  # the ~2-hourly access_token refresh: not the route's
        return None
    budget = EXCEPTIONS.get(route) or (READ_ROUTE if method == "GET" else WRITE_ROUTE)
    reads, writes = budget.reads, budget.writes
    if meter.cancelled:
        reads, writes = reads + RACE_ALLOWANCE.reads, writes + RACE_ALLOWANCE.writes
    problems = []
    if meter.reads > reads:
        problems.append(f"{meter.reads} reads > {reads}")
    if meter.writes > writes:
        problems.append(f"{meter.writes} writes > {writes}")
    wechat = sum(meter.wechat.values())
    if wechat > budget.wechat:
        problems.append(f"{wechat} WeChat calls > {budget.wechat}")
    if budget.total is not None and not meter.cancelled and meter.reads + meter.writes > budget.total:
        problems.append(f"{meter.reads + meter.writes} DynamoDB calls > {budget.total}")
    if not problems:
        return None
    return f"{method} {route[1]} over budget ({budget.why or 'default'}): {', '.join(problems)}; " \
           f"calls {dict(meter.dynamo)} wechat {dict(meter.wechat)}"


# --- the per-route table (CALL_REPORT=<file>: written at the end of the run; see docs/architecture.md) ----------

_seen: dict[tuple[str, str], list[tuple[int, int, int]]] = {}
_seen_lock = threading.Lock()


def record(method: str, path: str, status: int, meter: Meter) -> None:
    route = route_of(method, path)
    if route is None or status >= 400 or meter.cancelled or any(p.endswith("token") for p in meter.wechat):
        return  # the table is of successful, uncontended requests
    with _seen_lock:
        _seen.setdefault(route, []).append((meter.reads, meter.writes, sum(meter.wechat.values())))


def report() -> str:
    lines = ["| route | requests | reads (median / max) | writes (median / max) | WeChat (max) |", "|---|---|---|---|---|"]
    for (method, path), rows in sorted(_seen.items(), key=lambda item: (item[0][1], item[0][0])):
        reads, writes, wechat = zip(*rows)
        lines.append(f"| {method} {path} | {len(rows)} | {sorted(reads)[len(reads) // 2]} / {max(reads)} | "
                     f"{sorted(writes)[len(writes) // 2]} / {max(writes)} | {max(wechat)} |")
    return "\n".join(lines) + "\n"
