"""One error envelope for everything, and Idempotency-Key replay."""
import uuid

from tongxin.adapters.dynamo.models import GridModel


def test_malformed_json_is_400_in_our_envelope(community):
    resp = community.api.request("POST", "/v1/admin/grids", raw="{not json", token=community.admin.token)
    assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED"
    assert "JSON" in resp.json["error"]["message"]


def test_body_that_is_not_an_object_is_400(community):
    for raw in ("[]", "\"text\"", "42", "null"):
        resp = community.api.request("POST", "/v1/admin/grids", raw=raw, token=community.admin.token)
        assert resp.status == 400 and resp.error_code == "VALIDATION_FAILED", raw


def test_wrong_content_type_is_4xx_in_our_envelope(community):
    resp = community.api.request("POST", "/v1/admin/grids", raw="name=x", token=community.admin.token,
                                 headers={"content-type": "application/x-www-form-urlencoded"})
    assert resp.status == 415 and resp.error_code == "UNSUPPORTED_MEDIA_TYPE"


def test_unsupported_method_is_405_in_our_envelope(api):
    resp = api.request("PUT", "/v1/health", json_body={})
    assert resp.status == 405 and resp.error_code == "METHOD_NOT_ALLOWED"


def test_validation_error_names_the_field_in_chinese(community):
    resp = community.admin.post("/v1/admin/grids", {"name": "网" * 21})
    error = resp.json["error"]
    assert resp.status == 400 and error["details"]["field"] == "name"
    assert "20" in error["message"] and "长度" in error["message"]
    missing = community.admin.post("/v1/admin/grids", {})
    assert missing.json["error"]["details"]["field"] == "name" and "缺少" in missing.json["error"]["message"]


def test_same_idempotency_key_replays_first_response_and_changes_nothing(community):
    key = str(uuid.uuid4())
    first = community.admin.post("/v1/admin/grids", {"name": "幂等网格"}, headers={"Idempotency-Key": key})
    second = community.admin.post("/v1/admin/grids", {"name": "幂等网格"}, headers={"Idempotency-Key": key})
    assert first.status == second.status == 201
    assert first.json == second.json
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert [g.name for g in GridModel.query(community.id)].count("幂等网格") == 1


def test_same_key_with_a_different_body_is_409(community):
    key = str(uuid.uuid4())
    assert community.admin.post("/v1/admin/grids", {"name": "甲"}, headers={"Idempotency-Key": key}).status == 201
    resp = community.admin.post("/v1/admin/grids", {"name": "乙"}, headers={"Idempotency-Key": key})
    assert resp.status == 409 and resp.error_code == "IDEMPOTENCY_KEY_REUSED"


def test_idempotency_keys_are_per_user(community):
    key = str(uuid.uuid4())
    other_admin = community.with_roles(community.resident(), ["admin"])
    a = community.admin.post("/v1/admin/grids", {"name": "丙"}, headers={"Idempotency-Key": key})
    b = other_admin.post("/v1/admin/grids", {"name": "丙"}, headers={"Idempotency-Key": key})
    assert a.status == b.status == 201 and a.json["id"] != b.json["id"]


def test_refused_requests_are_replayed_too(community):
    """A 4xx is an answer: the same key gets the same answer, even if the state changed since."""
    key = str(uuid.uuid4())
    member = community.resident()
    first = member.post("/v1/me/volunteer", {"real_name": "李"}, headers={"Idempotency-Key": key})
    again = member.post("/v1/me/volunteer", {"real_name": "李"}, headers={"Idempotency-Key": key})
    assert first.status == again.status == 400 and first.json == again.json


def test_a_replayed_chalice_refusal_keeps_our_envelope(community):
    key = str(uuid.uuid4())
    headers = {"content-type": "text/plain", "Idempotency-Key": key}
    first = community.api.request("POST", "/v1/admin/grids", raw="name", token=community.admin.token, headers=headers)
    again = community.api.request("POST", "/v1/admin/grids", raw="name", token=community.admin.token, headers=headers)
    assert first.status == again.status == 415
    assert first.error_code == again.error_code == "UNSUPPORTED_MEDIA_TYPE"
