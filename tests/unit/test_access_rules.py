"""domain/access.py rules left by issue 23: the scope a street/district route is about (``scope_asked``, formerly
rollups._one_of), the role only an approval grants (``APPROVAL_ONLY``), and the one definition of the default and
deleted names (domain/text.py)."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from tongxin.domain.access import (
    APPROVAL_ONLY, ASSIGNABLE_ROLES, NOT_ASSIGNABLE, Principal, district_asked, street_asked,
)
from tongxin.domain.errors import Forbidden, ValidationFailed
from tongxin.domain.text import DEFAULT_NICKNAME, DELETED_NICKNAME


def staff(**scopes) -> Principal:
    roles = {"street_staff"} if "street_ids" in scopes else {"district_staff"}
    return Principal("u1", roles=frozenset(roles), **{k: frozenset(v) for k, v in scopes.items()})


def test_the_only_street_is_the_one_asked_about_and_a_named_one_must_be_held():
    assert street_asked(staff(street_ids={"st1"}), None) == "st1"
    assert street_asked(staff(street_ids={"st1", "st2"}), "st2") == "st2"
    with pytest.raises(ValidationFailed) as several:
        street_asked(staff(street_ids={"st1", "st2"}), None)
    assert several.value.details == {"field": "street_id"} and "街道" in several.value.message
    with pytest.raises(Forbidden):
        street_asked(staff(street_ids={"st1"}), "st9")
    with pytest.raises(Forbidden):  # no street at all, or the role without scope
        street_asked(Principal("u1"), None)
    with pytest.raises(Forbidden):
        street_asked(Principal("u1", roles=frozenset({"street_staff"})), None)


def test_the_district_likewise():
    assert district_asked(staff(district_ids={"d1"}), None) == "d1"
    with pytest.raises(ValidationFailed) as several:
        district_asked(staff(district_ids={"d1", "d2"}), None)
    assert several.value.details == {"field": "district_id"}
    with pytest.raises(Forbidden):
        district_asked(staff(street_ids={"st1"}), None)  # street staff are no district staff


def test_party_member_is_granted_by_approval_only():
    assert APPROVAL_ONLY == {"party_member"}
    assert not APPROVAL_ONLY & NOT_ASSIGNABLE  # kept and removable through the roles route, unlike those
    assert "party_member" in ASSIGNABLE_ROLES  # the list may carry it back; adding is refused by set_roles


def test_the_default_and_deleted_names_are_defined_once():
    assert (DEFAULT_NICKNAME, DELETED_NICKNAME) == ("微信用户", "已注销用户")
    root = Path(__file__).resolve().parents[2] / "layers" / "tongxin"
    defined = sorted(str(p.relative_to(root)) for p in root.rglob("*.py")
                     if re.search(r'^(DEFAULT|DELETED)_NICKNAME = ', p.read_text(encoding="utf-8"), re.M))
    assert defined == ["domain/text.py"], defined
