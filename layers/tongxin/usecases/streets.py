"""Streets (街道), the platform operator's (command line only): create one, attach communities to it, name and
remove its staff (``street_staff``, ``staff_lists.py``). Each change is one transaction that keeps both sides in
step: the community's ``street_id`` and the street's ``community_ids``; the user's role and ``street_ids`` and the
street's ``staff_ids`` (whom the street's messages reach)."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist

from ..adapters.dynamo.models import CommunityModel, StreetModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain.access import Role
from ..domain.clock import utcnow
from ..domain.errors import Conflict, NotFound
from ..domain.ids import new_id
from . import staff_lists
from .staff_lists import CHANGED

STREET_NOT_FOUND = NotFound("街道不存在")


def present_street(street: StreetModel) -> dict:
    return {"id": street.id, "name": street.name, "community_ids": sorted(street.community_ids or ()),
            "staff_ids": sorted(street.staff_ids or ()), "district_id": street.district_id}


def create_street(name: str, *, street_id: str | None = None) -> dict:
    street = StreetModel(street_id or new_id("st"), name=name, created_at=utcnow())
    Tx().put(street, condition=StreetModel.id.does_not_exist(), error=Conflict("街道已存在")).commit()
    return present_street(street)


def _street(street_id: str) -> StreetModel:
    try:
        return StreetModel.get(street_id, consistent_read=True)
    except DoesNotExist:
        raise STREET_NOT_FOUND from None


def attach_community(street_id: str, community_id: str) -> dict:
    """The community now belongs to ``street_id`` (moved from its former street, if any). Requests submitted from
    now on escalate there; those already submitted keep the street they were submitted under."""
    street = _street(street_id)
    try:
        community = CommunityModel.get(community_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound("社区不存在") from None
    former = community.street_id
    # The community takes the street's district (区) with it: what its requests fix at submission.
    district = [CommunityModel.district_id.set(street.district_id) if street.district_id
                else CommunityModel.district_id.remove()]
    tx = Tx().update(CommunityModel(community_id), [CommunityModel.street_id.set(street_id), *district],
                     condition=CommunityModel.street_id == former if former else
                     CommunityModel.street_id.does_not_exist(), error=CHANGED)
    same_district = StreetModel.district_id == street.district_id if street.district_id \
        else StreetModel.district_id.does_not_exist()
    tx.update(StreetModel(street_id), [StreetModel.community_ids.add({community_id})],
              condition=StreetModel.id.exists() & same_district,
              error=lambda current: STREET_NOT_FOUND if current is None else CHANGED)
    if former and former != street_id:
        tx.update(StreetModel(former), [StreetModel.community_ids.delete({community_id})])
    tx.commit()
    street.community_ids = set(street.community_ids or ()) | {community_id}
    return present_street(street)


STREET_STAFF = staff_lists.StaffList(StreetModel, Role.STREET_STAFF, UserModel.street_ids, STREET_NOT_FOUND)


def add_staff(street_id: str, user_id: str) -> dict:
    street = _street(street_id)
    staff_lists.add(STREET_STAFF, street_id, user_id)
    street.staff_ids = set(street.staff_ids or ()) | {user_id}
    return present_street(street)


def remove_staff(street_id: str, user_id: str) -> dict:
    """Takes the street away from the user (and the role with their last street), at once."""
    street = _street(street_id)
    staff_lists.remove(STREET_STAFF, street_id, user_id)
    street.staff_ids = set(street.staff_ids or ()) - {user_id}
    return present_street(street)
