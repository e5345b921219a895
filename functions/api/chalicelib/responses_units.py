"""Success bodies of the units area (共建单位/驻区单位, ``usecases/units.py``): see responses.py for the rules every
model here follows."""
from __future__ import annotations

from pydantic import AwareDatetime, Field

from .responses_common import Answer, UserView


class UnitView(Answer):
    """``units.present_unit``: a unit as its liaisons, its street's staff and its communities' admins see it."""
    id: str
    name: str
    kind: str = Field(description="机关、企业、事业单位、学校、医院或社会组织")
    street_id: str
    contact_name: str
    contact_phone: str = Field(description="联系电话（只有工作人员看得到：联络员、街道、共建社区的管理员）")
    liaison_count: int = Field(description="联络员人数")
    agreement_count: int = Field(description="与社区签订的共建协议数（含已过期的）")
    resource_count: int = Field(description="资源清单条数")
    created_at: AwareDatetime


class UnitPage(Answer):
    items: list[UnitView]
    next_cursor: str | None


class UnitRef(Answer):
    id: str
    name: str


class UnitCommunityRef(Answer):
    id: str
    name: str


class UnitAgreementView(Answer):
    """``units.present_agreement``: a unit's co-building agreement (共建协议) with one community."""
    unit_id: str
    community: UnitCommunityRef
    pledges: list[str] = Field(description="承诺事项")
    activities_per_quarter: int = Field(description="每季度至少开展的活动次数")
    valid_until: str = Field(description="有效期至 YYYY-MM-DD（北京时间，含当天）")
    valid: bool = Field(description="今天（北京时间）是否在有效期内")
    signed_at: AwareDatetime = Field(description="最近一次签订（或续签）的时间")
    created_at: AwareDatetime = Field(description="首次签订的时间")


class SignedAgreementView(UnitAgreementView):
    """``units.sign_agreement``: the agreement as signed; ``renewed`` when it replaced the community's earlier one."""
    renewed: bool = Field(description="true：替换了本社区与该单位原有的协议（续签）")


class UnitAgreementPage(Answer):
    items: list[UnitAgreementView]
    next_cursor: str | None


class AdminUnitView(UnitView):
    """``units.list_admin_units``: a unit of the street, with this community's agreement (null: none)."""
    agreement: UnitAgreementView | None


class AdminUnitPage(Answer):
    items: list[AdminUnitView]
    next_cursor: str | None


class UnitInviteView(Answer):
    """``units.create_invite``: a one-time invite to become the unit's liaison (7 days), answered as every invite
    code is (``{code, url, valid_until}``, api.md 普通链接二维码)."""
    code: str
    unit_id: str
    url: str = Field(description="二维码携带的链接 <QR_LINK_BASE>/u/<code>（普通链接二维码：微信扫一扫即打开小程序）")
    valid_until: AwareDatetime = Field(description="有效期至（与 expires_at 相同）")
    expires_at: AwareDatetime


class UnitInviteCodeView(Answer):
    """``unit_liaisons.invite_qrcode`` (format=json): the invite as every invite code is answered."""
    code: str = Field(description="邀请码")
    unit_id: str
    url: str = Field(description="二维码携带的链接 <QR_LINK_BASE>/u/<code>")
    valid_until: AwareDatetime = Field(description="邀请码的失效时间")


class UnitLiaisonUser(Answer):
    id: str
    nickname: str = Field(description="成为联络员时的昵称（街道工作人员可见全名）")


class UnitLiaisonView(Answer):
    """``unit_liaisons.present_liaison``: a liaison of the unit as its street sees them."""
    user: UnitLiaisonUser
    unit_id: str
    since: AwareDatetime = Field(description="成为该单位联络员的时间")


class UnitLiaisonPage(Answer):
    items: list[UnitLiaisonView]
    next_cursor: str | None


class UnitJoinedView(Answer):
    """``units.join_unit``: the unit joined, and the user as they are now (``unit_liaison``, ``unit_ids``)."""
    unit: UnitRef
    user: UserView


class UnitResourceView(Answer):
    """``units.present_resource``: an item of a unit's 资源清单."""
    id: str
    unit_id: str
    title: str
    description: str
    capacity: int
    created_at: AwareDatetime


class UnitResourcePage(Answer):
    items: list[UnitResourceView]
    next_cursor: str | None
