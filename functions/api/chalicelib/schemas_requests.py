"""Request bodies and query strings of 接诉即办 above the street and above the current level (区直部门, 延期, 督办):
see schemas.py (the request area's first bodies live there)."""
from __future__ import annotations

from pydantic import Field

from tongxin.domain import requests as request_rules

from .schemas import Id
from .validation import Body, MultiLine, Query

_DAYS_MIN, _DAYS_MAX = request_rules.EXTENSION_DAYS


class ExtendBody(Body):
    days: int = Field(ge=_DAYS_MIN, le=_DAYS_MAX, description=f"延期天数 {_DAYS_MIN}–{_DAYS_MAX}：批准后办结时限顺延")
    reason: MultiLine = Field(min_length=1, max_length=request_rules.REASON_MAX, description="延期理由")


class ExtensionRejectBody(Body):
    reason: MultiLine = Field(min_length=1, max_length=request_rules.REASON_MAX, description="驳回理由")


class SuperviseBody(Body):
    note: MultiLine = Field(min_length=1, max_length=request_rules.NOTE_MAX, description="督办意见")


class StreetDepartmentsQuery(Query):
    street_id: Id | None = Field(None, description="街道工作人员：哪个街道所在区的部门（只负责一个街道时可省略）")
