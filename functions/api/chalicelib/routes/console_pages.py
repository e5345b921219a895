"""The staff console's pages (管理后台): one small Chinese single-page app — its HTML, CSS and JS — served by the API
function itself, so the pages and the /v1 routes they call share one origin (no CORS, one ICP-registered domain,
the session cookie SameSite=Strict). Public and static: the page holds no data; everything it shows comes from
the /v1 routes with the console's session cookie. The files (chalicelib/console/) are read on first use, not at
import: a cold start of the API pays nothing for them."""
import hashlib
from functools import cache
from pathlib import Path

from chalice import Blueprint, Response

from tongxin.domain.errors import NotFound

from ..http import current_request, endpoint

bp = Blueprint(__name__)
TAGS = ("console",)
FILES = Path(__file__).resolve().parent.parent / "console"
# The page's deep links (the app reads the path and shows that page); anything else under /console/ is 404.
PAGES = frozenset({"work", "members", "wishes", "requests", "events", "points", "store", "stats", "bulletin",
                   "party", "rounds", "units", "settings"})
# The scripts (ES modules: app.js, the shell, imports lib.js and one module per page) and the style sheet.
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}
# Everything from this origin only: no inline script or style, no framing, no form posted elsewhere. The referrer
# policy keeps the Origin header on the console's writes (the CSRF check needs it; no-referrer would send null).
HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
           "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                      "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                                      "frame-ancestors 'none'"}
PAGE_NOTE = ("Anyone, without a session: the page itself is static and holds no data (text/html; UTF-8); it "
             "signs in through the scan-login (`POST /v1/console/sessions`) and then calls the /v1 routes with "
             "the session cookie. Served with a Content-Security-Policy allowing this origin only.")


@cache
def _assets() -> frozenset[str]:
    return frozenset(path.name for path in FILES.iterdir() if path.suffix in TYPES)


@cache
def _text(name: str) -> tuple[str, str]:
    """The file's text and its ETag (a hash of the text: a deploy that changes the file changes it)."""
    text = (FILES / name).read_text(encoding="utf-8")
    return text, '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'


def _file(name: str, content_type: str) -> Response:
    """The file, or 304 when the browser already holds this version (no-cache: it asks every time, and a page of ten
    modules costs ten small 304s instead of ten downloads)."""
    text, etag = _text(name)
    headers = {**HEADERS, "Content-Type": content_type, "ETag": etag}
    asked = (current_request().headers or {}).get("if-none-match") or ""
    if etag in asked.replace("W/", "").split(", "):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=text, status_code=200, headers=headers)


def _index() -> Response:
    return _file("index.html", "text/html; charset=utf-8")


@endpoint(bp, "/console", "GET", public=True, tags=TAGS, produces=("text/html",),
          summary="管理后台页面（单页应用；扫码登录后使用）", description=PAGE_NOTE)
def console_index():
    return _index()


@endpoint(bp, "/console/{page}", "GET", public=True, tags=TAGS, produces=("text/html",), errors=("NOT_FOUND",),
          summary="管理后台的页面深链接：工作台、居民、心愿、诉求、活动、积分、积分超市、统计、通报、双报到、微实事、共建单位、设置")
def console_page(page: str):
    """Anyone, without a session: the same page as `/console`, which then shows `{page}` — `work` (工作台),
    `members` (居民), `wishes` (心愿), `requests` (诉求), `events` (活动), `points` (积分), `store` (积分超市),
    `stats` (统计), `bulletin` (通报: the street's and the district's monthly bulletin and roll-up), `party`
    (双报到: the admins' registrations, posts, assessment and units), `rounds` (微实事 · 微星光: the admins' rounds,
    review, results and delivery, and commendations), `units` (共建单位: the street's units and their
    liaison invites) or `settings` (设置). Any other name is 404 NOT_FOUND."""
    if page not in PAGES:
        raise NotFound()
    return _index()


@endpoint(bp, "/console/assets/{name}", "GET", public=True, tags=TAGS, produces=("text/javascript", "text/css"),
          errors=("NOT_FOUND",), summary="管理后台的脚本与样式（app.js 及其各页模块、app.css）")
def console_asset(name: str):
    """Anyone: the console's scripts (`app.js`, an ES module importing `lib.js` and one module per page) or its
    style sheet (`app.css`), static text with an ETag (`If-None-Match` of the same version → 304 without a
    body). Any other name is 404 NOT_FOUND."""
    if name not in _assets():
        raise NotFound()
    return _file(name, TYPES[Path(name).suffix])


@endpoint(bp, "/console/events/{event_id}/screen", "GET", public=True, tags=TAGS, produces=("text/html",),
          errors=("NOT_FOUND",),
          summary="活动签到大屏（投影用：滚动签到码、已签到/已报名人数）")
def console_screen(event_id: str):
    """Anyone, without a session: the console's page showing the check-in screen (签到大屏) of `{event_id}` —
    the rotating code (`GET /v1/events/{event_id}/qrcode?kind=rotating`, the next one shown a second after its 30-s
    step ends, by `valid_until` and the server's clock), the event's title and the live counts (every 5 s). The page reads nothing itself: an unknown event, or a caller
    who may not see its code, gets the API's error on the page. 404 NOT_FOUND for an id that cannot be one."""
    return _index()
