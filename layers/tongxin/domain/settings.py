"""A community's settings (社区设置), pure: each one's default, bounds and meaning. Stored on the community item
(``CommunityModel``, absent = the default) and read by the areas that apply them; admins read and change them through
``GET/PATCH /v1/admin/community``."""
from __future__ import annotations

from dataclasses import dataclass

from . import events, party, points, requests, wishes


@dataclass(frozen=True)
class Setting:
    default: int | bool
    low: int = 0
    high: int = 0
    label: str = ""

    @property
    def boolean(self) -> bool:
        return isinstance(self.default, bool)


SETTINGS: dict[str, Setting] = {
    "wish_review_required": Setting(False, label="心愿发布前须经网格员或管理员审核"),
    "wish_points": Setting(wishes.DEFAULT_WISH_POINTS, 0, 200, "心愿确认后认领者获得的积分"),
    "wish_publish_daily_cap": Setting(wishes.DEFAULT_PUBLISH_DAILY_CAP, 1, 100, "每位居民每天最多发布的心愿数"),
    "wish_points_daily_cap": Setting(wishes.DEFAULT_POINTS_DAILY_CAP, 0, 100, "每位认领者每天最多得分的确认次数"),
    "wish_points_pair_monthly_cap": Setting(wishes.DEFAULT_POINTS_PAIR_MONTHLY_CAP, 0, 100,
                                            "同一对发布者与认领者每月最多得分的确认次数"),
    "award_cap_charity": Setting(points.DEFAULT_AWARD_CAPS["charity"], 1, 1000, "雪中送炭：单次奖励上限"),
    "award_cap_mediation": Setting(points.DEFAULT_AWARD_CAPS["mediation"], 1, 1000, "息事宁人：单次奖励上限"),
    "award_cap_participation": Setting(points.DEFAULT_AWARD_CAPS["participation"], 1, 1000, "锦上添花：单次奖励上限"),
    "award_daily_cap": Setting(points.DEFAULT_AWARD_DAILY_CAP, 1, 10000, "每位发放者每天最多发放的奖励积分"),
    "points_per_hour_cap": Setting(events.POINTS_PER_HOUR_CAP_DEFAULT, 0, events.POINTS_PER_HOUR_MAX,
                                   "活动每小时积分上限"),
    "request_answer_minutes": Setting(requests.DEFAULT_ANSWER_MINUTES, 5, 24 * 60, "诉求响应时限（分钟）"),
    "request_answer_minutes_urgent": Setting(requests.DEFAULT_ANSWER_MINUTES_URGENT, 5, 24 * 60,
                                             "紧急诉求响应时限（分钟）"),
    "request_solve_hours": Setting(requests.DEFAULT_SOLVE_HOURS, 1, 30 * 24, "诉求办结时限（小时）"),
    "request_submit_daily_cap": Setting(requests.DEFAULT_SUBMIT_DAILY_CAP, 1, 100, "每位居民每天最多提交的诉求数"),
    # 双报到 考核 (domain/party.py): what a party member's quarter and year must hold to meet the rules.
    "party_services_per_quarter_min": Setting(party.Rules.services_per_quarter_min, 0, 100, "党员每季度最少服务次数"),
    "party_hours_per_year_min": Setting(party.Rules.hours_per_year_min, 0, 1000, "党员每年最少服务时长（小时）"),
}


def describe() -> list[dict]:
    """What a settings page shows beside each value."""
    return [{"name": name, "label": setting.label, "kind": "boolean" if setting.boolean else "integer",
             "default": setting.default, "min": None if setting.boolean else setting.low,
             "max": None if setting.boolean else setting.high} for name, setting in SETTINGS.items()]


def effective(stored: dict) -> dict:
    """Every setting's value: the stored one, else its default."""
    return {name: (stored.get(name) if stored.get(name) is not None else setting.default)
            for name, setting in SETTINGS.items()}
