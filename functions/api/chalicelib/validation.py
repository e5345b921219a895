"""Request validation with pydantic, and its errors in Chinese.

The same pydantic models validate requests and generate the OpenAPI document: one definition per body.
"""
from __future__ import annotations

import enum
import types
from datetime import datetime, timezone
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, ConfigDict, ValidationError

from tongxin.domain import text
from tongxin.domain.errors import ValidationFailed

# Times a person could mean. Year 1 or 9999 overflows date arithmetic (and +08:00 rendering) further in.
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)


def _in_range(value: datetime) -> datetime:
    if not EARLIEST <= value < LATEST:
        raise ValueError("时间超出允许范围（2000 年至 2099 年）")
    return value


def _user_text(problem_of):
    """Before the field's own checks (type, length): refuse what text may not hold (``domain/text``: control and
    direction characters, noncharacters, line breaks in a single line), then keep what is visible — blanks and
    invisible characters (U+200B, U+FEFF, …) cut from the ends, "" when nothing visible remains — so the length
    checks see it ("不能为空" for text made only of invisible characters)."""
    def clean(value):
        if not isinstance(value, str):
            return value  # not text: the strict type check refuses it next
        problem = problem_of(text.trim_blanks(value))
        if problem:
            raise ValueError(problem)
        return text.visible(value)
    return clean


ApiDatetime = Annotated[AwareDatetime, AfterValidator(_in_range)]
# titles, names: no line breaks, no control characters
SingleLine = Annotated[str, BeforeValidator(_user_text(text.single_line_problem))]
# content, notes: newlines and tabs allowed
MultiLine = Annotated[str, BeforeValidator(_user_text(text.multi_line_problem))]


class Body(BaseModel):
    """Base of every request body: strict types (``"5"`` is not a number), surrounding blanks stripped,
    unknown fields ignored (older clients may send more)."""
    # defer_build: a model's validator is built when a request first uses it, not for every model at cold start.
    model_config = ConfigDict(strict=True, str_strip_whitespace=True, extra="ignore", defer_build=True)


class Query(BaseModel):
    """Base of query-string models: values arrive as strings, so types are coerced (``limit=5``)."""
    model_config = ConfigDict(str_strip_whitespace=True, extra="ignore", defer_build=True)


_REASONS = {
    "missing": "缺少必填字段",
    "json_invalid": "请求体不是有效的 JSON",
    "model_type": "请求体必须是 JSON 对象",
    "model_attributes_type": "请求体必须是 JSON 对象",
    "dict_type": "必须是 JSON 对象",
    "list_type": "必须是数组",
    "string_type": "必须是字符串",
    "int_type": "必须是整数",
    "int_parsing": "必须是整数",
    "bool_type": "必须是布尔值",
    "bool_parsing": "必须是布尔值",
    "float_type": "必须是数字",
    "float_parsing": "必须是数字",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "datetime_type": "时间格式不正确，请使用带时区的 ISO 8601 格式",
    "datetime_parsing": "时间格式不正确，请使用带时区的 ISO 8601 格式",
    "datetime_from_date_parsing": "时间格式不正确，请使用带时区的 ISO 8601 格式",
    "timezone_aware": "时间必须带时区，例如 2026-11-22T09:30:00+08:00",
    "string_pattern_mismatch": "格式不正确",
    "url_parsing": "不是有效的链接",
    "url_type": "不是有效的链接",
    "url_scheme": "链接必须以 https:// 开头",
    "too_long": "项数过多",
    "too_short": "项数不足",
    "recursion_loop": "请求体嵌套层级过深",
}


def _reason(error: dict) -> str:
    kind, ctx = error["type"], error.get("ctx") or {}
    if kind in ("too_long", "too_short") and ctx.get("field_type") == "Value":
        kind = "string_" + kind  # a length constraint on a validated string reports itself generically
    if kind == "string_too_long":
        return f"长度不能超过{ctx.get('max_length')}个字符"
    if kind == "string_too_short":
        return "不能为空" if ctx.get("min_length") == 1 else f"长度不能少于{ctx.get('min_length')}个字符"
    if kind in ("greater_than_equal", "greater_than"):
        return f"不能小于{ctx.get('ge', ctx.get('gt'))}"
    if kind in ("less_than_equal", "less_than"):
        return f"不能大于{ctx.get('le', ctx.get('lt'))}"
    if kind == "too_long" and "max_length" in ctx:
        return f"最多{ctx['max_length']}项"
    if kind == "value_error":  # our validators raise ValueError with a Chinese message
        return str(ctx.get("error") or error.get("msg"))
    return _REASONS.get(kind, "格式不正确")


def _field(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "body"


def _choices(annotation: Any) -> list | None:
    """The values a ``Literal`` (or Enum) annotation allows, through ``Annotated`` and ``X | None``."""
    origin = get_origin(annotation)
    if origin is Literal:
        return list(get_args(annotation))
    if origin is Annotated:
        return _choices(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        found = [c for arg in get_args(annotation) if arg is not type(None) for c in (_choices(arg) or [])]
        return found or None
    if isinstance(annotation, type) and issubclass(annotation, enum.Enum):
        return [member.value for member in annotation]
    return None


def _inner(annotation: Any) -> Any:
    """What one step down a location means: a list's items, an optional model's model."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _inner(get_args(annotation)[0])
    if origin in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        return _inner(args[0]) if len(args) == 1 else annotation
    return annotation


def allowed_values(model: type[BaseModel] | None, loc: tuple) -> list | None:
    """The values the field at ``loc`` (an error's location) allows, when it is a closed set."""
    annotation: Any = model
    for part in loc:
        annotation = _inner(annotation)
        if isinstance(part, int):  # an item of a list (or a tuple/set)
            args = get_args(annotation)
            if not args:
                return None
            annotation = args[0]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = annotation.model_fields
            field = fields.get(part) or next((f for f in fields.values() if f.alias == part), None)
            if field is None:
                return None
            annotation = field.annotation
        else:
            return None
    return _choices(annotation)


def to_domain_error(exc: ValidationError, model: type[BaseModel] | None = None) -> ValidationFailed:
    errors = []
    for e in exc.errors():
        error = {"field": _field(e["loc"]), "reason": _reason(e), "type": e["type"]}
        allowed = allowed_values(model, e["loc"]) if e["type"] in ("literal_error", "enum") else None
        if allowed:  # a closed set: name what may be sent (category 生活帮扶 … 其他, a status, a role)
            error["allowed"] = allowed
            error["reason"] += "，可选：" + "、".join(str(value) for value in allowed)
        errors.append(error)
    first = errors[0]
    message = first["reason"] if first["field"] == "body" else f"{first['field']}：{first['reason']}"
    details = {"field": first["field"], "errors": errors}
    if "allowed" in first:
        details["allowed"] = first["allowed"]
    return ValidationFailed(message, details=details)


def parse_body(model: type[Body], raw: bytes | str | None) -> Body:
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise to_domain_error(exc, model) from None


def parse_query(model: type[Query], params: dict | None) -> Query:
    try:
        return model.model_validate(params or {})
    except ValidationError as exc:
        raise to_domain_error(exc, model) from None
