"""The authorisation table: every route × every role × own vs other community, row by row.

Each cell sends a valid request as that person and classifies the answer: ``ok`` (allowed: a 2xx, or a
refusal about the request itself such as 409 INVALID_STATE), ``401``, ``403``, ``404`` (another
community's resource is not acknowledged) or ``nic`` (409 NOT_IN_COMMUNITY). A route missing from
``TABLE`` fails the completeness test, so every new route must be given its row.
"""
import uuid
from datetime import timedelta

import pytest

from tongxin.adapters.dynamo.models import CounterModel, StoreModel
from tongxin.config import DEV_CHECKIN_SECRET, DEV_QR_VERIFY_FILE
from tongxin.domain import checkin
from tongxin.domain import requests as request_rules
from tongxin.domain.clock import SHANGHAI, to_api, utcnow
from tongxin.usecases import districts, streets
from tests.support import make_community

ROLES = ("anonymous", "outsider", "resident", "volunteer", "party_member", "grid_worker", "other_grid_worker",
         "admin", "store_keeper", "author", "claimer", "other_admin", "street_staff", "district_staff",
         "department_staff", "unit_liaison")
MEMBERS = {"resident", "volunteer", "party_member", "grid_worker", "other_grid_worker", "admin", "store_keeper",
           "author", "claimer"}
# street_staff: staff of the street the table's community belongs to, themselves in no community; district_staff and
# department_staff: of the street's district and of its department, in no community either.
# unit_liaison: the liaison of the table's unit (of the table's street, with an agreement with the table's community), in
# no community either.
ABOVE = {"street_staff", "district_staff", "department_staff", "unit_liaison"}
USERS = MEMBERS | {"outsider", "other_admin"} | ABOVE
WISH = {"title": "表格心愿", "content": "授权表测试", "category": "其他"}
REQUEST = {"category": "设施维修", "content": "授权表测试：楼道灯坏了"}
AGREEMENT = {"pledges": ["表格承诺"], "activities_per_quarter": 1,
             "valid_until": (utcnow() + timedelta(days=100)).date().isoformat()}
EVENT = {"title": "表格活动", "kind": "activity", "capacity": 50,
         "location": {"address": "服务中心", "lat": 30.0, "lng": 103.8, "radius_m": 200}}


def row(allowed: set[str], *, outsider: str = "nic", other_admin: str = "ok", public: bool = False,
        denied: str = "403") -> dict:
    """Expected outcome per role: ``allowed`` → ok, other members → ``denied`` (403, or 404 where the thing is
    private to some). Street staff belong to no community: unless the route is theirs they get what an outsider
    gets; so do district and department staff."""
    cells = {role: ("ok" if role in allowed else denied) for role in MEMBERS}
    cells["anonymous"] = "ok" if public else "401"
    cells["outsider"] = "ok" if "outsider" in allowed else outsider
    cells["other_admin"] = other_admin
    for role in ABOVE:
        cells[role] = "ok" if role in allowed else cells["outsider"]
    return cells


def private_row(allowed: set[str], *, seen_by: set[str]) -> dict:
    """A request is never public: those who see it (``seen_by``) but may not take this step → 403; to everyone else
    (other members, outsiders, another community's admin, the street before it reached the street) it does not
    exist → 404."""
    cells = row(allowed, denied="404", outsider="404", other_admin="404")
    cells.update({role: "403" for role in seen_by - allowed})
    return cells


# Who may approve a console login: the staff roles, whatever their community.
CONSOLE_STAFF = {"admin", "grid_worker", "other_grid_worker", "store_keeper", "street_staff", "district_staff",
                 "department_staff"}
# (method, path) → (wish state the cell needs or None, body, expected outcomes)
TABLE = {
    ("GET", "/v1/health"): (None, None, row(USERS, public=True)),
    ("GET", "/v1/openapi.json"): (None, None, row(USERS, public=True)),
    ("POST", "/v1/auth/login"): (None, {"code": "dev:table-login"}, row(USERS, public=True)),
    ("GET", "/v1/me"): (None, None, row(USERS)),
    ("PATCH", "/v1/me"): (None, {"nickname": "表格"}, row(USERS)),
    ("DELETE", "/v1/me"): (None, None, row(USERS)),
    ("POST", "/v1/me/community"): (None, {"invite": "NOSUCHINV"}, row(USERS)),
    ("POST", "/v1/me/phone"): (None, {"code": "not-a-phone-code"}, row(USERS)),
    ("POST", "/v1/me/volunteer"): (None, {"real_name": "表格人"}, row(MEMBERS)),
    ("POST", "/v1/admin/grids"): (None, {"name": "表格网格"}, row({"admin"})),
    ("GET", "/v1/admin/grids"): (None, None, row({"admin", "grid_worker", "other_grid_worker"})),
    ("POST", "/v1/admin/invites"): (None, "grid0", row({"admin"}, other_admin="404")),
    ("GET", "/v1/admin/invites/{code}/qrcode"): (None, None, row({"admin"}, other_admin="404")),
    ("PUT", "/v1/admin/members/{user_id}/roles"): (None, {"roles": ["volunteer"]},
                                                   row({"admin"}, other_admin="404")),
    # 成员名录: an admin's whole community; a grid worker's own grid (the target lives in grid 0: grid 1's worker
    # lists their own grid, but the member is not theirs to see).
    ("GET", "/v1/admin/members"): (None, None, row({"admin", "grid_worker", "other_grid_worker"})),
    ("GET", "/v1/admin/members/{user_id}"): (None, None, row({"admin", "grid_worker"}, other_admin="404")),
    # A member's 积分存折: whom the member detail shows (the same scope check).
    ("GET", "/v1/admin/members/{user_id}/points"): (None, None, row({"admin", "grid_worker"}, other_admin="404")),
    ("GET", "/v1/admin/stats"): (None, None, row({"admin"})),
    ("GET", "/v1/admin/community"): (None, None, row({"admin"})),
    ("PATCH", "/v1/admin/community"): (None, {"wish_points": 20}, row({"admin"})),
    ("GET", "/v1/grid/tasks"): (None, None, row({"grid_worker", "other_grid_worker"}, outsider="nic",
                                                 other_admin="403")),
    ("POST", "/v1/wishes"): (None, WISH, row(MEMBERS)),
    ("GET", "/v1/wishes"): (None, None, row(MEMBERS)),
    ("GET", "/v1/wishes/mine"): (None, None, row(USERS)),
    ("GET", "/v1/wishes/claimed"): (None, None, row(USERS)),
    ("GET", "/v1/wishes/{wish_id}"): ("open", None, row(MEMBERS, other_admin="404")),
    ("POST", "/v1/wishes/{wish_id}/approve"): ("pending", None, row({"grid_worker", "admin"}, other_admin="404")),
    ("POST", "/v1/wishes/{wish_id}/reject"): ("pending", {"reason": "不合适"},
                                             row({"grid_worker", "admin"}, other_admin="404")),
    # The role is checked before the wish is read: another community's admin is refused as a non-volunteer.
    ("POST", "/v1/wishes/{wish_id}/claim"): ("open", None, row({"volunteer", "party_member", "claimer"},
                                                               other_admin="403")),
    ("POST", "/v1/wishes/{wish_id}/release"): ("claimed", None, row({"claimer"}, other_admin="404")),
    ("POST", "/v1/wishes/{wish_id}/fulfil"): ("claimed", {"note": "完成"}, row({"claimer"}, other_admin="404")),
    ("POST", "/v1/wishes/{wish_id}/confirm"): ("fulfilled", {"rating": 5}, row({"author"}, other_admin="404")),
    ("POST", "/v1/wishes/{wish_id}/cancel"): ("open", None, row({"author"}, other_admin="404")),
    ("POST", "/v1/events"): (None, "event", row({"admin", "grid_worker", "other_grid_worker"})),
    ("GET", "/v1/events"): (None, None, row(MEMBERS)),
    ("GET", "/v1/me/events"): (None, None, row(USERS)),
    ("GET", "/v1/events/{event_id}"): ("event:activity", None, row(MEMBERS, other_admin="404")),
    # Organisers: the admin who published it, the workers of its grid (grid 0).
    ("PATCH", "/v1/events/{event_id}"): ("event:activity", {"title": "改个名字"},
                                         row({"admin", "grid_worker"}, other_admin="404")),
    ("POST", "/v1/events/{event_id}/cancel"): ("event:activity", {"reason": "天气原因"},
                                               row({"admin", "grid_worker"}, other_admin="404")),
    ("GET", "/v1/events/{event_id}/roster"): ("event:activity", None,
                                              row({"admin", "grid_worker"}, other_admin="404")),
    # A 招募令 (volunteer_service) takes volunteers and party members only; anyone may give up what they hold.
    ("POST", "/v1/events/{event_id}/signup"): ("event:volunteer_service", None,
                                               row({"volunteer", "party_member", "claimer"}, other_admin="404")),
    ("DELETE", "/v1/events/{event_id}/signup"): ("event:activity", None, row(MEMBERS, other_admin="404")),
    ("GET", "/v1/events/{event_id}/qrcode"): ("event:activity", None, row({"admin", "grid_worker"}, other_admin="404")),
    # A valid code of the table's event (it starts in two days: members are told OUTSIDE_TIME_WINDOW, a request
    # about itself; another community's admin does not see the event).
    ("POST", "/v1/checkins"): (None, "checkin", row(MEMBERS, other_admin="404")),
    ("POST", "/v1/events/{event_id}/attendance/{user_id}/adjust"): ("event:activity", {"minutes": 30, "reason": "补录"},
                                                                   row({"admin", "grid_worker"}, other_admin="404")),
    ("GET", "/v1/me/volunteer-record"): (None, None, row(USERS)),
    ("GET", "/v1/admin/exports/volunteer-hours"): (None, None, row({"admin"})),
    ("GET", "/v1/admin/audit"): (None, None, row({"admin"})),
    # 积分: awards by an admin or the grid's workers (the target lives in grid 0); the reversal is the admins'.
    ("POST", "/v1/points/awards"): (None, "award", row({"admin", "grid_worker"}, other_admin="403")),
    ("POST", "/v1/points/awards/{award_id}/reverse"): ("award", {"reason": "发错了"}, row({"admin"}, other_admin="404")),
    ("GET", "/v1/me/points"): (None, None, row(USERS)),
    ("GET", "/v1/leaderboard"): (None, None, row(MEMBERS)),
    # 积分超市: anyone of the community shops; admins run it; the store's keeper keeps its shelf and counter.
    ("GET", "/v1/stores"): (None, None, row(MEMBERS)),
    ("POST", "/v1/stores"): (None, {"name": "表格新超市"}, row({"admin"})),
    ("GET", "/v1/stores/{store_id}/goods"): (None, None, row(MEMBERS, other_admin="404")),
    ("POST", "/v1/stores/{store_id}/goods"): (None, {"name": "表格商品", "price_points": 1, "stock": 5},
                                              row({"admin"}, other_admin="404")),
    ("PATCH", "/v1/goods/{goods_id}"): ("goods", {"restock": 1}, row({"admin", "store_keeper"}, other_admin="404")),
    ("POST", "/v1/redemptions"): (None, "redeem", row(MEMBERS, other_admin="404")),
    ("GET", "/v1/redemptions/mine"): (None, None, row(MEMBERS)),
    # A redemption is its owner's (the author here) and the store's staff's; to anyone else it does not exist.
    ("GET", "/v1/redemptions/{redemption_id}"): ("redemption", None,
                                                 row({"author", "admin", "store_keeper"}, denied="404",
                                                     other_admin="404")),
    ("POST", "/v1/redemptions/{redemption_id}/cancel"): ("redemption", None,
                                                         row({"author"}, denied="404", other_admin="404")),
    ("GET", "/v1/redemptions/{redemption_id}/qrcode"): ("redemption", None,
                                                        row({"author"}, denied="404", other_admin="404")),
    ("POST", "/v1/redemptions/verify"): (None, "pickup", row({"admin", "store_keeper"}, other_admin="404")),
    ("GET", "/v1/stores/{store_id}/redemptions"): (None, None, row({"admin", "store_keeper"}, other_admin="404")),
    # 订阅消息: my own quotas (before joining a community too); what did not arrive is the admins'.
    ("GET", "/v1/me/subscriptions"): (None, None, row(USERS)),
    ("POST", "/v1/me/subscriptions"): (None, {"accepted": ["tmpl_wish_claimed"]}, row(USERS)),
    ("GET", "/v1/admin/messages"): (None, None, row({"admin"})),
    # 接诉即办: residents submit (to their grid); a request is seen by its author, the community's admins and the
    # handlers of the levels it reached (here grid 0's worker); the handler of the current level takes each step.
    ("POST", "/v1/requests"): (None, "request", row(MEMBERS)),
    ("GET", "/v1/requests/mine"): (None, None, row(USERS)),
    ("GET", "/v1/requests/{request_id}"): ("request:submitted", None,
                                           private_row({"author", "admin", "grid_worker"}, seen_by=set())),
    ("POST", "/v1/requests/{request_id}/accept"): ("request:submitted", None,
                                                   private_row({"grid_worker"}, seen_by={"author", "admin"})),
    ("POST", "/v1/requests/{request_id}/escalate"): ("request:submitted", {"reason": "需要社区协调"},
                                                     private_row({"grid_worker"}, seen_by={"author", "admin"})),
    ("POST", "/v1/requests/{request_id}/resolve"): ("request:accepted", {"note": "已更换灯泡"},
                                                    private_row({"grid_worker"}, seen_by={"author", "admin"})),
    ("POST", "/v1/requests/{request_id}/rate"): ("request:resolved", {"satisfaction": 5},
                                                 private_row({"author"}, seen_by={"admin", "grid_worker"})),
    # 延期: the handler who answered asks (a colleague of the grid is another_grid's worker here: 404); the level
    # above (the community's admins above the grid) decides. 督办: the level above presses the grid.
    ("POST", "/v1/requests/{request_id}/extend"): ("request:accepted", {"days": 2, "reason": "等维修材料"},
                                                   private_row({"grid_worker"}, seen_by={"author", "admin"})),
    ("POST", "/v1/requests/{request_id}/extension/approve"): (
        "request:extension_asked", None, private_row({"admin"}, seen_by={"author", "grid_worker"})),
    ("POST", "/v1/requests/{request_id}/extension/reject"): (
        "request:extension_asked", {"reason": "时限内可以办完"}, private_row({"admin"}, seen_by={"author", "grid_worker"})),
    ("POST", "/v1/requests/{request_id}/supervise"): ("request:submitted", {"note": "请尽快处理"},
                                                      private_row({"admin"}, seen_by={"author", "grid_worker"})),
    # 双报到 党员报到: any member reports to their own community (GET: their own, after reporting); an admin of the
    # community decides (another community's registration does not exist for them) and reads the 考核.
    ("POST", "/v1/me/party-registration"): (None, {"real_name": "表格党员", "work_unit": "表格单位",
                                                   "party_branch": "表格党支部"}, row(MEMBERS)),
    ("GET", "/v1/me/party-registration"): ("party_registered", None, row(MEMBERS)),
    ("GET", "/v1/admin/party-registrations"): (None, None, row({"admin"})),
    ("POST", "/v1/admin/party-registrations/{registration_id}/approve"): ("party_registration", None,
                                                                          row({"admin"}, other_admin="404")),
    ("POST", "/v1/admin/party-registrations/{registration_id}/reject"): ("party_registration", {"reason": "信息不全"},
                                                                         row({"admin"}, other_admin="404")),
    ("GET", "/v1/admin/party-members"): (None, None, row({"admin"})),
    # 领岗: the admin publishes and closes (another community's post does not exist for another admin); members, and
    # the liaison of a unit co-building with the community, read a post (the list: members; a liaison names the
    # community); party members and that liaison claim (a fresh post each); withdrawing is the claimant's (anyone else
    # who may see the post holds no claim: 409).
    ("POST", "/v1/admin/posts"): (None, {"title": "表格岗位", "description": "授权表测试", "headcount": 100},
                                  row({"admin"})),
    ("GET", "/v1/posts"): (None, None, row(MEMBERS)),
    ("GET", "/v1/posts/{post_id}"): ("post:open", None, row(MEMBERS | {"unit_liaison"}, other_admin="404")),
    ("POST", "/v1/posts/{post_id}/claim"): ("post:open", None, row({"party_member", "unit_liaison"},
                                                                   other_admin="404")),
    ("POST", "/v1/posts/{post_id}/withdraw"): ("post:claimed", None, row(MEMBERS | {"unit_liaison"},
                                                                         other_admin="404")),
    ("POST", "/v1/admin/posts/{post_id}/close"): ("post:open", None, row({"admin"}, other_admin="404")),
    # 共建项目 and 群众评单: the admin records a project with the table's unit (another community's admin: the unit has no
    # agreement with theirs, 404); members and the unit's liaison read one; the admin and the unit's liaison report
    # progress; the admin completes; every resident of the community rates a done one (a fresh project per cell); the
    # unit's projects are its liaison's and its street's staff's.
    ("POST", "/v1/admin/co-projects"): (None, "co_project", row({"admin"}, other_admin="404")),
    ("GET", "/v1/co-projects"): (None, None, row(MEMBERS)),
    ("GET", "/v1/co-projects/{project_id}"): ("co_project:planned", None,
                                              row(MEMBERS | {"unit_liaison"}, other_admin="404")),
    ("POST", "/v1/admin/co-projects/{project_id}/progress"): ("co_project:planned", {"note": "表格进展", "percent": 50},
                                                              row({"admin", "unit_liaison"}, other_admin="404")),
    ("POST", "/v1/admin/co-projects/{project_id}/complete"): ("co_project:planned", {},
                                                              row({"admin"}, other_admin="404")),
    ("POST", "/v1/co-projects/{project_id}/rating"): ("co_project:done", {"rating": 5},
                                                      row(MEMBERS, other_admin="404")),
    # 群众评单 read by the staff: the community's admins and the unit's liaison (a rated project: its raters are read);
    # another member 403, who does not see the project 404 (another community's admin), no community 409 as the detail.
    ("GET", "/v1/admin/co-projects/{project_id}/ratings"): ("co_project:rated", None,
                                                            row({"admin", "unit_liaison"}, other_admin="404")),
    # 微星光: the admin commends a member of the community (another community's admin: the member is not theirs, 404;
    # a repeat is 409 ALREADY_COMMENDED, an answer about the request) and revokes a fresh one; members read the list;
    # the month's candidates are the admins' (each their own community's).
    ("POST", "/v1/admin/commendations"): (None, "commendation", row({"admin"}, other_admin="404")),
    ("GET", "/v1/commendations"): (None, None, row(MEMBERS)),
    ("POST", "/v1/admin/commendations/{commendation_id}/revoke"): ("commendation", {"reason": "表格撤销"},
                                                                  row({"admin"}, other_admin="404")),
    ("GET", "/v1/admin/commendations/candidates"): (None, None, row({"admin"})),
    ("GET", "/v1/units/{unit_id}/co-projects"): (None, None, row({"street_staff", "unit_liaison"}, outsider="403",
                                                                 other_admin="403")),
    # 微实事 票选: every member of the round's community may vote (a member without a bound phone is told 409
    # PHONE_REQUIRED, an answer about them), read their receipt (404 NOT_VOTED before voting) and the results (409
    # RESULTS_NOT_READY while voting runs); another community's admin does not see the round (a fresh round per cell).
    ("POST", "/v1/project-rounds/{round_id}/ballot"): ("ballot_round", "ballot", row(MEMBERS, other_admin="404")),
    ("GET", "/v1/project-rounds/{round_id}/ballot"): ("ballot_round", None, row(MEMBERS, other_admin="404")),
    ("GET", "/v1/project-rounds/{round_id}/results"): ("ballot_round", None, row(MEMBERS, other_admin="404")),
    # 微实事 rounds, proposals, review, delivery: the admin opens a round (another community's admin opens one in theirs);
    # members read rounds and approved projects and propose (a fresh round per cell: 3 proposals each); the admin
    # reviews and reports progress (on a fresh proposal: 409 NOT_SELECTED, an answer about the project); members rate
    # (an approved project not done: 409 INVALID_STATE). Another community's admin does not see the round (404).
    ("POST", "/v1/admin/project-rounds"): (None, "project_round", row({"admin"})),
    ("GET", "/v1/project-rounds"): (None, None, row(MEMBERS)),
    ("GET", "/v1/project-rounds/{round_id}"): ("project_round", None, row(MEMBERS, other_admin="404")),
    ("POST", "/v1/project-rounds/{round_id}/projects"): ("project_round", {
        "title": "表格项目", "description": "授权表测试", "cost_yuan": 100, "category": "其他"},
        row(MEMBERS, other_admin="404")),
    ("GET", "/v1/project-rounds/{round_id}/projects"): ("project_round", None, row(MEMBERS, other_admin="404")),
    ("GET", "/v1/projects/{project_id}"): ("round_project:approved", None, row(MEMBERS, other_admin="404")),
    ("POST", "/v1/projects/{project_id}/approve"): ("round_project:proposed", {}, row({"admin"}, other_admin="404")),
    ("POST", "/v1/projects/{project_id}/reject"): ("round_project:proposed", {"reason": "表格原因"},
                                                   row({"admin"}, other_admin="404")),
    ("POST", "/v1/projects/{project_id}/progress"): ("round_project:proposed", {"note": "表格进展", "percent": 50},
                                                     row({"admin"}, other_admin="404")),
    ("POST", "/v1/projects/{project_id}/rate"): ("round_project:approved", {"rating": 5},
                                                 row(MEMBERS, other_admin="404")),
    ("GET", "/v1/projects/{project_id}/ratings"): ("round_project:approved", None, row({"admin"}, other_admin="404")),
    # The street's queue is its staff's only; the community's lists are its admins'; the three rates are the
    # admins' (their community) and the street staff's (their street). Neither needs a community to be refused.
    ("GET", "/v1/street/tasks"): (None, None, row({"street_staff"}, outsider="403", other_admin="403")),
    ("GET", "/v1/street/departments"): (None, None, row({"street_staff"}, outsider="403", other_admin="403")),
    ("GET", "/v1/department/tasks"): (None, None, row({"department_staff"}, outsider="403", other_admin="403")),
    ("GET", "/v1/admin/requests"): (None, None, row({"admin"})),
    ("GET", "/v1/admin/requests/stats"): (None, None, row({"admin", "street_staff"}, outsider="403")),
    # The street's statistics (街呼区应): its staff only; nobody in a community, admins included, nor an outsider.
    ("GET", "/v1/street/stats"): (None, None, row({"street_staff"}, outsider="403", other_admin="403")),
    ("GET", "/v1/district/stats"): (None, None, row({"district_staff"}, outsider="403", other_admin="403")),
    # 通报 (the monthly bulletin): the street's staff, the district's staff, nobody else.
    ("GET", "/v1/street/bulletin"): (None, None, row({"street_staff"}, outsider="403", other_admin="403")),
    ("GET", "/v1/district/bulletin"): (None, None, row({"district_staff"}, outsider="403", other_admin="403")),
    # 共建单位: the street registers and invites; anyone signed in uses an invite (this one is none: 404
    # INVITE_INVALID, an answer about the request); a unit is seen by its liaison, its street's staff and the admins
    # of a community with its agreement (anyone who sees no unit at all: 403; another community's admin: 404).
    ("POST", "/v1/street/units"): (None, {"name": "表格单位", "kind": "企业", "contact_name": "表格",
                                          "contact_phone": "13800000000"},
                                   row({"street_staff"}, outsider="403", other_admin="403")),
    ("GET", "/v1/street/units"): (None, None, row({"street_staff"}, outsider="403", other_admin="403")),
    ("POST", "/v1/street/units/{unit_id}/invites"): (None, None,
                                                     row({"street_staff"}, outsider="403", other_admin="403")),
    ("POST", "/v1/me/unit"): (None, {"invite": "NOSUCHUNIT"}, row(USERS)),
    # A unit's liaisons: its street's staff list them and take one off (the target a fresh liaison of the unit).
    ("GET", "/v1/street/units/{unit_id}/invites/{code}/qrcode"): ("unit_invite", None,
                                                                  row({"street_staff"}, outsider="403",
                                                                      other_admin="403")),
    ("GET", "/v1/street/units/{unit_id}/liaisons"): (None, None,
                                                     row({"street_staff"}, outsider="403", other_admin="403")),
    ("DELETE", "/v1/street/units/{unit_id}/liaisons/{user_id}"): ("liaison", None, row({"street_staff"},
                                                                                      outsider="403",
                                                                                      other_admin="403")),
    ("GET", "/v1/units/{unit_id}"): (None, None, row({"admin", "street_staff", "unit_liaison"}, outsider="403",
                                                     other_admin="404")),
    ("GET", "/v1/units/{unit_id}/resources"): (None, None, row({"admin", "street_staff", "unit_liaison"},
                                                               outsider="403", other_admin="404")),
    ("POST", "/v1/units/{unit_id}/resources"): (None, {"title": "表格资源", "description": "授权表测试", "capacity": 1},
                                                row({"unit_liaison"}, outsider="403", other_admin="403")),
    ("GET", "/v1/units/{unit_id}/agreements"): (None, None, row({"street_staff", "unit_liaison"}, outsider="403",
                                                                other_admin="403")),
    # 服务卡: the unit's liaison and its street's staff only (a community's admin, even one co-building with it, 403).
    ("GET", "/v1/units/{unit_id}/service-cards"): (None, None, row({"street_staff", "unit_liaison"}, outsider="403",
                                                                   other_admin="403")),
    ("GET", "/v1/admin/units"): (None, None, row({"admin"})),
    ("POST", "/v1/admin/units/{unit_id}/agreement"): (None, "agreement", row({"admin"}, other_admin="404")),
    # 普通链接二维码: what a printed code's link opens outside WeChat, and WeChat's verification file — anyone's.
    ("GET", "/c/{code}"): (None, None, row(USERS, public=True)),
    ("GET", "/i/{code}"): (None, None, row(USERS, public=True)),
    ("GET", "/p/{code}"): (None, None, row(USERS, public=True)),
    ("GET", "/u/{code}"): (None, None, row(USERS, public=True)),
    ("GET", "/{file_name}"): (None, None, row(USERS, public=True)),
    # 管理后台 扫码登录: a ticket, its code and its poll are anyone's (the console has no token yet); approving is the
    # staff's (any community's, street staff too), from the mini-program; logging out needs a console session, which
    # a Bearer token is not (401 missing_session); dev-login is anyone's in the dev and test stages.
    ("POST", "/v1/console/sessions"): (None, None, row(USERS, public=True)),
    ("GET", "/v1/console/sessions/{ticket}/qrcode"): ("ticket", None, row(USERS, public=True)),
    ("GET", "/v1/console/sessions/{ticket}"): ("ticket", None, row(USERS, public=True)),
    ("POST", "/v1/console/sessions/{ticket}/approve"): ("ticket", None, row(CONSOLE_STAFF, outsider="403")),
    ("DELETE", "/v1/console/sessions/current"): (None, None, {role: "401" for role in ROLES}),
    ("POST", "/v1/console/dev-login"): (None, {"name": "table-console"}, row(USERS, public=True)),
    # The console's pages are static and hold no data: anyone's (what they show comes from the /v1 routes above).
    ("GET", "/console"): (None, None, row(USERS, public=True)),
    ("GET", "/console/{page}"): (None, None, row(USERS, public=True)),
    ("GET", "/console/assets/{name}"): (None, None, row(USERS, public=True)),
    ("GET", "/console/events/{event_id}/screen"): ("event:activity", None, row(USERS, public=True)),
}
# 代办 (usecases/proxy.py): staff (the admin; a grid worker of the resident's grid) act for a managed resident. The
# table's target is a WeChat user, so those allowed get 409 HAS_ACCOUNT (a refusal about the request: ok); another
# grid's worker and another community's admin are told the resident does not exist (404); everyone else 403.
PROXY = {**row({"admin", "grid_worker"}, other_admin="404"), "other_grid_worker": "404"}
PROXY_REASON = "表格代办"
TABLE.update({
    ("POST", "/v1/admin/managed-residents"): (None, "managed_resident",
                                              row({"admin", "grid_worker"}, other_admin="404")),
    ("GET", "/v1/admin/managed-residents"): (None, None, row({"admin", "grid_worker", "other_grid_worker"})),
    ("POST", "/v1/proxy/{user_id}/wishes"): (None, {**WISH, "reason": PROXY_REASON}, PROXY),
    ("POST", "/v1/proxy/{user_id}/requests"): (None, {**REQUEST, "reason": PROXY_REASON}, PROXY),
    ("POST", "/v1/proxy/{user_id}/events/{event_id}/signup"): ("event:activity", {"reason": PROXY_REASON}, PROXY),
    ("POST", "/v1/proxy/{user_id}/redemptions"): (None, "proxy_redeem", PROXY),
    ("POST", "/v1/proxy/{user_id}/project-rounds/{round_id}/ballot"): ("ballot_round", "proxy_ballot", PROXY),
    ("GET", "/v1/admin/proxy-log"): (None, None, row({"admin"})),
    # 绑定 (usecases/binding.py): the code is the admin's (the table's target has WeChat: 409 HAS_ACCOUNT, ok); the
    # bind is anyone's who is signed in (an unknown code: 404 BINDING_CODE_INVALID, a refusal about the request).
    ("POST", "/v1/admin/managed-residents/{user_id}/binding-code"): (None, None, row({"admin"}, other_admin="404")),
    ("POST", "/v1/me/bind"): (None, {"code": "NOSUCH22"}, row(USERS)),
})
# 志愿服务记录证明 (usecases/certificates.py): a volunteer asks (409 NO_SERVICES or CERTIFICATE_PENDING: ok); the
# community's admin handles (a fresh certificate of the table's resident: issue → 409 NO_SERVICES, ok); the PDF is its
# owner's (the table's resident, in a community or no longer) and the admins' — to everyone else, outsiders too, it does
# not exist; the check is anyone's.
CERTIFICATE_DAY = (utcnow() - timedelta(days=1)).astimezone(SHANGHAI).date()
TABLE.update({
    ("POST", "/v1/me/certificates"): (None, {"from": (CERTIFICATE_DAY - timedelta(days=30)).isoformat(),
                                             "to": CERTIFICATE_DAY.isoformat(), "purpose": "表格"},
                                      row({"volunteer", "claimer"}, other_admin="403")),
    ("GET", "/v1/me/certificates"): (None, None, row(USERS)),
    ("GET", "/v1/admin/certificates"): (None, None, row({"admin"})),
    ("POST", "/v1/admin/certificates/{certificate_id}/issue"): ("certificate:pending", None,
                                                                row({"admin"}, other_admin="404")),
    ("POST", "/v1/admin/certificates/{certificate_id}/refuse"): ("certificate:pending", {"reason": "表格"},
                                                                 row({"admin"}, other_admin="404")),
    ("POST", "/v1/admin/certificates/{certificate_id}/revoke"): ("certificate:issued", {"reason": "表格"},
                                                                 row({"admin"}, other_admin="404")),
    ("GET", "/v1/certificates/{certificate_id}/pdf"): ("certificate:issued", None,
                                                       row({"admin", "resident"}, denied="404", other_admin="404",
                                                           outsider="404")),
    ("GET", "/v1/certificates/verify"): ("certificate_check", None, row(USERS, public=True)),
    ("GET", "/v/{number}"): ("certificate_check", None, row(USERS, public=True)),
})
# 志愿服务记录更正 (usecases/corrections.py): anyone in a community asks, for their own attendance only (the table's
# attendance id is nobody's own: 404 to every member); the community's admins list all; the event's organisers (the
# admin who published it, grid 0's worker) decide a fresh pending correction of the table's resident (approving:
# the adjustment applied, 200).
TABLE.update({
    ("POST", "/v1/me/volunteer-record/corrections"): (None, {"attendance_id": "ev_table.u_table", "minutes": 1,
                                                             "reason": "表格"},
                                                      row(set(), denied="404", other_admin="404")),
    ("GET", "/v1/me/volunteer-record/corrections"): (None, None, row(USERS)),
    ("GET", "/v1/admin/corrections"): (None, None, row({"admin"})),
    ("POST", "/v1/admin/corrections/{correction_id}/approve"): ("correction", None,
                                                                row({"admin", "grid_worker"}, other_admin="404")),
    ("POST", "/v1/admin/corrections/{correction_id}/refuse"): ("correction", {"reason": "表格"},
                                                               row({"admin", "grid_worker"}, other_admin="404")),
})
QUERIES = {("GET", "/v1/admin/exports/volunteer-hours"): "?month=2026-12",
           ("GET", "/v1/admin/commendations/candidates"): "?month=2026-11",
           ("GET", "/v1/console/sessions/{ticket}/qrcode"): "?format=json",
           ("GET", "/v1/street/units/{unit_id}/invites/{code}/qrcode"): "?format=json",
           ("GET", "/v1/certificates/verify"): "?number=TXZM-2026-AAAA-000001&name=表格人",
           ("GET", "/v/{number}"): "?name=表格人"}
# wx.request has no PATCH: every PATCH route also answers POST with X-HTTP-Method-Override: PATCH, to the same people.
OVERRIDE = {"X-HTTP-Method-Override": "PATCH"}
TABLE.update({("POST", path): row for (method, path), row in list(TABLE.items()) if method == "PATCH"})
HEADERS = {route: OVERRIDE for route in TABLE if route[0] == "POST" and ("PATCH", route[1]) in TABLE}


CHANGES_PEOPLE = {("DELETE", "/v1/me"), ("POST", "/v1/me/volunteer"), ("PUT", "/v1/admin/members/{user_id}/roles")}


def outcome(resp) -> str:
    if resp.status in (401, 403):
        return str(resp.status)
    if resp.error_code == "NOT_IN_COMMUNITY":
        return "nic"
    if resp.status == 404 and resp.error_code == "NOT_FOUND":
        return "404"
    return "ok"


class World:
    def __init__(self, api):
        self.api = api
        self.c = make_community(api)
        self.other = make_community(api)
        self.street_id = streets.create_street("表格街道")["id"]
        streets.attach_community(self.street_id, self.c.id)
        self.district_id = districts.create_district("表格区")["id"]
        districts.attach_street(self.district_id, self.street_id)
        self.department_id = districts.add_department(self.district_id, "表格局")["id"]
        self.store_id = f"s_{uuid.uuid4().hex[:8]}"
        StoreModel(self.c.id, self.store_id, name="表格超市", created_at=utcnow()).save()
        self.unit_id = self.make_unit()
        self.people = {role: self.make(role) for role in ROLES}

    def make(self, role):
        c = self.c
        return {
            "anonymous": lambda: None,
            "outsider": lambda: self.api.login(),
            "resident": lambda: c.resident(0),
            "author": lambda: c.resident(0),
            "volunteer": lambda: c.volunteer(0),
            "claimer": lambda: c.volunteer(0),
            "party_member": lambda: c.with_roles(c.resident(0), ["party_member"]),
            "grid_worker": lambda: c.grid_worker(0),
            "other_grid_worker": lambda: c.grid_worker(1),
            "admin": lambda: c.with_roles(c.resident(0), ["admin"]),
            "store_keeper": lambda: c.with_roles(c.resident(0), ["store_keeper"], store_ids=[self.store_id]),
            "other_admin": lambda: self.other.with_roles(self.other.resident(0), ["admin"]),
            "street_staff": lambda: self.street_staff(),
            "district_staff": lambda: self.above(districts.add_district_staff, self.district_id),
            "department_staff": lambda: self.above(districts.add_department_staff, self.department_id),
            "unit_liaison": lambda: self.unit_liaison(),
        }[role]()

    def unit_liaison(self):
        """A user the table's unit names its liaison (an invite of its street, used over HTTP)."""
        from tongxin.adapters.dynamo.models import UnitInviteModel
        from tongxin.domain.ids import new_code
        now = utcnow()
        code = new_code(10)
        UnitInviteModel(code, unit_id=self.unit_id, unit_name="表格共建单位", street_id=self.street_id,
                        created_by="table", created_at=now, expires_at=now + timedelta(days=1)).save()
        person = self.api.login()
        resp = person.post("/v1/me/unit", {"invite": code})
        assert resp.status == 200, resp.body
        return person

    def unit_invite_code(self) -> str:
        """An unused invite (a day) to become the table's unit's liaison, as its street would have made it."""
        from tongxin.adapters.dynamo.models import UnitInviteModel
        from tongxin.domain.ids import new_code
        now, code = utcnow(), new_code(10)
        UnitInviteModel(code, unit_id=self.unit_id, unit_name="表格共建单位", street_id=self.street_id,
                        created_by="table", created_at=now, expires_at=now + timedelta(days=1)).save()
        return code

    def make_unit(self) -> str:
        """A unit of the table's street with an agreement with the table's community (as the street and the
        community's admin would have left them)."""
        from tongxin.adapters.dynamo.models import UnitAgreementModel, UnitModel
        unit_id, now = f"unit_{uuid.uuid4().hex[:8]}", utcnow()
        UnitModel(unit_id, name="表格共建单位", kind="企业", street_id=self.street_id, contact_name="表格",
                  contact_phone="13800000000", agreement_count=1, resource_count=0, created_by="table",
                  created_at=now).save()
        UnitAgreementModel(unit_id, self.c.id, community_name="表格社区", street_id=self.street_id, pledges=["表格"],
                           activities_per_quarter=1, valid_until="2099-12-31", signed_by="table",
                           created_at=now).save()
        return unit_id

    def above(self, add, scope_id):
        """A user the operator names staff of the table's district or department (the CLI's use cases)."""
        person = self.api.login()
        add(scope_id, person.id)
        return person.relogin()

    def street_staff(self):
        """A user the operator names staff of the table's street (tongxin.usecases.streets: the CLI's use case)."""
        staff = self.api.login()
        streets.add_staff(self.street_id, staff.id)
        return staff.relogin()

    def open_tickets(self) -> None:
        """The test client's address may ask for console tickets again this minute (the table asks for more than
        the 30 a minute one address may)."""
        from tongxin.usecases import console
        CounterModel(console.rate_key("127.0.0.1", utcnow())).delete()

    def ticket(self) -> str:
        """A fresh console login ticket (waiting), asked for over HTTP."""
        self.open_tickets()
        resp = self.api.post("/v1/console/sessions")
        assert resp.status == 201, resp.body
        return resp.json["ticket"]

    def console_session(self, person) -> dict:
        """The headers of a console session of ``person`` (dev-login: the test stage's), for a cookie write."""
        resp = self.api.post("/v1/console/dev-login", {"name": person.name})
        assert resp.status == 200, resp.body
        cookie = {k.lower(): v for k, v in resp.headers.items()}["set-cookie"].split(";", 1)[0]
        return {"Cookie": cookie, "X-CSRF-Token": resp.json["csrf_token"], "Origin": "http://console.test",
                "Host": "console.test"}

    def request_in(self, state: str) -> str:
        """A fresh request of the table's author (grid 0), taken by grid 0's worker to ``state``."""
        author, worker = self.people["author"], self.people["grid_worker"]
        # The table submits far more than a resident's daily cap: the author's count for today starts again.
        day = utcnow().astimezone(SHANGHAI).strftime("%Y-%m-%d")
        CounterModel(request_rules.submit_counter(author.id, day)).delete()
        resp = author.post("/v1/requests", REQUEST)
        assert resp.status == 201, resp.body
        request_id = resp.json["id"]
        admin, staff, dept = self.people["admin"], self.people["street_staff"], self.people["department_staff"]
        up = [(worker, "escalate", {"reason": "网格解决不了"}), (admin, "escalate", {"reason": "需要街道协调"})]
        to_department = up + [(staff, "escalate", {"reason": "需要区直部门", "department_id": self.department_id})]
        steps = {"submitted": [], "accepted": [(worker, "accept", {})],
                 "resolved": [(worker, "accept", {}), (worker, "resolve", {"note": "已处理"})],
                 "extension_asked": [(worker, "accept", {}), (worker, "extend", {"days": 2, "reason": "等材料"})],
                 "at_street": up, "accepted_at_street": up + [(staff, "accept", {})],
                 "at_department": to_department, "accepted_at_department": to_department + [(dept, "accept", {})],
                 "extension_asked_at_department": to_department + [
                     (dept, "accept", {}), (dept, "extend", {"days": 2, "reason": "取证需要时间"})]}[state]
        for person, step, body in steps:
            resp = person.post(f"/v1/requests/{request_id}/{step}", body)
            assert resp.status == 200, resp.body
        return request_id

    def event_in(self, kind: str) -> str:
        """A fresh event of grid 0 published by the table's admin, starting in two days."""
        start = utcnow() + timedelta(days=2)
        resp = self.people["admin"].post("/v1/events", {**EVENT, "kind": kind, "grid_id": self.c.grid_ids[0],
                                                        "starts_at": to_api(start),
                                                        "ends_at": to_api(start + timedelta(hours=2))})
        assert resp.status == 201, resp.body
        return resp.json["id"]

    def goods(self) -> str:
        """A fresh goods item of the table's store: 1 point, plenty of stock, no limit."""
        resp = self.people["admin"].post(f"/v1/stores/{self.store_id}/goods",
                                         {"name": "表格商品", "price_points": 1, "stock": 1000})
        assert resp.status == 201, resp.body
        return resp.json["id"]

    def award(self, target) -> str:
        self.c.set(award_daily_cap=100_000)  # the table hands out far more than an admin's daily cap
        resp = self.people["admin"].post("/v1/points/awards", {"user_id": target.id, "category": "participation",
                                                               "points": 1, "reason": "表格奖励"})
        assert resp.status == 201, resp.body
        return resp.json["id"]

    def redemption(self) -> dict:
        """A fresh pending redemption by the table's author (given the point it costs)."""
        author = self.people["author"]
        self.award(author)
        resp = author.post("/v1/redemptions", {"goods_id": self.goods(), "quantity": 1})
        assert resp.status == 201, resp.body
        return resp.json

    def post_in(self, state: str) -> str:
        """A fresh post (领岗) of the table's community, published by its admin; ``claimed``: by its party member."""
        resp = self.people["admin"].post("/v1/admin/posts", {"title": "表格岗位", "description": "授权表测试",
                                                             "headcount": 100})
        assert resp.status == 201, resp.body
        if state == "claimed":
            claimed = self.people["party_member"].post(f"/v1/posts/{resp.json['id']}/claim")
            assert claimed.status == 200, claimed.body
        return resp.json["id"]

    def co_project_body(self) -> dict:
        """A 共建项目 of the table's community with the table's unit (its agreement runs to 2099)."""
        today = utcnow().astimezone(SHANGHAI).date().isoformat()
        return {"title": "表格共建项目", "need": {"text": "授权表测试"}, "unit_id": self.unit_id, "starts_on": today,
                "ends_on": today, "beneficiaries_note": "表格居民"}

    def co_project_in(self, state: str) -> str:
        """A fresh 共建项目 recorded by the table's admin; ``done``: completed by them too; ``rated``: and rated with a
        comment by a fresh resident."""
        resp = self.people["admin"].post("/v1/admin/co-projects", self.co_project_body())
        assert resp.status == 201, resp.body
        if state in ("done", "rated"):
            done = self.people["admin"].post(f"/v1/admin/co-projects/{resp.json['id']}/complete", {})
            assert done.status == 200, done.body
        if state == "rated":
            rated = self.c.resident(0).post(f"/v1/co-projects/{resp.json['id']}/rating", {"rating": 4, "comment": "表格评价"})
            assert rated.status == 201, rated.body
        return resp.json["id"]

    def commendation_body(self, target) -> dict:
        """A 微星光 commendation of ``target`` with a title of its own (a repeat would be 409 ALREADY_COMMENDED)."""
        return {"user_id": target.id, "title": f"表格表彰{uuid.uuid4().hex[:6]}", "story": "授权表测试",
                "period": "2026-11"}

    def commendation(self, target) -> str:
        """A fresh standing commendation of ``target`` by the table's admin."""
        resp = self.people["admin"].post("/v1/admin/commendations", self.commendation_body(target))
        assert resp.status == 201, resp.body
        return resp.json["id"]

    def project_round_body(self) -> dict:
        """A 微实事 round proposing for an hour, voting the hour after."""
        now = utcnow()
        return {"title": "表格微实事", "budget_yuan": 10000, "style": "approval", "max_choices": 1,
                "proposals_until": to_api(now + timedelta(hours=1)), "voting_from": to_api(now + timedelta(hours=2)),
                "voting_until": to_api(now + timedelta(hours=3)), "publicity_days": 0}

    def project_round(self) -> str:
        """A fresh 微实事 round of the table's community, opened by its admin."""
        resp = self.people["admin"].post("/v1/admin/project-rounds", self.project_round_body())
        assert resp.status == 201, resp.body
        return resp.json["id"]

    def round_project_in(self, state: str) -> str:
        """A fresh project proposed by a new resident in a fresh round; ``approved``: approved by the admin."""
        resp = self.c.resident(0).post(f"/v1/project-rounds/{self.project_round()}/projects", {
            "title": "表格项目", "description": "授权表测试", "cost_yuan": 100, "category": "其他"})
        assert resp.status == 201, resp.body
        if state == "approved":
            approved = self.people["admin"].post(f"/v1/projects/{resp.json['id']}/approve", {})
            assert approved.status == 200, approved.body
        return resp.json["id"]

    def party_registration(self) -> str:
        """A fresh pending 党员报到 of a new resident of the table's community (grid 0)."""
        member = self.c.resident(0)
        resp = member.post("/v1/me/party-registration", {"real_name": "表格报到", "work_unit": "表格单位",
                                                         "party_branch": "表格党支部"})
        assert resp.status == 201, resp.body
        return resp.json["id"]

    def wish_in(self, state: str) -> str:
        author, claimer = self.people["author"], self.people["claimer"]
        self.c.set(wish_publish_daily_cap=1000)  # the table publishes far more than a resident's daily cap
        if state == "pending":
            self.c.set(wish_review_required=True)
        wish = author.post("/v1/wishes", WISH).json
        self.c.set(wish_review_required=False)
        if state in ("claimed", "fulfilled"):
            assert claimer.post(f"/v1/wishes/{wish['id']}/claim").status == 200
        if state == "fulfilled":
            assert claimer.post(f"/v1/wishes/{wish['id']}/fulfil", {"note": "好"}).status == 200
        return wish["id"]


@pytest.fixture(scope="module")
def world(api):
    return World(api)


def test_table_covers_every_route(app_module):
    served = {(method, path) for path, methods in app_module.app.routes.items() for method in methods}
    assert served == set(TABLE), f"missing rows: {served - set(TABLE)}; stale rows: {set(TABLE) - served}"


@pytest.mark.parametrize("route", sorted(TABLE), ids=lambda r: f"{r[0]} {r[1]}")
def test_route_by_role(world, route):
    method, template = route
    state, body, expected = TABLE[route]
    got = {}
    # Roles are read as stored on every request, so a row that changes who someone is (注销, volunteer
    # registration, a role change) is played by fresh people, and the rows stay independent of their order.
    fresh = route in CHANGES_PEOPLE
    target = world.make("resident") if fresh else world.people["resident"]
    for role in ROLES:
        person = world.make(role) if fresh else world.people[role]
        path = template.replace("{code}", world.c.invite(0)).replace("{user_id}", target.id)
        path = path.replace("{file_name}", DEV_QR_VERIFY_FILE[0])  # the test stage's verification file
        path = path.replace("{page}", "members").replace("{name}", "app.js")  # the console's page and script
        path = path.replace("{store_id}", world.store_id).replace("{unit_id}", world.unit_id)
        if state and state.startswith("event:"):
            path = path.replace("{event_id}", world.event_in(state.split(":", 1)[1]))
        elif state == "goods":
            path = path.replace("{goods_id}", world.goods())
        elif state == "award":
            path = path.replace("{award_id}", world.award(target))
        elif state == "redemption":
            path = path.replace("{redemption_id}", world.redemption()["id"])
        elif state and state.startswith("request:"):
            path = path.replace("{request_id}", world.request_in(state.split(":", 1)[1]))
        elif state == "ticket":
            path = path.replace("{ticket}", world.ticket())
        elif state and state.startswith("post:"):
            path = path.replace("{post_id}", world.post_in(state.split(":", 1)[1]))
        elif state and state.startswith("co_project:"):
            path = path.replace("{project_id}", world.co_project_in(state.split(":", 1)[1]))
        elif state == "project_round":
            path = path.replace("{round_id}", world.project_round())
        elif state and state.startswith("round_project:"):
            path = path.replace("{project_id}", world.round_project_in(state.split(":", 1)[1]))
        elif state == "ballot_round":  # 微实事: a round of the table's community voting now, one approved project
            from tests.api.test_ballots import seed_round
            round_id, (ballot_project,), _ = seed_round(world.c.id, [100])
            path = path.replace("{round_id}", round_id)
        elif state == "party_registration":
            path = path.replace("{registration_id}", world.party_registration())
        elif state == "unit_invite":  # an unused liaison invite of the table's unit
            path = template.replace("{unit_id}", world.unit_id).replace("{code}", world.unit_invite_code())
        elif state == "liaison":  # whom the street takes off: a fresh liaison of the table's unit
            path = template.replace("{unit_id}", world.unit_id).replace("{user_id}", world.unit_liaison().id)
        elif state == "commendation":
            path = path.replace("{commendation_id}", world.commendation(target))
        elif state and state.startswith("certificate"):  # 志愿服务记录证明: a fresh one of the target; the check
            from tests.api.test_certificates import table_path
            path = table_path(path, state, world.c.id, target.id)
        elif state == "correction":  # 志愿服务记录更正: a pending correction of the target's, on a fresh event
            from tests.api.test_corrections import table_path as correction_path
            path = correction_path(path, world.event_in("activity"), world.c.id, target.id)
        elif state == "party_registered":  # the person reports first (a member: 201, or 409 when done already)
            if person is not None:
                person.post("/v1/me/party-registration", {"real_name": "表格党员", "work_unit": "表格单位",
                                                           "party_branch": "表格党支部"})
        elif state:
            path = path.replace("{wish_id}", world.wish_in(state))
        if template.startswith("/v1/console/"):
            world.open_tickets()
        payload = {"grid_id": world.c.grid_ids[0]} if body == "grid0" else body
        if body == "checkin":
            payload = {"code": checkin.make_code(DEV_CHECKIN_SECRET, world.event_in("activity"), "poster"),
                       "lat": 30.0, "lng": 103.8}
        if body == "award":
            payload = {"user_id": target.id, "category": "participation", "points": 1, "reason": "表格奖励"}
        if body == "redeem":
            payload = {"goods_id": world.goods(), "quantity": 1}
        if body == "pickup":
            payload = {"pickup_code": world.redemption()["pickup_code"]}
        if body == "request":
            payload = REQUEST
        if body == "agreement":
            payload = AGREEMENT
        if body == "co_project":
            payload = world.co_project_body()
        if body == "project_round":
            payload = world.project_round_body()
        if body == "commendation":
            payload = {**world.commendation_body(target), "title": "表格表彰"}
        if body == "ballot":
            payload = {"project_ids": [ballot_project]}
        if body == "proxy_ballot":  # 代办
            payload = {"project_ids": [ballot_project], "reason": PROXY_REASON}
        if body == "proxy_redeem":
            payload = {"goods_id": world.goods(), "quantity": 1, "reason": PROXY_REASON}
        if body == "managed_resident":
            payload = {"real_name": "表格居民", "grid_id": world.c.grid_ids[0]}
        path += QUERIES.get(route, "")
        if body == "event":
            start = utcnow() + timedelta(days=2)
            payload = {**EVENT, "starts_at": to_api(start), "ends_at": to_api(start + timedelta(hours=2))}
        token = person.token if person else None
        resp = world.api.request(method, path, token=token, json_body=payload if payload is not None else None,
                                 headers=HEADERS.get(route))
        got[role] = outcome(resp)
    mismatches = {role: (got[role], expected[role]) for role in ROLES if got[role] != expected[role]}
    assert not mismatches, f"{method} {template}: (got, expected) {mismatches}"


# A request 吹哨 up to the street: now the street's staff see it and take its steps, and the district's staff, who
# oversee the street, see it and press it; the grid's worker and the community's admin, who saw it come through,
# still see it but are no longer its handlers; the staff of another street (and everyone else, the department not
# reached yet) are told it does not exist. Then on to the district's department: its staff handle it, the district's
# decide its extension.
BELOW_STREET = {"author", "admin", "grid_worker"}
STREET_ROWS = {
    ("GET", "/v1/requests/{request_id}"): ("at_street", None, BELOW_STREET | {"street_staff", "district_staff"},
                                           set()),
    ("POST", "/v1/requests/{request_id}/accept"): ("at_street", None, {"street_staff"},
                                                   BELOW_STREET | {"district_staff"}),
    ("POST", "/v1/requests/{request_id}/resolve"): ("accepted_at_street", {"note": "街道协调物业已修复"},
                                                    {"street_staff"}, BELOW_STREET | {"district_staff"}),
    ("POST", "/v1/requests/{request_id}/supervise"): ("at_street", {"note": "区里督办"}, {"district_staff"},
                                                      BELOW_STREET | {"street_staff"}),
    ("POST", "/v1/requests/{request_id}/extend"): ("accepted_at_street", {"days": 3, "reason": "等区里审批"},
                                                   {"street_staff"}, BELOW_STREET | {"district_staff"}),
    ("POST", "/v1/requests/{request_id}/escalate"): (
        "at_street", "department", {"street_staff"}, BELOW_STREET | {"district_staff"}),
}
DEPARTMENT_ROWS = {
    ("GET", "/v1/requests/{request_id}"): (
        "at_department", None, BELOW_STREET | {"street_staff", "district_staff", "department_staff"}, set()),
    ("POST", "/v1/requests/{request_id}/accept"): ("at_department", None, {"department_staff"},
                                                   BELOW_STREET | {"street_staff", "district_staff"}),
    ("POST", "/v1/requests/{request_id}/resolve"): ("accepted_at_department", {"note": "城管已处理"},
                                                    {"department_staff"}, BELOW_STREET | {"street_staff",
                                                                                          "district_staff"}),
    ("POST", "/v1/requests/{request_id}/supervise"): ("at_department", {"note": "区里督办"}, {"district_staff"},
                                                      BELOW_STREET | {"street_staff", "department_staff"}),
    ("POST", "/v1/requests/{request_id}/extension/approve"): (
        "extension_asked_at_department", None, {"district_staff"},
        BELOW_STREET | {"street_staff", "department_staff"}),
}


ABOVE_ROWS = {(*route, "street"): row for route, row in STREET_ROWS.items()} | \
    {(*route, "department"): row for route, row in DEPARTMENT_ROWS.items()}


@pytest.mark.parametrize("case", sorted(ABOVE_ROWS), ids=lambda r: f"{r[0]} {r[1]} at the {r[2]}")
def test_request_above_the_community_by_role(world, case):
    method, template, _ = case
    state, body, allowed, seen_by = ABOVE_ROWS[case]
    if body == "department":
        body = {"reason": "需要区直部门", "department_id": world.department_id}
    other_street = streets.create_street("别的街道")["id"]
    stranger = world.api.login()
    streets.add_staff(other_street, stranger.id)
    other_district = districts.create_district("别的区")["id"]
    other_department = districts.add_department(other_district, "别的局")["id"]
    people = {**world.people, "other_street_staff": stranger.relogin(),
              "other_district_staff": world.above(districts.add_district_staff, other_district),
              "other_department_staff": world.above(districts.add_department_staff, other_department)}
    expected = {role: "ok" if role in allowed else "403" if role in seen_by else "404" for role in people}
    expected["anonymous"] = "401"
    got = {}
    for role, person in people.items():
        path = template.replace("{request_id}", world.request_in(state))
        resp = world.api.request(method, path, token=person.token if person else None, json_body=body)
        got[role] = outcome(resp)
    mismatches = {role: (got[role], expected[role]) for role in people if got[role] != expected[role]}
    assert not mismatches, f"{method} {template} at the {case[2]}: (got, expected) {mismatches}"
