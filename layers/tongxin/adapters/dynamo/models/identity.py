"""Identity (身份): users and the openid → user mapping."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UnicodeSetAttribute, UTCDateTimeAttribute

from .base import BaseModel
from .commendations import LatestCommendation


class UserModel(BaseModel):
    TABLE = "users"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "users"

    id = UnicodeAttribute(hash_key=True)
    status = UnicodeAttribute(default="active")  # active | deleted (注销) | merged (绑定: usecases/binding.py)
    nickname = UnicodeAttribute(null=True)
    avatar_url = UnicodeAttribute(null=True)
    phone = UnicodeAttribute(null=True)
    real_name = UnicodeAttribute(null=True)
    skills = ListAttribute(of=UnicodeAttribute, null=True)
    community_id = UnicodeAttribute(null=True)
    grid_id = UnicodeAttribute(null=True)
    roles = UnicodeSetAttribute(null=True)
    grid_ids = UnicodeSetAttribute(null=True)
    store_ids = UnicodeSetAttribute(null=True)
    street_ids = UnicodeSetAttribute(null=True)  # street_staff (街道工作人员): the streets they work
    district_ids = UnicodeSetAttribute(null=True)  # district_staff (区级平台): the districts they work
    department_ids = UnicodeSetAttribute(null=True)  # department_staff (区直部门): the departments they work
    unit_ids = UnicodeSetAttribute(null=True)  # unit_liaison (共建单位联络员): the units they speak for
    party_unit_id = UnicodeAttribute(null=True)  # 党员报到: the unit an approved party member works in, if any
    points_balance = NumberAttribute(default=0)
    earned_total = NumberAttribute(default=0)
    volunteer_minutes = NumberAttribute(default=0)
    # 微星光: standing commendations and the newest of them (usecases/commendations.py keeps both in its transactions).
    commendations_count = NumberAttribute(null=True)
    latest_commendation = LatestCommendation(null=True)
    # Never leaves the server: used only to address subscribe messages.
    openid = UnicodeAttribute(null=True)
    # 代办: a resident without WeChat registered by staff (usecases/managed_residents.py): no openid, cannot sign in;
    # staff act for them (usecases/proxy.py). ``address`` is theirs as staff wrote it; ``managed_by``: who did.
    managed = BooleanAttribute(null=True)
    address = UnicodeAttribute(null=True)
    managed_by = UnicodeAttribute(null=True)
    binding_code = UnicodeAttribute(null=True)  # the newest 绑定码 an admin issued for the managed resident
    bound_at = UTCDateTimeAttribute(null=True)  # when their own WeChat account took the managed account over
    merged_into = UnicodeAttribute(null=True)  # status "merged": the account that took this one's WeChat identity
    volunteer_since = UTCDateTimeAttribute(null=True)
    # Set when an admin takes ``volunteer`` away: self-registration may not give it back (an admin may).
    volunteer_revoked_at = UTCDateTimeAttribute(null=True)
    joined_at = UTCDateTimeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute(null=True)
    deleted_at = UTCDateTimeAttribute(null=True)


class IdentityModel(BaseModel):
    """openid → user id. Its conditional Put is what makes concurrent first logins create one user."""
    TABLE = "identities"

    class Meta(BaseModel.Meta):
        abstract = False
        table_name = "identities"

    openid = UnicodeAttribute(hash_key=True)
    user_id = UnicodeAttribute()
    unionid = UnicodeAttribute(null=True)
    created_at = UTCDateTimeAttribute()
