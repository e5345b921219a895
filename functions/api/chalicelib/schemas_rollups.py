"""Query strings of the statistics above communities (街呼区应): see schemas.py."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from .schemas import Id, Query, StatsQuery


class StreetStatsQuery(StatsQuery):
    street_id: Id | None = Field(None, description="统计哪个街道（只负责一个街道时可省略，负责多个时必填）")


class DistrictStatsQuery(StatsQuery):
    district_id: Id | None = Field(None, description="统计哪个区（只负责一个区时可省略，负责多个时必填）")


class BulletinQuery(Query):
    month: str | None = Field(None, pattern=r"^20[0-9][0-9]-(0[1-9]|1[0-2])$",
                              description="YYYY-MM（北京时间），默认本月；不能是将来的月份")
    format: Literal["json", "csv"] = Field("json", description="json，或 csv（UTF-8 带 BOM，可直接用 Excel 打开）")


class StreetBulletinQuery(BulletinQuery):
    street_id: Id | None = Field(None, description="哪个街道（只负责一个街道时可省略，负责多个时必填）")


class DistrictBulletinQuery(BulletinQuery):
    district_id: Id | None = Field(None, description="哪个区（只负责一个区时可省略，负责多个时必填）")
