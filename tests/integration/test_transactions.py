"""The TransactWrite helper: cancellation reasons mapped back through PynamoDB's grouping, conflicts
and throttling retried with backoff (moto never raises those, so they are injected with botocore's
event hooks on the real client), condition failures never retried."""
import uuid

import pytest
from botocore.exceptions import ClientError

from tongxin.adapters.dynamo import binding, tx as txmod
from tongxin.adapters.dynamo.models import GridModel, UserModel
from tongxin.adapters.dynamo.tx import Tx
from tongxin.domain.clock import utcnow
from tongxin.domain.errors import Conflict, NotFound, StorageBusy


class Cancelled(Exception):
    pass


def _user(**kw):
    return UserModel(f"u_tx{uuid.uuid4().hex[:10]}", status="active", created_at=utcnow(), **kw)


def test_reasons_map_to_the_operation_added_first_in_wire_order(container):
    """Added as update, put, check: DynamoDB reports check, put, update. The failing put's error wins."""
    existing = _user()
    existing.save()
    other, third = _user(), _user()
    other.save()
    third.save()
    tx = Tx()
    tx.update(UserModel(other.id), [UserModel.nickname.set("x")], condition=UserModel.id.exists(),
              error=Conflict("update failed"))
    tx.put(existing, condition=UserModel.id.does_not_exist(), error=Conflict("put failed", code="PUT_FAILED"))
    tx.check(UserModel, third.id, condition=UserModel.id.exists(), error=NotFound("check failed"))
    with pytest.raises(Conflict) as raised:
        tx.commit()
    assert raised.value.code == "PUT_FAILED"
    assert UserModel.get(other.id).nickname is None


def test_error_function_sees_the_item_as_it_stood(container):
    user = _user(nickname="旧名")
    user.save()
    seen = []
    with pytest.raises(Conflict):
        Tx().update(UserModel(user.id), [UserModel.nickname.set("新名")], condition=UserModel.nickname == "别的",
                    error=lambda current: seen.append(current.nickname) or Conflict()).commit()
    assert seen == ["旧名"]


def _inject(container, failures: list[str]):
    """Make the next len(failures) TransactWriteItems calls fail with the given cancellation reason or
    error code, before they reach DynamoDB."""
    client = binding.connection().client
    remaining = list(failures)

    def before_call(params, model, **kwargs):
        if model.name != "TransactWriteItems" or not remaining:
            return None
        code = remaining.pop(0)
        if code in txmod.RETRYABLE_REASONS:
            reasons = [{"Code": code, "Message": "injected"} for _ in params["TransactItems"]]
            error = {"Error": {"Code": "TransactionCanceledException", "Message": f"Transaction cancelled [{code}]"},
                     "CancellationReasons": reasons}
            raise ClientError(error, "TransactWriteItems")
        raise ClientError({"Error": {"Code": code, "Message": "injected"}}, "TransactWriteItems")

    event = "before-parameter-build.dynamodb.TransactWriteItems"
    client.meta.events.register_first(event, before_call)
    return lambda: client.meta.events.unregister(event, before_call)


def test_transaction_conflict_and_throttling_are_retried(container, monkeypatch):
    monkeypatch.setattr(txmod, "BACKOFF_BASE_SECONDS", 0.001)
    grid = GridModel("c_tx", f"g_{uuid.uuid4().hex[:8]}", name="网格", created_at=utcnow())
    remove = _inject(container, ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceededException"])
    try:
        Tx().put(grid, condition=GridModel.id.does_not_exist()).commit()
    finally:
        remove()
    assert GridModel.get("c_tx", grid.id).name == "网格"


def test_persistent_conflict_becomes_storage_busy(container, monkeypatch):
    monkeypatch.setattr(txmod, "BACKOFF_BASE_SECONDS", 0.001)
    grid = GridModel("c_tx", f"g_{uuid.uuid4().hex[:8]}", name="网格", created_at=utcnow())
    remove = _inject(container, ["TransactionConflict"] * txmod.MAX_ATTEMPTS)
    try:
        with pytest.raises(StorageBusy):
            Tx().put(grid).commit()
    finally:
        remove()
    assert not GridModel.count("c_tx", GridModel.id == grid.id)


def test_condition_failure_is_not_retried(container):
    calls = []
    client = binding.connection().client
    hook = lambda **kw: calls.append(1)  # noqa: E731
    client.meta.events.register("before-call.dynamodb.TransactWriteItems", hook)
    try:
        with pytest.raises(NotFound):
            Tx().check(UserModel, "u_missing", condition=UserModel.id.exists(), error=NotFound()).commit()
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", hook)
    assert len(calls) == 1


def test_all_models_share_one_client(container):
    from tongxin.adapters.dynamo.models import ALL_MODELS
    clients = {id(model._get_connection().connection.client) for model in ALL_MODELS}
    assert clients == {id(binding.connection().client)}
