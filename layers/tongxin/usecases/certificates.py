"""志愿服务记录证明 (volunteer certificates): request, list, issue, refuse, revoke, the PDF.

The record certified is what attendance credited: the attendances (``SignupModel``) with minutes, read by the
index ``signups.by_attendee`` (the user, by ``attended_at``) over the period — O(services in the period), no Scan —
and only those the certifying community recorded (谁记录谁证明).

Every change is ONE transaction whose conditions carry the rule (domain/certificates.py has the keys):

- **request** (a volunteer with a registered real name): the certificate's Put and the person's
  ``certificate-pending#<user>`` item Put with ``attribute_not_exists`` (409 CERTIFICATE_PENDING: one at a time);
  the period is read first (409 NO_SERVICES when it holds none, TOO_MANY_SERVICES past 500); the purpose passes
  WeChat's content check (the admins read it).
- **issue** (an admin of the community, not for themself): the admin's grant re-checked; the certificate
  ``pending`` → ``issued`` with the SNAPSHOT taken now (lines, total, issuer, 负责人, 经办人); the volunteer's
  user item checked still active with the same real name; the year's counter moved from the value read to the
  next (``n = read``, so two admins issuing at once cannot take one number) and the number's own item Put with
  ``attribute_not_exists`` (a number is never given twice); the pending item deleted. A lost race for the
  number re-reads the counter and tries again (at most ``MAX_ROUNDS``).
- **refuse** (with a reason): ``pending`` → ``refused``, the pending item deleted. **revoke**: ``issued`` →
  ``revoked`` (the number stays taken: its item is never deleted).
- The volunteer is told of each step (``certificate_decided``: issued with the number, refused or revoked with the
  reason) by an outbox item in the step's own transaction.
- The public check (anyone) is usecases/certificate_checks.py.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta

from .. import metrics
from ..adapters.dynamo import batch
from ..adapters.dynamo.guards import check_grant
from ..adapters.dynamo.models import CertificateModel, CommunityModel, CounterModel, SignupModel, UserModel
from ..adapters.dynamo.tx import Tx
from ..domain import certificates as rules
from ..domain.access import Principal, Role, require_role
from ..domain.clock import SHANGHAI, to_api, utcnow
from ..domain.errors import Conflict, DomainError, InvalidState, StorageBusy
from ..domain.ids import new_id
from ..domain.text import DEFAULT_NICKNAME
from ..wiring import Container
from . import notifications, paging
from .access import current_user
from .content import Scene, check as content_check

log = logging.getLogger(__name__)

MAX_ROUNDS = 3
PAGE_PATH = "/v"  # the public check page: <QR_LINK_BASE>/v/<number> (routes/certificates.py)
MINI_PAGE = "pages/certificates/index"  # the mini-program's page of my certificates (the message opens it)
NO_SIGNATORY = "—"

VOLUNTEER_GONE = InvalidState("该志愿者已注销账号，不能出具证明")


class SelfCertificate(Conflict):
    code, message = "SELF_CERTIFICATE", "不能为自己出具证明，请由本社区其他管理员办理"


class _CounterMoved(Exception):
    """Another issue moved the year's counter between its read and this transaction: read it again."""


class _NumberTaken(Exception):
    """The number is taken already (the counter is behind it): try the next one."""


# --- the record ------------------------------------------------------------------------------------------------

def services(user_id: str, community_id: str, first: date, last: date) -> list[list]:
    """The lines of the period: the person's attendances the community recorded that credit minutes, oldest
    first, from the ``by_attendee`` index (one Query, paged by DynamoDB's 1 MB). More than ``MAX_LINES`` → 409
    TOO_MANY_SERVICES (reading stops there)."""
    start, end = rules.window(first, last)
    condition = SignupModel.attended_at.between(start, end - timedelta(microseconds=1))
    lines: list[list] = []
    for signup in SignupModel.by_attendee.query(user_id, condition, scan_index_forward=True):
        minutes = int(signup.minutes or 0)
        if signup.community_id != community_id or minutes <= 0:
            continue
        if len(lines) == rules.MAX_LINES:
            raise rules.TooManyServices(details={"max_lines": rules.MAX_LINES})
        lines.append(rules.line(signup.attended_at.astimezone(SHANGHAI).date(), signup.event_title,
                                signup.event_address, minutes, signup.organiser_nickname or DEFAULT_NICKNAME))
    return lines


# --- presenting ------------------------------------------------------------------------------------------------

def check_url(base: str, number: str | None) -> str | None:
    return f"{base.rstrip('/')}{PAGE_PATH}/{number}" if number else None


def present(item: CertificateModel, *, base: str) -> dict:
    """A certificate as its owner and the community's admins see it (the lines only in the PDF)."""
    total = int(item.total_minutes) if item.total_minutes is not None else None
    return {"id": item.id, "community_id": item.community_id,
            "user": {"id": item.user_id, "real_name": item.real_name},
            "volunteer_number": item.volunteer_number, "from": item.period_from, "to": item.period_to,
            "purpose": item.purpose, "status": item.status, "created_at": to_api(item.created_at),
            "number": item.number, "total_minutes": total,
            "line_count": int(item.line_count) if item.line_count is not None else None,
            "star_level": rules.star_level(total) if total is not None else None,
            "issuer": item.issuer, "signatory": item.signatory, "handler_name": item.handler_name,
            "issued_at": to_api(item.issued_at), "refused_at": to_api(item.refused_at),
            "refuse_reason": item.refuse_reason, "revoked_at": to_api(item.revoked_at),
            "revoke_reason": item.revoke_reason, "check_url": check_url(base, item.number)}


# --- requesting ------------------------------------------------------------------------------------------------

def request(container: Container, principal: Principal, *, start: str, end: str, purpose: str) -> dict:
    """A volunteer asks for a certificate of ``[start, end]`` (201 ``pending``): see the module's note."""
    grant = require_role(principal, Role.VOLUNTEER)
    now = utcnow()
    first, last = rules.parse_period(start, end, now)
    user = current_user(principal)
    real_name = (user.real_name or "").strip()
    if not real_name:
        raise rules.RealNameRequired()
    lines = services(user.id, grant.community_id, first, last)
    if not lines:
        raise rules.NoServices()
    content_check(container, user, purpose, scene=Scene.FORUM, what="certificate purpose")
    item = CertificateModel(new_id("crt"), community_id=grant.community_id, user_id=user.id, real_name=real_name,
                            volunteer_number=rules.volunteer_number(user.id), period_from=first.isoformat(),
                            period_to=last.isoformat(), purpose=purpose, status=rules.PENDING,
                            listed=f"{grant.community_id}#{rules.PENDING}", created_at=now)
    answer = present(item, base=container.settings.qr_link_base)
    tx = check_grant(Tx(), grant)
    tx.put(item, condition=CertificateModel.id.does_not_exist())
    tx.put(CounterModel(rules.pending_key(user.id), n=1), condition=CounterModel.key.does_not_exist(),
           error=rules.CertificatePending())
    tx.commit(answer)
    metrics.count("certificate_requested")
    log.info("certificate requested", extra={"certificate_id": item.id})
    return answer


# --- lists -----------------------------------------------------------------------------------------------------

def mine(container: Container, principal: Principal, *, limit: int, cursor: str | None) -> dict:
    """My certificates (any community's), newest first: one Query of ``by_owner`` a page."""
    base = container.settings.qr_link_base
    return paging.page(
        lambda **kw: CertificateModel.by_owner.query(principal.user_id, scan_index_forward=False, **kw),
        limit, cursor, lambda items: [present(item, base=base) for item in items],
        scope=f"certificates:{principal.user_id}", model=CertificateModel)


def for_admin(container: Container, principal: Principal, *, status: str, limit: int, cursor: str | None) -> dict:
    """The community's certificates of one status, newest first: one Query of ``by_status`` a page."""
    grant = require_role(principal, Role.ADMIN)
    key = f"{grant.community_id}#{status}"
    base = container.settings.qr_link_base
    return paging.page(lambda **kw: CertificateModel.by_status.query(key, scan_index_forward=False, **kw),
                       limit, cursor, lambda items: [present(item, base=base) for item in items],
                       scope=f"certificates:{key}", model=CertificateModel)


# --- issuing, refusing, revoking -------------------------------------------------------------------------------

def _tell(tx: Tx, item: CertificateModel, result: str, *, number: str | None = None, reason: str | None = None) -> None:
    """The volunteer is told (``certificate_decided``), in the change's own transaction; one message per step."""
    data = {"certificate_id": item.id, "result": result}
    if number:
        data["number"] = number
    if reason:
        data["reason"] = reason
    notifications.enqueue(tx, kind="certificate_decided", recipient_id=item.user_id, data=data, page=MINI_PAGE,
                          community_id=item.community_id, key=f"certificate#{item.id}#{result}")


def _own(principal: Principal, certificate_id: str, *extra: tuple) -> tuple:
    """The admin's grant and the certificate of their community (404 otherwise), with ``extra`` items read in the
    same BatchGetItem."""
    grant = require_role(principal, Role.ADMIN)
    item, *rest = batch.get_many((CertificateModel, certificate_id), *extra)
    if item is None or item.community_id != grant.community_id:
        raise rules.CERTIFICATE_NOT_FOUND
    return grant, item, rest


def _refused_for(expected: str):
    def refused(current: CertificateModel | None) -> DomainError:
        if current is None:
            return rules.CERTIFICATE_NOT_FOUND
        return rules.NOT_PENDING if expected == rules.PENDING else rules.NOT_ISSUED
    return refused


def _volunteer_refusal(current: UserModel | None) -> DomainError:
    if current is None or current.status != "active":
        return VOLUNTEER_GONE
    return rules.RealNameRequired("志愿者的实名信息已变更或缺失，请志愿者核对后重新申请")


def _moved(_current) -> DomainError:
    raise _CounterMoved()


def _taken(_current) -> DomainError:
    raise _NumberTaken()


def issue(container: Container, principal: Principal, certificate_id: str) -> dict:
    """An admin issues a pending certificate: the snapshot and the next number in ONE transaction (see the
    module's note)."""
    now = utcnow()
    year = now.astimezone(SHANGHAI).year
    admin_community = principal.community_id or ""
    seq_key = rules.sequence_key(admin_community, year)
    grant, item, (community, counter) = _own(principal, certificate_id, (CommunityModel, admin_community),
                                             (CounterModel, seq_key))
    if item.status != rules.PENDING:
        raise rules.NOT_PENDING
    if item.user_id == grant.user_id:
        raise SelfCertificate()
    lines = services(item.user_id, item.community_id, date.fromisoformat(item.period_from),
                     date.fromisoformat(item.period_to))
    if not lines:
        raise rules.NoServices()
    admin = current_user(principal)
    total = rules.total_minutes(lines)
    issuer = community.name if community is not None else item.community_id
    signatory = (community.certificate_signatory or "").strip() if community is not None else ""
    handler = (admin.real_name or admin.nickname or DEFAULT_NICKNAME).strip()
    blob = rules.encode_lines(lines)
    listed = f"{item.community_id}#{rules.ISSUED}"
    read = int(counter.n or 0) if counter is not None else 0  # the counter as read: the condition of its move
    seq = read + 1
    for _ in range(MAX_ROUNDS):
        number = rules.number_of(year, item.community_id, seq)
        after = item.changed(status=rules.ISSUED, listed=listed, number=number, lines=blob, line_count=len(lines),
                             total_minutes=total, issuer=issuer, signatory=signatory or NO_SIGNATORY,
                             handled_by=admin.id, handler_name=handler, issued_at=now)
        answer = present(after, base=container.settings.qr_link_base)
        tx = check_grant(Tx(), grant)
        tx.update(CertificateModel(item.id), [
            CertificateModel.status.set(rules.ISSUED), CertificateModel.listed.set(listed),
            CertificateModel.number.set(number), CertificateModel.lines.set(blob),
            CertificateModel.line_count.set(len(lines)), CertificateModel.total_minutes.set(total),
            CertificateModel.issuer.set(issuer), CertificateModel.signatory.set(signatory or NO_SIGNATORY),
            CertificateModel.handled_by.set(admin.id), CertificateModel.handler_name.set(handler),
            CertificateModel.issued_at.set(now),
        ], condition=(CertificateModel.status == rules.PENDING) & (CertificateModel.community_id == grant.community_id),
            error=_refused_for(rules.PENDING))
        tx.check(UserModel, item.user_id, condition=(UserModel.status == "active")
                 & (UserModel.real_name == item.real_name), error=_volunteer_refusal)
        counter_condition = CounterModel.key.does_not_exist() if read == 0 else (CounterModel.n == read)
        tx.update(CounterModel(seq_key), [CounterModel.n.set(seq)], condition=counter_condition, error=_moved)
        tx.put(CounterModel(rules.number_key(number), n=1), condition=CounterModel.key.does_not_exist(), error=_taken)
        tx.delete(CounterModel(rules.pending_key(item.user_id)))
        _tell(tx, item, rules.ISSUED, number=number)
        try:
            tx.commit(answer)
        except _CounterMoved:
            again, = batch.get_many((CounterModel, seq_key))
            read = int(again.n or 0) if again is not None else 0
            seq = read + 1
            continue
        except _NumberTaken:
            seq += 1
            continue
        metrics.count("certificate_issued")
        log.info("certificate issued", extra={"certificate_id": item.id, "lines": len(lines)})
        return answer
    raise StorageBusy()


def refuse(container: Container, principal: Principal, certificate_id: str, *, reason: str) -> dict:
    """An admin refuses a pending request, with a reason the volunteer reads: ONE transaction."""
    grant, item, _ = _own(principal, certificate_id)
    if item.status != rules.PENDING:
        raise rules.NOT_PENDING
    now = utcnow()
    listed = f"{item.community_id}#{rules.REFUSED}"
    admin = current_user(principal)
    handler = (admin.real_name or admin.nickname or DEFAULT_NICKNAME).strip()
    after = item.changed(status=rules.REFUSED, listed=listed, refused_at=now, refuse_reason=reason,
                         handled_by=admin.id, handler_name=handler)
    answer = present(after, base=container.settings.qr_link_base)
    tx = check_grant(Tx(), grant)
    tx.update(CertificateModel(item.id), [
        CertificateModel.status.set(rules.REFUSED), CertificateModel.listed.set(listed),
        CertificateModel.refused_at.set(now), CertificateModel.refuse_reason.set(reason),
        CertificateModel.handled_by.set(admin.id), CertificateModel.handler_name.set(handler),
    ], condition=CertificateModel.status == rules.PENDING, error=_refused_for(rules.PENDING))
    tx.delete(CounterModel(rules.pending_key(item.user_id)))
    _tell(tx, item, rules.REFUSED, reason=reason)
    tx.commit(answer)
    metrics.count("certificate_refused")
    return answer


def revoke(container: Container, principal: Principal, certificate_id: str, *, reason: str) -> dict:
    """An admin revokes an issued certificate (its number stays taken; the check answers ``revoked``)."""
    grant, item, _ = _own(principal, certificate_id)
    if item.status != rules.ISSUED:
        raise rules.NOT_ISSUED
    now = utcnow()
    listed = f"{item.community_id}#{rules.REVOKED}"
    after = item.changed(status=rules.REVOKED, listed=listed, revoked_at=now, revoked_by=principal.user_id,
                         revoke_reason=reason)
    answer = present(after, base=container.settings.qr_link_base)
    tx = check_grant(Tx(), grant)
    tx.update(CertificateModel(item.id), [
        CertificateModel.status.set(rules.REVOKED), CertificateModel.listed.set(listed),
        CertificateModel.revoked_at.set(now), CertificateModel.revoked_by.set(principal.user_id),
        CertificateModel.revoke_reason.set(reason),
    ], condition=CertificateModel.status == rules.ISSUED, error=_refused_for(rules.ISSUED))
    _tell(tx, item, rules.REVOKED, reason=reason)
    tx.commit(answer)
    metrics.count("certificate_revoked")
    log.info("certificate revoked", extra={"certificate_id": item.id})
    return answer


# --- the PDF ---------------------------------------------------------------------------------------------------

def pdf(container: Container, principal: Principal, certificate_id: str) -> tuple[bytes, str]:
    """The issued (or revoked) certificate's PDF, rendered from its snapshot, for its owner and the community's
    admins (404 to anyone else); 409 INVALID_STATE before it is issued. Returns the bytes and a file name."""
    item, = batch.get_many((CertificateModel, certificate_id))
    admin = item is not None and principal.community_id == item.community_id and principal.has(Role.ADMIN)
    if item is None or not (admin or item.user_id == principal.user_id):
        raise rules.CERTIFICATE_NOT_FOUND
    if item.status not in (rules.ISSUED, rules.REVOKED):
        raise InvalidState("证明尚未出具")
    from ..adapters.pdf import certificate as renderer  # fpdf2 and fontTools: only this route pays their import
    data = renderer.render(snapshot(item), check_url=check_url(container.settings.qr_link_base, item.number))
    return data, f"certificate-{item.number}.pdf"


def snapshot(item: CertificateModel) -> dict:
    """What the PDF shows, all from the item as issued."""
    total = int(item.total_minutes or 0)
    return {"number": item.number, "name": item.real_name, "volunteer_number": item.volunteer_number,
            "from": item.period_from, "to": item.period_to, "purpose": item.purpose,
            "lines": rules.decode_lines(item.lines), "total_minutes": total,
            "star_level": rules.star_level(total), "issuer": item.issuer, "signatory": item.signatory or NO_SIGNATORY,
            "handler": item.handler_name, "issued_on": item.issued_at.astimezone(SHANGHAI).date().isoformat(),
            "issued_at": item.issued_at,
            "revoked": item.status == rules.REVOKED,
            "revoked_on": item.revoked_at.astimezone(SHANGHAI).date().isoformat() if item.revoked_at else None}


# --- 注销 ----------------------------------------------------------------------------------------------------------

WITHDRAWN_ON_DELETION = "申请人已注销账号"


def forget_deleted_user(user_id: str) -> None:
    """注销: a pending request is refused by the system (nobody is left to issue it to). Issued and revoked
    certificates stay: they are the community's record of what it certified, perhaps already handed to a school or
    an employer, and the public check shows only the masked name (it needs the full name to match). Each its own
    conditional write; a 注销 that stopped half-way completes when called again."""
    now = utcnow()
    for item in CertificateModel.by_owner.query(user_id):
        if item.status != rules.PENDING:
            continue
        tx = Tx()
        tx.update(CertificateModel(item.id), [
            CertificateModel.status.set(rules.REFUSED), CertificateModel.listed.set(f"{item.community_id}#{rules.REFUSED}"),
            CertificateModel.refused_at.set(now), CertificateModel.refuse_reason.set(WITHDRAWN_ON_DELETION),
        ], condition=CertificateModel.status == rules.PENDING, error=_refused_for(rules.PENDING))
        tx.delete(CounterModel(rules.pending_key(user_id)))
        try:
            tx.commit()
        except DomainError:  # decided meanwhile: its decision stands
            continue
