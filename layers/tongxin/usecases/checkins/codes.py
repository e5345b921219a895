"""The organiser's check-in screen and posters: the code as text (json, with its link), as a QR image (png/svg) of
its link ``<QR_LINK_BASE>/c/<code>`` (普通链接二维码, domain/links.py), or as a WeChat mini-program code (wxacode)
whose scene is the poster code: either way WeChat's own camera opens the check-in page."""
from __future__ import annotations

from ...domain import checkin, links
from ...domain.clock import to_api, utcnow
from ...domain.errors import InvalidState, ValidationFailed
from ...domain.access import Principal
from ...wiring import Container
from ..events.reading import load, organiser_grant

NO_PLACE = InvalidState("活动没有设置地点，海报签到码需要地点才能核对位置；请用屏幕上的动态签到码")


def code_for(container: Container, principal: Principal, event_id: str, kind: str) -> tuple[str, str | None]:
    """(code, valid_until) for the organiser of ``event_id``."""
    event = load(principal, event_id)
    organiser_grant(principal, event)
    if kind in ("poster", "wxacode") and not (event.location or {}).get("lat") is not None:
        raise NO_PLACE
    secret = container.settings.checkin_secret
    if kind == "rotating":
        code = checkin.make_code(secret, event.id, "rotating", checkin.step_of(utcnow()))
        return code, to_api(checkin.verify(secret, code, utcnow()).valid_until())
    return checkin.make_code(secret, event.id, "poster"), None


def qrcode(container: Container, principal: Principal, event_id: str, kind: str, fmt: str):
    """``format=json`` → the answer dict (the code, and the link a QR of it carries); else ``(bytes,
    content_type)``: png/svg a QR of the link (普通链接二维码: WeChat's own scanner opens the check-in page), wxacode
    WeChat's mini-program code whose scene is the poster code, in the image type WeChat gave (JPEG)."""
    if kind == "wxacode" and fmt != "png":
        raise ValidationFailed("小程序码只有图片格式：format 用 png（图片类型以微信返回的为准，通常是 JPEG）",
                               details={"field": "format", "allowed": ["png"]})
    code, valid_until = code_for(container, principal, event_id, kind)
    settings = container.settings
    url = links.url(settings.qr_link_base, "checkin", code)
    if fmt == "json":
        return {"code": code, "url": url, "kind": kind, "valid_until": valid_until}
    if kind == "wxacode":
        return container.wechat.wxacode(code, settings.wechat_checkin_page, env_version=settings.wxacode_env_version)
    from ...adapters import qr
    return qr.render(url, fmt)
