"""Test helpers: an HTTP client for the Chalice app that checks every answer for leaked WeChat
identifiers, and builders for communities and members made through the real API."""
from __future__ import annotations

import json
import os
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

from tests import budget

# What a WeChat identifier from the stand-in looks like (fake_openid / fake_unionid).
SECRET_VALUE = re.compile(r"(?<![0-9a-zA-Z])[ou][0-9a-f]{27}(?![0-9a-zA-Z])")
SECRET_NAMES = ("openid", "unionid", "session_key")


def assert_no_secrets(text: str, where: str) -> None:
    lowered = text.lower()
    for name in SECRET_NAMES:
        assert f'"{name}"' not in lowered, f"{where} names {name}: {text[:300]}"
    match = SECRET_VALUE.search(text)
    assert match is None, f"{where} contains a WeChat identifier {match.group(0)!r}: {text[:300]}"


@dataclass
class Resp:
    status: int
    body: bytes
    headers: dict

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error_code(self) -> str | None:
        if self.status < 400:
            return None
        data = self.json
        return data.get("error", {}).get("code") if isinstance(data, dict) else None


class Api:
    """Calls the Chalice app through its test client (the real middleware and routes)."""

    def __init__(self, client):
        self.client = client

    def request(self, method: str, path: str, *, token: str | None = None, json_body: Any = None,
                raw: str | bytes | None = None, headers: dict | None = None) -> Resp:
        all_headers = {"content-type": "application/json", "accept": "*/*"}
        if token:
            all_headers["authorization"] = f"Bearer {token}"
        all_headers.update(headers or {})
        body = raw if raw is not None else (json.dumps(json_body, ensure_ascii=False) if json_body is not None else "")
        meter = budget.open_meter()
        try:
            response = getattr(self.client.http, method.lower())(path, headers=all_headers, body=body)
        finally:
            budget.close_meter()
        resp = Resp(response.status_code, response.body or b"", dict(response.headers))
        self.last_meter = meter  # the calls this request made (tests/budget.py)
        budget.record(method.upper(), path, resp.status, meter)
        overspent = budget.overspent(method.upper(), path, meter)
        assert overspent is None or os.environ.get("CALL_REPORT_ONLY"), overspent
        content_type = resp.headers.get("Content-Type", resp.headers.get("content-type", ""))
        if not content_type.startswith(("image/png", "image/jpeg")):  # binary images: no text to search
            assert_no_secrets(resp.body.decode("utf-8", "replace"), f"{method} {path}")
        if resp.status >= 500:
            assert resp.status == 503, f"{method} {path} answered {resp.status}: {resp.body[:500]!r}"
        if resp.status >= 400:
            error = resp.json["error"]
            assert error["code"] and error["message"] and isinstance(error["details"], dict), resp.body
        return resp

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, json_body=None, **kw):
        return self.request("POST", path, json_body=json_body if json_body is not None else {}, **kw)

    def put(self, path, json_body=None, **kw):
        return self.request("PUT", path, json_body=json_body, **kw)

    def patch(self, path, json_body=None, **kw):
        return self.request("PATCH", path, json_body=json_body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def login(self, name: str | None = None) -> "Member":
        name = name or f"t{uuid.uuid4().hex[:12]}"
        resp = self.post("/v1/auth/login", {"code": f"dev:{name}"})
        assert resp.status == 200, resp.body
        return Member(self, name, resp.json["token"], resp.json["user"])


@dataclass
class Member:
    api: Api
    name: str
    token: str
    user: dict

    @property
    def id(self) -> str:
        return self.user["id"]

    def relogin(self) -> "Member":
        fresh = self.api.login(self.name)
        self.token, self.user = fresh.token, fresh.user
        return self

    def get(self, path, **kw):
        return self.api.get(path, token=self.token, **kw)

    def post(self, path, json_body=None, **kw):
        return self.api.post(path, json_body, token=self.token, **kw)

    def put(self, path, json_body=None, **kw):
        return self.api.put(path, json_body, token=self.token, **kw)

    def patch(self, path, json_body=None, **kw):
        return self.api.patch(path, json_body, token=self.token, **kw)

    def delete(self, path, **kw):
        return self.api.delete(path, token=self.token, **kw)


@dataclass
class Community:
    api: Api
    id: str
    admin: Member
    grid_ids: list[str]
    invites: dict[str, str] = field(default_factory=dict)

    def invite(self, grid_index: int = 0) -> str:
        grid_id = self.grid_ids[grid_index]
        if grid_id not in self.invites:
            resp = self.admin.post("/v1/admin/invites", {"grid_id": grid_id})
            assert resp.status == 201, resp.body
            self.invites[grid_id] = resp.json["code"]
        return self.invites[grid_id]

    def resident(self, grid_index: int = 0, name: str | None = None) -> Member:
        member = self.api.login(name)
        resp = member.post("/v1/me/community", {"invite": self.invite(grid_index)})
        assert resp.status == 200, resp.body
        member.token, member.user = resp.json["token"], resp.json["user"]
        return member

    def volunteer(self, grid_index: int = 0) -> Member:
        member = self.resident(grid_index)
        resp = member.post("/v1/me/volunteer", {"real_name": "王志愿", "skills": ["维修"]})
        assert resp.status == 200, resp.body
        member.token, member.user = resp.json["token"], resp.json["user"]
        return member

    def with_roles(self, member: Member, roles: list[str], grid_indexes=(), store_ids=()) -> Member:
        """The member's roles replaced through the admin's roles route; ``party_member`` (which only an approved
        党员报到 grants) through a registration approved first, when not held already."""
        if "party_member" in roles:
            self.party_member(member)
        resp = self.admin.put(f"/v1/admin/members/{member.id}/roles", {
            "roles": roles, "grid_ids": [self.grid_ids[i] for i in grid_indexes], "store_ids": list(store_ids)})
        assert resp.status == 200, resp.body
        return member.relogin()

    def party_member(self, member: Member, **report) -> Member:
        """The member reports (党员报到) and an admin approves: how ``party_member`` is granted (a no-op when held)."""
        from tongxin.adapters.dynamo.models import UserModel
        if "party_member" in (UserModel.get(member.id, consistent_read=True).roles or ()):
            return member
        body = {"real_name": "李党员", "work_unit": "区税务局", "party_branch": "同心社区第一党支部", **report}
        resp = member.post("/v1/me/party-registration", body)
        assert resp.status == 201, resp.body
        approver = self.admin
        if member.id == self.admin.id:  # an admin's own report is decided by another admin
            approver = self.with_roles(self.resident(), ["admin"])
        approved = approver.post(f"/v1/admin/party-registrations/{resp.json['id']}/approve")
        assert approved.status == 200, approved.body
        return member.relogin()

    def grid_worker(self, grid_index: int = 0) -> Member:
        return self.with_roles(self.resident(grid_index), ["grid_worker"], [grid_index])

    def set(self, **settings) -> None:
        from tongxin.adapters.dynamo.models import CommunityModel
        CommunityModel(self.id).update(actions=[getattr(CommunityModel, k).set(v) for k, v in settings.items()])


def make_community(api: Api, *, grids: int = 2, review: bool = False, wish_points: int = 20) -> Community:
    """A community made the way the platform operator makes one (the CLI's use case), its first admin
    logged in, and its grids."""
    from tongxin.usecases import admin as admin_usecases

    founder = api.login()
    made = admin_usecases.create_community(f"测试社区{uuid.uuid4().hex[:4]}", admin_user_id=founder.id,
                                           grid_names=[f"第{i + 1}网格" for i in range(grids)],
                                           wish_review_required=review, wish_points=wish_points)
    founder.relogin()
    return Community(api, made["id"], founder, [g["id"] for g in made["grids"]])


def trim_moto_outbox_stream(container) -> None:
    """moto keeps every stream record of the outbox table (nothing consumes its stream in-process: the sender's
    stream handler is fed built records), and its TransactWriteItems deep-copies the whole table, those records
    included, for every transaction that touches the outbox — so each change costs more the more the session has
    written. Dropping the records (before each test, conftest) keeps a transaction's cost what the table holds."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends
    from tongxin.adapters.dynamo.models import OutboxModel
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][container.settings.aws_region].tables.get(
        OutboxModel.Meta.table_name)
    if table is not None and table.stream_shard is not None:
        table.stream_shard.items.clear()
