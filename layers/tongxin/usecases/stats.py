"""Admin statistics (社区统计), one section per area; wishes first.

One Query of the community's wishes created in the window (the by_community index, newest first),
aggregated here. The window is capped so a request stays bounded.
"""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from ..adapters.dynamo.models import WishModel
from ..domain.access import Principal, Role, require_role
from ..domain.clock import to_api, utcnow
from ..domain.errors import ValidationFailed
from ..domain.stats import median_hours, rate
from ..domain.wishes import WishStatus as S

DEFAULT_WINDOW = timedelta(days=90)
MAX_WINDOW = timedelta(days=366)
FULFILLED = {S.FULFILLED.value, S.CONFIRMED.value}
NOT_PUBLISHED = {S.PENDING_REVIEW.value, S.REJECTED.value}


def _window(start: datetime | None, end: datetime | None) -> tuple[datetime, datetime]:
    end = end or utcnow()
    start = start or end - DEFAULT_WINDOW
    if start >= end:
        raise ValidationFailed("开始时间必须早于结束时间", details={"field": "from"})
    if end - start > MAX_WINDOW:
        raise ValidationFailed("统计区间不能超过一年", details={"field": "from"})
    return start, end


def wish_stats(community_id: str, start: datetime, end: datetime) -> dict:
    by_category, by_status, by_grid = Counter(), Counter(), Counter()
    to_claim, to_confirm = [], []
    published = fulfilled = 0
    for wish in WishModel.by_community.query(community_id, WishModel.created_at.between(start, end)):
        by_category[wish.category] += 1
        by_status[wish.status] += 1
        by_grid[wish.grid_id or "-"] += 1
        if wish.status not in NOT_PUBLISHED:
            published += 1
        if wish.status in FULFILLED:
            fulfilled += 1
        if wish.published_at and wish.first_claimed_at:
            to_claim.append((wish.first_claimed_at - wish.published_at).total_seconds())
        if wish.published_at and wish.confirmed_at:
            to_confirm.append((wish.confirmed_at - wish.published_at).total_seconds())
    return {
        "total": sum(by_status.values()),
        "by_category": dict(by_category),
        "by_status": dict(by_status),
        "by_grid": dict(by_grid),
        "published": published,
        "fulfilled": fulfilled,
        "fulfilment_rate": rate(fulfilled, published),
        "median_hours_to_claim": median_hours(to_claim),
        "median_hours_to_confirm": median_hours(to_confirm),
    }


def community_stats(principal: Principal, start: datetime | None, end: datetime | None) -> dict:
    grant = require_role(principal, Role.ADMIN)
    start, end = _window(start, end)
    return {"from": to_api(start), "to": to_api(end), "wishes": wish_stats(grant.community_id, start, end)}
