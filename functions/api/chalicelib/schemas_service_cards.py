"""Query strings of 双报到's 服务卡 (a unit's service cards: usecases/service_cards.py): see schemas.py."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from .schemas import PageQuery


class ServiceCardsQuery(PageQuery):
    """GET /v1/units/{unit_id}/service-cards: a page holds at most 20 members (a larger limit is served 20 at a
    time)."""
    quarter: str | None = Field(None, max_length=16, description="YYYYQn（北京时间的季度，如 2026Q4），默认本季度；"
                                                                "不能是将来的季度")
    format: Literal["json", "csv"] = Field("json", description="json 一页（含单位的承诺活动完成情况）；csv 全部成员的"
                                                               "服务卡（UTF-8 带 BOM，可直接用 Excel 打开，寄回工作单位）")
