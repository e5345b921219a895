"""志愿服务记录证明 (volunteer certificates) routes: request, lists, issue, refuse, revoke, the PDF, the public
check (JSON) and its page (HTML, what the certificate's QR opens)."""
from chalice import Blueprint, Response

from tongxin.domain.errors import RateLimited
from tongxin.usecases import certificate_checks, certificates
from tongxin.wiring import get_container

from ..http import current_principal, current_request, endpoint
from ..schemas import PageQuery
from ..schemas_certificates import (CertificatePageQuery, CertificateReasonBody, CertificateRequestBody,
                                    CertificatesQuery, CertificateVerifyQuery)

bp = Blueprint(__name__)
TAGS = ("certificates",)
PAGE_HEADERS = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
                "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
                                           "form-action 'self'; frame-ancestors 'none'",
                "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _source() -> str:
    context = current_request().context or {}
    return (context.get("identity") or {}).get("sourceIp") or ""


@endpoint(bp, "/v1/me/certificates", "POST", body=CertificateRequestBody, status=201, tags=TAGS,
          errors=("NOT_IN_COMMUNITY", "CERTIFICATE_PENDING", "NO_SERVICES", "TOO_MANY_SERVICES", "REAL_NAME_REQUIRED",
                  "CONTENT_REJECTED", "WECHAT_SESSION_STALE", "UPSTREAM_UNAVAILABLE"),
          summary="志愿者申请志愿服务记录证明（指定期间和用途），待社区管理员出具", response="CertificateView")
def request_certificate(body: CertificateRequestBody):
    """A volunteer of the community with a registered real name (409 REAL_NAME_REQUIRED without one). Asks for a
    certificate of the service this community recorded in `[from, to]` (Shanghai dates, both included; `to` not
    after today, `from` not after `to`, at most 10 years: 400 VALIDATION_FAILED naming the field). 409 NO_SERVICES
    when the period holds no credited service, TOO_MANY_SERVICES past 500 (ask for a shorter period), and
    CERTIFICATE_PENDING while an earlier request waits (one at a time). The purpose passes WeChat's content
    security check (400 CONTENT_REJECTED, 409 WECHAT_SESSION_STALE, 503 UPSTREAM_UNAVAILABLE)."""
    return certificates.request(get_container(), current_principal(), start=body.from_, end=body.to,
                                purpose=body.purpose)


@endpoint(bp, "/v1/me/certificates", "GET", query=PageQuery, tags=TAGS, response="CertificatePage",
          summary="我的志愿服务记录证明，新申请在前")
def my_certificates(query: PageQuery):
    """Any signed-in user. My certificate requests and certificates (any community's), newest first, one Query a
    page. The PDF of an issued one: `GET /v1/certificates/{id}/pdf`."""
    return certificates.mine(get_container(), current_principal(), limit=query.limit, cursor=query.cursor)


@endpoint(bp, "/v1/admin/certificates", "GET", query=CertificatesQuery, tags=TAGS, response="CertificatePage",
          summary="社区管理员按状态查看志愿服务记录证明申请，新申请在前")
def admin_certificates(query: CertificatesQuery):
    """The community's admin. Its certificates of one `status` (default `pending`), newest first: one Query a
    page."""
    return certificates.for_admin(get_container(), current_principal(), status=query.status, limit=query.limit,
                                  cursor=query.cursor)


@endpoint(bp, "/v1/admin/certificates/{certificate_id}/issue", "POST", tags=TAGS,
          errors=("INVALID_STATE", "SELF_CERTIFICATE", "NO_SERVICES", "TOO_MANY_SERVICES", "REAL_NAME_REQUIRED"),
          summary="社区管理员出具证明：按当前记录生成快照并分配唯一证明编号", response="CertificateView")
def issue_certificate(certificate_id: str):
    """The community's admin (not for their own request: 409 SELF_CERTIFICATE). `pending` → `issued` in one
    transaction: the lines and the total the record holds NOW (a snapshot: later changes of the record never alter
    it), the issuer (the community), 负责人 (the community's `certificate_signatory`, `—` when unset), 经办人 (this
    admin), and the next number of the community's year, `TXZM-<year>-<community>-<6 digits>`, never given twice.
    409 INVALID_STATE when no longer pending; REAL_NAME_REQUIRED when the volunteer's registered real name is gone
    or changed since the request; NO_SERVICES / TOO_MANY_SERVICES as for the request. 404 for another
    community's."""
    return certificates.issue(get_container(), current_principal(), certificate_id)


@endpoint(bp, "/v1/admin/certificates/{certificate_id}/refuse", "POST", body=CertificateReasonBody, tags=TAGS,
          errors=("INVALID_STATE",), summary="社区管理员拒绝出具证明（附理由，志愿者可见）", response="CertificateView")
def refuse_certificate(certificate_id: str, body: CertificateReasonBody):
    """The community's admin. `pending` → `refused` with the reason; the volunteer may ask again. 409
    INVALID_STATE when no longer pending; 404 for another community's."""
    return certificates.refuse(get_container(), current_principal(), certificate_id, reason=body.reason)


@endpoint(bp, "/v1/admin/certificates/{certificate_id}/revoke", "POST", body=CertificateReasonBody, tags=TAGS,
          errors=("INVALID_STATE",), summary="社区管理员撤销已出具的证明（编号不再使用，公开核验显示已撤销）",
          response="CertificateView")
def revoke_certificate(certificate_id: str, body: CertificateReasonBody):
    """The community's admin. `issued` → `revoked` with the reason: the public check then answers `revoked`
    (`valid: false`) and the number stays taken. 409 INVALID_STATE unless issued; 404 for another community's."""
    return certificates.revoke(get_container(), current_principal(), certificate_id, reason=body.reason)


@endpoint(bp, "/v1/certificates/{certificate_id}/pdf", "GET", tags=TAGS, produces=("application/pdf",),
          errors=("INVALID_STATE",), summary="下载志愿服务记录证明 PDF（本人、本社区管理员）")
def certificate_pdf(certificate_id: str):
    """The certificate's owner and the community's admins (404 to anyone else). The issued certificate as a PDF
    (A4, Chinese, the font embedded and subset), rendered from its snapshot: title, name, volunteer number, each
    service (date, activity, place, minutes, organiser), the total, the star level, issuer, 负责人, 经办人, date,
    number and a QR code of its public check page; a revoked one says so in red. 409 INVALID_STATE before it is
    issued. Binary: send `Accept: application/pdf` (or `*/*`)."""
    data, filename = certificates.pdf(get_container(), current_principal(), certificate_id)
    return Response(body=data, status_code=200, headers={
        "Content-Type": "application/pdf", "Content-Disposition": f'inline; filename="{filename}"',
        "Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


@endpoint(bp, "/v1/certificates/verify", "GET", public=True, query=CertificateVerifyQuery, tags=TAGS,
          errors=("RATE_LIMITED",), response="CertificateCheck",
          summary="公开核验志愿服务记录证明：证明编号 + 志愿者姓名（无需登录）")
def verify_certificate(query: CertificateVerifyQuery):
    """Anyone, without a token. `{valid, status, name_masked, total_minutes, issuer, issued_at}` when the number and
    the volunteer's registered real name (compared exactly after trimming) both match; otherwise `valid: false`
    with every other field null — the answer never tells which part was wrong. A revoked certificate answers
    `status: revoked`, `valid: false`. At most 20 checks a minute from one address (this route and the page
    together): then 429 RATE_LIMITED with `Retry-After`."""
    return certificate_checks.verify(_source(), number=query.number, name=query.name)


@endpoint(bp, "/v/{number}", "GET", public=True, query=CertificatePageQuery, tags=TAGS, produces=("text/html",),
          summary="证明二维码打开的核验页面：输入姓名后显示核验结果")
def certificate_page(number: str, query: CertificatePageQuery):
    """Anyone, without a token: what the certificate's QR (`<QR_LINK_BASE>/v/<number>`) opens in any browser. A
    small Chinese page (text/html; UTF-8) with a form for the volunteer's name; with `?name=` it shows the same
    answer as `GET /v1/certificates/verify` (counted against the same 20 a minute: past that the page says so —
    a page for a person's browser, still 200). `/v/` must not be registered as a mini-program link prefix (普通链接二维码): this page is for
    anyone's browser."""
    if query.name is None:
        return Response(body=certificate_checks.check_page(number, None, None), status_code=200, headers=dict(PAGE_HEADERS))
    try:
        answer = certificate_checks.verify(_source(), number=number, name=query.name)
    except RateLimited:  # a person's browser: the page says so (every 4xx of the API is the JSON envelope)
        page = certificate_checks.check_page(number, query.name, None, limited=True)
        return Response(body=page, status_code=200, headers=dict(PAGE_HEADERS))
    return Response(body=certificate_checks.check_page(number, query.name, answer), status_code=200,
                    headers=dict(PAGE_HEADERS))
