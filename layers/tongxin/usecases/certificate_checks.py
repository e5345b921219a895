"""志愿服务记录证明's public check (核验): anyone, by the certificate's number and the volunteer's registered real name,
over the API (``GET /v1/certificates/verify``) and on the small page the certificate's QR opens (``GET /v/{number}``).

One Query of ``by_number`` and the certificate's GetItem, then the source address's minute counted (a conditional
ADD with the cap: 429 past ``VERIFY_PER_MINUTE``) before anything is answered; a wrong name or number answers
``valid: false`` and nothing else, so a guesser learns nothing about which part was wrong.
"""
from __future__ import annotations

import math
from datetime import datetime, timedelta

from ..adapters.dynamo import batch, counters
from ..adapters.dynamo.models import CertificateModel
from ..adapters.dynamo.tx import Tx
from ..domain import certificates as rules
from ..domain.clock import to_api, utcnow
from ..domain.errors import RateLimited

VERIFY_PER_MINUTE = 20
VERIFY_WINDOW = timedelta(minutes=1)

NO_MATCH = {"valid": False, "status": None, "name_masked": None, "total_minutes": None, "issuer": None,
            "issued_at": None}


def _too_many(window_ends: datetime, now: datetime) -> RateLimited:
    wait = max(1, math.ceil((window_ends - now).total_seconds()))
    return RateLimited("查询过于频繁，请一分钟后再试", details={"limit": VERIFY_PER_MINUTE, "retry_after": wait})


def rate_key(source: str, now: datetime) -> str:
    """The counter of a source address's checks in the minute of ``now`` (tests reset it)."""
    return counters.window(f"certificate-verify#{source or 'unknown'}", now, VERIFY_WINDOW)[0]


def verify(source: str, *, number: str, name: str) -> dict:
    """Anyone's check of a certificate by its number and the volunteer's registered real name: the reads, then the
    minute's count (one conditional write, 429 past ``VERIFY_PER_MINUTE``) before any answer; ``{valid: false}`` and
    nothing else unless both match. A revoked certificate answers ``status: revoked``, ``valid: false``."""
    number = (number or "").strip().upper()
    item = None
    if rules.valid_number(number):
        found = [hit.id for hit in CertificateModel.by_number.query(number, limit=1)]
        item = batch.get_many((CertificateModel, found[0]))[0] if found else None
    # Counted after the reads (a refused read writes nothing) and before any answer: past the cap nothing is told.
    now = utcnow()
    key, window_ends = counters.window(f"certificate-verify#{source or 'unknown'}", now, VERIFY_WINDOW)
    counters.bump(Tx(), key, cap=VERIFY_PER_MINUTE, expires_at=window_ends, error=_too_many(window_ends, now)).commit()
    if item is None or item.number != number or not rules.name_matches(item.real_name, name):
        return dict(NO_MATCH)
    return {"valid": item.status == rules.ISSUED, "status": item.status, "name_masked": rules.masked(item.real_name),
            "total_minutes": int(item.total_minutes or 0), "issuer": item.issuer, "issued_at": to_api(item.issued_at)}


# --- the public check page -------------------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>志愿服务记录证明核验</title>
<style>body{{font-family:system-ui,"PingFang SC","Noto Sans CJK SC","WenQuanYi Micro Hei",sans-serif;margin:0;
background:#f5f6f7;color:#222}}main{{max-width:30rem;margin:2rem auto;background:#fff;padding:1.5rem 1.75rem;
border-radius:10px;box-shadow:0 1px 4px rgba(0,0,0,.08)}}h1{{font-size:1.35rem;margin:0 0 .25rem}}
.number{{color:#666;font-size:.9rem;word-break:break-all}}label{{display:block;margin:1.1rem 0 .4rem}}
input{{font-size:1rem;padding:.5rem .6rem;width:100%;box-sizing:border-box;border:1px solid #bbb;border-radius:6px}}
button{{margin-top:.8rem;font-size:1rem;padding:.55rem 1.4rem;border:0;border-radius:6px;background:#c8161d;
color:#fff}}.result{{margin-top:1.3rem;padding:1rem;border-radius:8px}}.ok{{background:#eef8ee;border:1px solid #5a5}}
.bad{{background:#fdf0f0;border:1px solid #d66}}dl{{display:grid;grid-template-columns:auto 1fr;gap:.35rem .9rem;
margin:.6rem 0 0}}dt{{color:#666}}dd{{margin:0}}p.note{{color:#777;font-size:.8rem;margin-top:1.4rem}}</style>
</head><body><main>
<h1>志愿服务记录证明核验</h1>
<div class="number">证明编号：{number}</div>
<form method="get" action="">
<label for="name">请输入证明上志愿者的姓名</label>
<input id="name" name="name" maxlength="40" required value="{name}" autocomplete="off">
<button type="submit">核验</button>
</form>
{result}
<p class="note">核验结果只显示打码后的姓名。每个网络地址每分钟最多查询 20 次。</p>
</main></body></html>
"""


def check_page(number: str, name: str | None, answer: dict | None, *, limited: bool = False) -> str:
    """The small Chinese page the certificate's QR opens: a form for the name, and — given one — the check's
    answer (the same as ``GET /v1/certificates/verify``)."""
    from html import escape
    result = ""
    if limited:
        result = '<div class="result bad"><strong>查询过于频繁</strong>，请一分钟后再试。</div>'
    elif answer is not None:
        minutes = answer.get("total_minutes")
        if answer.get("valid"):
            issued = (answer.get("issued_at") or "")[:10]
            result = ('<div class="result ok"><strong>✓ 证明真实有效</strong><dl>'
                      f'<dt>志愿者</dt><dd>{escape(answer["name_masked"] or "")}</dd>'
                      f'<dt>服务时长</dt><dd>{escape(rules.hours_text(minutes or 0))}（{minutes} 分钟）</dd>'
                      f'<dt>出具单位</dt><dd>{escape(answer["issuer"] or "")}</dd>'
                      f'<dt>出具日期</dt><dd>{escape(issued)}</dd></dl></div>')
        elif answer.get("status") == rules.REVOKED:
            result = ('<div class="result bad"><strong>✗ 该证明已被出具单位撤销，不再有效</strong><dl>'
                      f'<dt>志愿者</dt><dd>{escape(answer["name_masked"] or "")}</dd>'
                      f'<dt>出具单位</dt><dd>{escape(answer["issuer"] or "")}</dd></dl></div>')
        else:
            result = ('<div class="result bad"><strong>✗ 未找到相符的证明</strong><br>'
                      '请核对证明编号和姓名（须与证明上的姓名完全一致）。</div>')
    return _PAGE.format(number=escape(number), name=escape(name or ""), result=result)
