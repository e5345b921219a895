"""Query strings of the statistics above communities (街呼区应): see schemas.py."""
from __future__ import annotations

from pydantic import Field

from .schemas import Id, StatsQuery


class StreetStatsQuery(StatsQuery):
    street_id: Id | None = Field(None, description="统计哪个街道（只负责一个街道时可省略，负责多个时必填）")


class DistrictStatsQuery(StatsQuery):
    district_id: Id | None = Field(None, description="统计哪个区（只负责一个区时可省略，负责多个时必填）")
