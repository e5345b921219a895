"""PynamoDB models, one module per area, one class per table, indexes declared next to the list they serve.

Table names are bound at start-up (``binding.bind``) to ``<prefix>-<name>``; ``TABLE`` below is the
``<name>`` part. Hot counters (points, stock, counts) live on items without a VersionAttribute (a
version-less update would reset it).
"""
from .audit import AuditModel
from .base import BaseModel
from .certificates import CertificateModel  # 志愿服务记录证明
from .corrections import CorrectionModel  # 志愿服务记录更正
from .ballots import BallotModel
from .co_projects import CoProjectModel, CoProjectRatingModel, CoProjectStep
from .commendations import CommendationModel
from .community import CommunityModel, GridModel, InviteModel, StreetModel
from .console import ConsoleSessionModel
from .directory import MemberEntryModel
from .districts import DepartmentModel, DistrictModel
from .events import EventModel, SignupModel
from .identity import IdentityModel, UserModel
from .infra import CounterModel, IdempotencyModel, KeyValueModel
from .outbox import OutboxModel
from .party import PartyRegistrationModel
from .points import AwardModel, LedgerEntryModel, ScoreModel
from .posts import PostClaimModel, PostModel
from .proxy import BindingCodeModel, ProxyLogModel  # 代办记录, 绑定码
from .project_rounds import ProjectRoundModel, RoundProjectModel, RoundProjectRatingModel, RoundProjectStep
from .requests import RequestModel, TimelineEntry
from .store import GoodsModel, PickupCodeModel, RedemptionModel, StoreModel
from .units import UnitAgreementModel, UnitInviteModel, UnitLiaisonModel, UnitModel, UnitResourceModel
from .wishes import WishModel

__all__ = ["ALL_MODELS", "AuditModel", "AwardModel", "BaseModel", "CommunityModel", "ConsoleSessionModel", "CounterModel", "DepartmentModel", "DistrictModel", "EventModel", "GoodsModel", "GridModel",
           "IdempotencyModel", "IdentityModel", "InviteModel", "KeyValueModel", "LedgerEntryModel", "MemberEntryModel", "OutboxModel", "PartyRegistrationModel",
           "PickupCodeModel", "PostClaimModel", "PostModel", "RedemptionModel", "RequestModel", "ScoreModel", "SignupModel", "StoreModel", "StreetModel",
           "TimelineEntry", "UnitAgreementModel", "UnitInviteModel", "UnitLiaisonModel", "UnitModel", "UnitResourceModel", "UserModel",
           "WishModel", "CoProjectModel", "CoProjectRatingModel", "CoProjectStep",
           "CommendationModel",
           "ProjectRoundModel", "RoundProjectModel", "RoundProjectRatingModel", "RoundProjectStep", "BallotModel",
           "ProxyLogModel", "BindingCodeModel",
           "CertificateModel",
           "CorrectionModel"]

ALL_MODELS: tuple[type[BaseModel], ...] = (
    UserModel, IdentityModel, CommunityModel, GridModel, InviteModel, WishModel, LedgerEntryModel,
    OutboxModel, EventModel, SignupModel, StoreModel, GoodsModel, RedemptionModel, PickupCodeModel, AwardModel,
    ScoreModel, StreetModel, RequestModel, IdempotencyModel, CounterModel, KeyValueModel,
    AuditModel, MemberEntryModel, ConsoleSessionModel, DistrictModel, DepartmentModel,
    UnitModel, UnitInviteModel, UnitAgreementModel, UnitResourceModel, UnitLiaisonModel,
    PostModel, PostClaimModel,
    PartyRegistrationModel,
    CoProjectModel, CoProjectRatingModel,
    CommendationModel,
    ProjectRoundModel, RoundProjectModel, RoundProjectRatingModel,
    BallotModel,
    ProxyLogModel, BindingCodeModel,
    CertificateModel,
    CorrectionModel,
)

# Bound to the stage (tables, endpoint, shared client) the moment they exist: the container binds before the first
# use case imports them (binding.py listens).
from ..model_registry import defined as _defined  # noqa: E402 (after the classes it announces)

_defined(ALL_MODELS)
