"""代办's pure rules (domain/proxy.py): who may act for whom, in which order the refusals come, the masked name, and
the directory entries of a managed resident (domain/directory.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tongxin.domain import directory
from tongxin.domain.access import Principal
from tongxin.domain.errors import Forbidden, NotFound
from tongxin.domain.proxy import HasAccount, Subject, check_subject, display_nickname, may_manage_grid

ADMIN = Principal("u_admin", "c1", frozenset({"resident", "admin"}))
WORKER = Principal("u_worker", "c1", frozenset({"resident", "grid_worker"}), grid_ids=frozenset({"g1"}))


def subject(**changes) -> Subject:
    fields = dict(user_id="u_old", active=True, community_id="c1", grid_id="g1", managed=True, has_wechat=False)
    return Subject(**{**fields, **changes})


def test_an_admin_covers_every_grid_a_worker_only_theirs():
    assert may_manage_grid(ADMIN, "g1") and may_manage_grid(ADMIN, "g2") and may_manage_grid(ADMIN, None)
    assert may_manage_grid(WORKER, "g1")
    assert not may_manage_grid(WORKER, "g2") and not may_manage_grid(WORKER, None)


@pytest.mark.parametrize("actor,changes,error", [
    (WORKER, {}, None),
    (ADMIN, {"grid_id": "g9"}, None),
    (WORKER, {"grid_id": "g2"}, NotFound),
    (WORKER, {"grid_id": None}, NotFound),
    (ADMIN, {"community_id": "c2"}, NotFound),
    (ADMIN, {"active": False}, NotFound),
    (ADMIN, {"has_wechat": True}, HasAccount),
    (ADMIN, {"managed": False}, HasAccount),
    (WORKER, {"user_id": "u_worker", "has_wechat": True}, Forbidden),  # oneself comes first
    # Scope before account: another grid's worker is not told that a WeChat user exists there.
    (WORKER, {"grid_id": "g2", "has_wechat": True}, NotFound),
])
def test_who_may_act_for_whom(actor, changes, error):
    if error is None:
        check_subject(actor, subject(**changes))
    else:
        with pytest.raises(error):
            check_subject(actor, subject(**changes))


def test_an_unknown_resident_is_not_found():
    with pytest.raises(NotFound):
        check_subject(ADMIN, None)


def test_has_account_is_the_contracts_409():
    assert (HasAccount.status, HasAccount.code) == (409, "HAS_ACCOUNT") and HasAccount().message


@pytest.mark.parametrize("name,shown", [("王秀兰", "王**"), ("李四", "李*"), ("张", "张*"), ("欧阳娜娜", "欧***")])
def test_others_see_the_real_name_masked(name, shown):
    assert display_nickname(name) == shown


def test_a_managed_resident_has_two_more_directory_entries():
    joined = datetime(2026, 12, 1, tzinfo=timezone.utc)
    member = directory.Member("u1", "c1", True, joined, grid_id="g1", roles=frozenset({"resident"}), real_name="王秀兰")
    managed = directory.Member("u1", "c1", True, joined, grid_id="g1", roles=frozenset({"resident"}),
                               real_name="王秀兰", managed=True)
    extra = directory.entry_keys(managed) - directory.entry_keys(member)
    t = directory.time_key(joined)
    assert extra == {f"managed#{t}#u1", f"gm#g1#{t}#u1"}
    assert directory.entry_keys(member) <= directory.entry_keys(managed)
    assert directory.entry_keys(directory.Member("u1", "c1", False, joined, managed=True)) == set()  # 注销: none
