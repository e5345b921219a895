"""普通链接二维码 routes, at the API's root (no /v1: the links printed codes carry, docs/checkins.md): the page
``/c|i|p/<code>`` opens outside WeChat, and WeChat's verification file. Public; nothing read, nothing revealed."""
from chalice import Blueprint, Response

from tongxin.usecases import links
from tongxin.wiring import get_container

from ..http import endpoint

bp = Blueprint(__name__)
TAGS = ("links",)
# A static page: no script, nothing loaded from anywhere, never framed; the link (with its code) not passed on.
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "public, max-age=3600",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                                           "form-action 'none'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
FILE_HEADERS = {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-cache",
                "X-Content-Type-Options": "nosniff"}
PAGE_DESCRIPTION = (
    "Anyone, without a token: what a printed {what} QR opens outside WeChat. The QR carries the link "
    "`<QR_LINK_BASE>/{letter}/<code>`; inside WeChat, 扫一扫 opens the mini-program's {page} instead (the rule "
    "configured in WeChat's console, docs/checkins.md). Any other scanner or a browser gets this small Chinese "
    "page (text/html; UTF-8) saying to scan it with WeChat: the same page for every code, valid or not, which "
    "never shows the code and reads nothing. `<code>` equal to the configured verification file's name "
    "(`QR_VERIFY_FILE`) answers that file (text/plain): WeChat looks for it in the rule's last directory.")


def _page(kind: str, code: str) -> Response:
    content = links.verification_file(get_container().settings, code)
    if content is not None:
        return Response(body=content, status_code=200, headers=dict(FILE_HEADERS))
    return Response(body=links.landing_page(kind), status_code=200, headers=dict(PAGE_HEADERS))


@endpoint(bp, "/c/{code}", "GET", public=True, tags=TAGS, produces=("text/html", "text/plain"),
          summary="签到码链接：微信外打开时提示“请使用微信扫一扫”",
          description=PAGE_DESCRIPTION.format(what="check-in", letter="c", page="check-in page"))
def checkin_link(code: str):
    return _page("checkin", code)


@endpoint(bp, "/i/{code}", "GET", public=True, tags=TAGS, produces=("text/html", "text/plain"),
          summary="邀请码链接：微信外打开时提示“请使用微信扫一扫”",
          description=PAGE_DESCRIPTION.format(what="invite", letter="i", page="join page"))
def invite_link(code: str):
    return _page("invite", code)


@endpoint(bp, "/p/{code}", "GET", public=True, tags=TAGS, produces=("text/html", "text/plain"),
          summary="取货码链接：微信外打开时提示“请使用微信扫一扫”",
          description=PAGE_DESCRIPTION.format(what="pickup", letter="p", page="pickup (核销) page"))
def pickup_link(code: str):
    return _page("pickup", code)


@endpoint(bp, "/u/{code}", "GET", public=True, tags=TAGS, produces=("text/html", "text/plain"),
          summary="共建单位联络员邀请码链接：微信外打开时提示“请使用微信扫一扫”",
          description=PAGE_DESCRIPTION.format(what="unit liaison invite", letter="u",
                                              page="unit liaison join page (POST /v1/me/unit)"))
def unit_invite_link(code: str):
    return _page("unit_invite", code)


@endpoint(bp, "/{file_name}", "GET", public=True, tags=TAGS, produces=("text/plain",), errors=("NOT_FOUND",),
          summary="微信“扫普通链接二维码打开小程序”的校验文件（仅配置的文件名）")
def verification_file(file_name: str):
    """Anyone, without a token. The verification file WeChat's console hands out for the link rules
    (`QR_VERIFY_FILE` = `<name>.txt:<content>`), at the top directory of the link's domain: its content as
    text/plain. Any other name, or none configured, is 404 NOT_FOUND. (The same file is also served under each
    prefix, `/c/<name>`, `/i/<name>`, `/p/<name>`: WeChat looks for it in the rule's last directory.)"""
    return Response(body=links.root_file(get_container().settings, file_name), status_code=200,
                    headers=dict(FILE_HEADERS))
