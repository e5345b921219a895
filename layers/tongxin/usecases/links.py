"""普通链接二维码 pages (docs/checkins.md, codes): what a printed code's link opens outside WeChat, and the
verification file WeChat's console asks the link's domain to host.

Inside WeChat, 扫一扫 on ``<QR_LINK_BASE>/c|i|p/<code>`` opens the mini-program (the console's rules); anything
else — another scanner, a browser — fetches the link and gets a short page saying to scan it with WeChat. The
page is the same for every code, valid or not, and never shows it: nothing is read, nothing is told.
"""
from __future__ import annotations

from ..config import Settings
from ..domain.errors import NotFound

# What the code is, and what scanning it in WeChat does, by the link's kind (domain/links.LETTERS).
_KINDS = {
    "checkin": ("活动签到码", "签到或签退"),
    "invite": ("社区邀请码", "加入社区"),
    "pickup": ("积分超市取货码", "核销取货（由超市管理员扫码）"),
    "unit_invite": ("共建单位联络员邀请码", "成为共建单位联络员"),
}

_PAGE = """<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>请使用微信扫一扫 · 同心</title>
<style>
body{{margin:0;padding:56px 24px;background:#f6f7f9;color:#222;text-align:center;
font-family:-apple-system,BlinkMacSystemFont,"PingFang SC","Hiragino Sans GB","Microsoft YaHei",sans-serif}}
h1{{font-size:22px;margin:0 0 20px}}
p{{font-size:16px;line-height:1.7;margin:10px auto;max-width:26em}}
.note{{color:#888;font-size:14px}}
</style>
</head>
<body>
<h1>请使用微信扫一扫</h1>
<p>这是「同心」社区小程序的{what}。</p>
<p>请打开微信，点击右上角“＋”，选择“扫一扫”，扫描这个二维码，即可在小程序中{action}。</p>
<p class="note">用其他应用或浏览器打开此页面无法{action}。</p>
</body>
</html>
"""


def landing_page(kind: str) -> str:
    """The page a ``kind`` link (checkin | invite | pickup) shows outside WeChat: the same for every code."""
    what, action = _KINDS[kind]
    return _PAGE.format(what=what, action=action)


def verification_file(settings: Settings, name: str) -> str | None:
    """The content of the verification file ``name`` (``QR_VERIFY_FILE``), or None when it is not its name."""
    configured = settings.qr_verify_file
    if configured is None or name != configured[0]:
        return None
    return configured[1]


def root_file(settings: Settings, name: str) -> str:
    """A file at the link domain's top directory: only the verification file is; any other name 404."""
    content = verification_file(settings, name)
    if content is None:
        raise NotFound("文件不存在")
    return content
