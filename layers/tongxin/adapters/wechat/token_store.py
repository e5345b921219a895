"""The access_token of the whole fleet: one item in DynamoDB (``kv``), kept in each container's memory, renewed by
ONE container per rotation.

WeChat's stable token (``cgi-bin/stable_token``, docs/architecture.md, WeChat) lives ``expires_in`` seconds (≤ 7200)
and, in normal mode, is handed out unchanged until its last 5 minutes; a call in those 5 minutes gets a new token
while the old one still works until its own end. So:

- The item holds the token and WeChat's expiry as an absolute time (``expires_at`` = when the fetch was sent +
  ``expires_in``; also the item's TTL).
- A container keeps the token in memory and uses it without reading DynamoDB until ``RENEW_BEFORE_SECONDS`` (4 min)
  before that expiry: inside WeChat's 5-minute window, so the one fetch of a rotation gets the new token, with a
  minute's margin for the request's time and for rounding.
- From then on it looks at the item (one consistent read, at most once per ``LEASE_SECONDS`` while another
  container renews): a newer token is taken over; a renewal under way is left to its holder while the current token
  (still valid) goes on being used; otherwise it takes the lease — ``lease_until``/``lease_owner`` set by one
  conditional write, only if no lease is running and the stored token is (still) due — fetches, and writes the new
  token (condition: no later expiry stored), which ends the lease. A failed fetch gives the lease back.
- A token is never handed out in its last ``USABLE_MARGIN_SECONDS``: a container that gets there without a new
  token fetches itself (normal mode: WeChat hands everyone the same current token).
- A token WeChat rejects (40001/40014/42001, ``rejected``) is replaced by ONE forced refresh for the fleet: the lease
  is taken only if the stored token is still the rejected one, together with one of the Shanghai day's 20 forced
  refreshes (``counters``: ``wechat-force-refresh#<key>#<day>``, capped by the update's condition) in the same
  transaction. A container whose rejected token was already replaced takes the stored one over, with no fetch.
  Beyond the day's 20 the forced refresh is not sent (logged as an error) and a normal fetch is made instead.

Every state change is one conditional write (the lease; the token with the lease's end; the lease given back);
reads only choose which write to attempt. The clock is ``tongxin.domain.clock`` so tests drive time.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable

from pynamodb.exceptions import DoesNotExist
from wechatpy.session import SessionStorage

from ...domain.clock import SHANGHAI, utcnow
from ...domain.errors import DomainError, StorageBusy
from ..dynamo import counters
from ..dynamo.models import KeyValueModel
from ..dynamo.tx import Tx

log = logging.getLogger(__name__)

KEY_PREFIX = "wechat#"
FORCE_COUNTER_PREFIX = "wechat-force-refresh#"

# Renew when less than this is left: WeChat's normal mode hands out a new token only in a token's last 300 s.
RENEW_BEFORE_SECONDS = 240
# Never hand out a token with less than this left: the call must reach WeChat before the token ends.
USABLE_MARGIN_SECONDS = 30
# A renewal's lease: a fetch (the client's timeout, 3 s by default) and one write, with room to spare.
LEASE_SECONDS = 15
# With no usable token while another container renews: how long to wait for its token before fetching anyway.
AWAIT_SECONDS = 2.0
AWAIT_POLL_SECONDS = 0.2
# WeChat's limit on forced refreshes (force_refresh: true) per app and day.
FORCED_REFRESHES_PER_DAY = 20

# ``fetch(force)`` → (access_token, expires_in): one call of cgi-bin/stable_token (the client's).
Fetch = Callable[[bool], "tuple[str, int]"]


class _Taken(DomainError):
    """The lease (or the token write) was refused: ``current`` is the item as it stood (None: absent)."""

    def __init__(self, current: KeyValueModel | None) -> None:
        super().__init__("access_token item changed")
        self.current = current


class _QuotaSpent(DomainError):
    """The day's forced refreshes are used up."""


def _now() -> float:
    return utcnow().timestamp()


def _token_of(item: KeyValueModel | None) -> tuple[str | None, float]:
    """(token, WeChat's expiry in epoch seconds) of a stored item; (None, 0) when it holds none."""
    if item is None or not item.value or item.expires_at is None:
        return None, 0.0
    return item.value, item.expires_at.timestamp()


def _leased(item: KeyValueModel | None, now: float) -> float | None:
    """Until when another renewal holds the item's lease (None: no lease running)."""
    if item is not None and item.lease_until is not None and item.lease_until > now:
        return float(item.lease_until)
    return None


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(int(epoch), timezone.utc)


class DynamoSessionStorage(SessionStorage):
    """wechatpy's ``SessionStorage`` (get/set/delete, for wechatpy and the tests) plus the fleet's renewal:
    ``token`` (the token to call with) and ``rejected`` (WeChat refused it)."""

    def __init__(self) -> None:
        self._memory: dict[str, tuple[object, float | None]] = {}
        self._next_look: dict[str, float] = {}  # key → when to look at the item again (another container renews)
        self._lock = threading.Lock()  # guards the two dicts
        self._renewing = threading.Lock()  # one renewal at a time in this container
        self.owner = uuid.uuid4().hex  # this container, as a lease's holder

    # --- memory ------------------------------------------------------------------------------------------------
    def _kept(self, key) -> tuple[object, float | None] | None:
        with self._lock:
            return self._memory.get(key)

    def _keep(self, key, value, expires_at: float | None) -> None:
        with self._lock:
            self._memory[key] = (value, expires_at)
            self._next_look.pop(key, None)

    def _look_again_at(self, key, when: float) -> None:
        with self._lock:
            self._next_look[key] = when

    def _remembered(self, key):
        kept = self._kept(key)
        if kept is not None and kept[0] is not None and (kept[1] is None or kept[1] > _now()):
            return kept[0]
        return None

    # --- wechatpy's SessionStorage ------------------------------------------------------------------------------
    def get(self, key, default=None):
        remembered = self._remembered(key)
        if remembered is not None:
            return remembered
        token, expires_at = _token_of(self._read(key))
        if token is None or expires_at <= _now():
            return default
        self._keep(key, token, expires_at)
        return token

    def set(self, key, value, ttl=None):
        """Store ``value`` as the token for ``ttl`` seconds, whatever is stored (wechatpy's contract; the renewal
        itself writes with conditions)."""
        expires_at = _now() + int(ttl) if ttl else None
        item = KeyValueModel(KEY_PREFIX + key, value=value,
                             expires_at=_at(expires_at) if expires_at is not None else None)
        Tx().put(item).commit()
        self._keep(key, value, int(expires_at) if expires_at is not None else None)

    def delete(self, key):
        with self._lock:
            self._memory.pop(key, None)
            self._next_look.pop(key, None)
        Tx().delete(KeyValueModel(KEY_PREFIX + key)).commit()

    def __getitem__(self, key):  # wechatpy's base class forgets the ``return``
        return self.get(key)

    # --- the token to call with ---------------------------------------------------------------------------------
    def token(self, key: str, fetch: Fetch) -> str:
        """The token to call WeChat with: from memory while it has more than ``RENEW_BEFORE_SECONDS`` left (no
        DynamoDB call); then renewed once for the fleet (module docstring)."""
        kept, now = self._kept(key), _now()
        if kept is not None and kept[1] is not None and now < kept[1] - RENEW_BEFORE_SECONDS:
            return kept[0]
        usable = self._usable(key, now)
        with self._lock:
            next_look = self._next_look.get(key, 0.0)
        if usable is not None and now < next_look:
            return usable[0]  # another container renews it: keep using this one meanwhile
        if not self._renewing.acquire(blocking=usable is None):
            return usable[0]  # another thread of this container renews it
        try:
            kept, now = self._kept(key), _now()  # it may have been renewed while this thread waited
            if kept is not None and kept[1] is not None and now < kept[1] - RENEW_BEFORE_SECONDS:
                return kept[0]
            return self._renew(key, fetch, self._usable(key, now))
        finally:
            self._renewing.release()

    def _usable(self, key, now: float) -> tuple[str, float] | None:
        kept = self._kept(key)
        if kept is not None and kept[0] and kept[1] is not None and now < kept[1] - USABLE_MARGIN_SECONDS:
            return kept[0], kept[1]
        return None

    def _renew(self, key, fetch: Fetch, usable: tuple[str, float] | None) -> str:
        stored = self._read(key)
        now = _now()
        token, expires_at = _token_of(stored)
        if token is not None and now < expires_at - RENEW_BEFORE_SECONDS:
            self._keep(key, token, expires_at)  # renewed by another container (or this one is cold)
            return token
        if token is not None and now < expires_at - USABLE_MARGIN_SECONDS and (usable is None or expires_at > usable[1]):
            self._keep(key, token, expires_at)
            usable = (token, expires_at)
        lease = _leased(stored, now)
        if lease is not None:
            return self._meanwhile(key, fetch, usable, lease)
        # due as memory sees it (now ≥ expiry − RENEW_BEFORE_SECONDS), in the item's whole seconds
        due = KeyValueModel.expires_at.does_not_exist() | (KeyValueModel.expires_at <= _at(now + RENEW_BEFORE_SECONDS))
        try:
            self._take_lease(key, due, now)
        except _Taken as taken:
            return self._after_refusal(key, fetch, usable, taken.current)
        except StorageBusy:
            log.warning("access_token lease refused by DynamoDB (busy)")
            if usable is None:  # nothing to call with: a normal fetch, harmless at WeChat, kept in this container
                return self._fetch_and_keep(key, fetch, force=False, leased=False, had_token=False, known=None)
            self._look_again_at(key, now + LEASE_SECONDS)
            return usable[0]
        return self._fetch_and_keep(key, fetch, force=False, leased=True, had_token=token is not None,
                                    known=usable[0] if usable else token)

    def _meanwhile(self, key, fetch: Fetch, usable: tuple[str, float] | None, lease_until: float,
                   rejected: str | None = None) -> str:
        """Another container holds the lease: use the current token till it ends (then look again); with none
        usable, wait a little for the leaseholder's token, then fetch without the lease (normal mode: WeChat hands
        out the same current token to every caller)."""
        if usable is not None:
            self._look_again_at(key, lease_until)
            return usable[0]
        awaited = self._await(key, lease_until, rejected)
        if awaited is not None:
            return awaited
        return self._fetch_and_keep(key, fetch, force=False, leased=False, had_token=False, known=rejected)

    def _after_refusal(self, key, fetch: Fetch, usable, current: KeyValueModel | None,
                       rejected: str | None = None) -> str:
        """The lease was refused: take over a newer token, or leave the renewal to the one holding the lease."""
        now = _now()
        token, expires_at = _token_of(current)
        if token is not None and token != rejected and now < expires_at - (
                USABLE_MARGIN_SECONDS if rejected else RENEW_BEFORE_SECONDS):
            self._keep(key, token, expires_at)
            return token
        lease = _leased(current, now)
        if lease is not None:
            return self._meanwhile(key, fetch, usable, lease, rejected)
        if usable is not None:  # neither (it changed again since): look again later
            self._look_again_at(key, now + LEASE_SECONDS)
            return usable[0]
        return self._fetch_and_keep(key, fetch, force=False, leased=False, had_token=False, known=rejected)

    def _await(self, key, lease_until: float, rejected: str | None) -> str | None:
        deadline = time.monotonic() + min(AWAIT_SECONDS, max(0.0, lease_until - _now()))
        while time.monotonic() < deadline:
            time.sleep(AWAIT_POLL_SECONDS)
            stored = self._read(key)
            now = _now()
            token, expires_at = _token_of(stored)
            if token is not None and token != rejected and now < expires_at - USABLE_MARGIN_SECONDS:
                self._keep(key, token, expires_at)
                return token
            if _leased(stored, now) is None:
                break  # given back: the leaseholder's fetch failed
        return None

    # --- WeChat refused the token ---------------------------------------------------------------------------------
    def rejected(self, key: str, token: str, fetch: Fetch) -> str:
        """WeChat refused ``token`` (40001/40014/42001): the token to retry with. One forced refresh for the fleet
        per rejected token (module docstring); none when the fleet already holds another token."""
        with self._renewing:
            now = _now()
            kept = self._kept(key)
            if kept is not None and kept[0] != token and kept[1] is not None and now < kept[1] - USABLE_MARGIN_SECONDS:
                return kept[0]  # another thread of this container replaced it already
            with self._lock:
                if kept is not None and kept[0] == token:
                    self._memory.pop(key, None)
                self._next_look.pop(key, None)
            stored = self._read(key)
            now = _now()
            current, expires_at = _token_of(stored)
            if current is not None and current != token and now < expires_at - USABLE_MARGIN_SECONDS:
                self._keep(key, current, expires_at)  # the fleet holds a newer one: no fetch
                return current
            lease = _leased(stored, now)
            if lease is not None:
                return self._meanwhile(key, fetch, None, lease, token)
            still = KeyValueModel.value.does_not_exist() | (KeyValueModel.value == token)
            force = True
            try:
                self._take_lease(key, still, now, force_day=datetime.fromtimestamp(now, SHANGHAI).date())
            except _Taken as taken:
                return self._after_refusal(key, fetch, None, taken.current, token)
            except _QuotaSpent:
                log.error("wechat access_token: forced refresh NOT sent, the day's %d are used (Asia/Shanghai day); "
                          "fetching in normal mode instead", FORCED_REFRESHES_PER_DAY,
                          extra={"limit": FORCED_REFRESHES_PER_DAY})
                force = False
                try:
                    self._take_lease(key, still, now)
                except _Taken as taken:
                    return self._after_refusal(key, fetch, None, taken.current, token)
                except StorageBusy:
                    return self._fetch_and_keep(key, fetch, force=False, leased=False, had_token=False, known=token)
            except StorageBusy:  # a forced refresh cannot be counted: not sent; a normal fetch instead
                log.warning("access_token lease refused by DynamoDB (busy): fetching in normal mode")
                return self._fetch_and_keep(key, fetch, force=False, leased=False, had_token=False, known=token)
            return self._fetch_and_keep(key, fetch, force=force, leased=True, had_token=current is not None,
                                        known=token)

    # --- DynamoDB -----------------------------------------------------------------------------------------------
    def _read(self, key) -> KeyValueModel | None:
        try:
            return KeyValueModel.get(KEY_PREFIX + key, consistent_read=True)
        except DoesNotExist:
            return None

    def _take_lease(self, key, condition, now: float, force_day=None) -> None:
        """One conditional write: the lease, if none is running and ``condition`` holds; with ``force_day``, one of
        that day's forced refreshes in the same transaction."""
        free = KeyValueModel.lease_until.does_not_exist() | (KeyValueModel.lease_until < now)
        tx = Tx().update(KeyValueModel(KEY_PREFIX + key),
                         [KeyValueModel.lease_until.set(int(now) + LEASE_SECONDS),
                          KeyValueModel.lease_owner.set(self.owner)],
                         condition=free & condition, error=_Taken)
        if force_day is not None:
            day_end = datetime.combine(force_day + timedelta(days=1), datetime.min.time(), SHANGHAI)
            counters.bump(tx, f"{FORCE_COUNTER_PREFIX}{key}#{force_day.isoformat()}", cap=FORCED_REFRESHES_PER_DAY,
                          expires_at=day_end + timedelta(days=1), error=_QuotaSpent())
        tx.commit()

    def _give_back(self, key, had_token: bool) -> None:
        """A failed fetch ends its lease (the item as it was: removed if the lease had created it)."""
        mine = KeyValueModel.lease_owner == self.owner
        item = KeyValueModel(KEY_PREFIX + key)
        try:
            if had_token:
                Tx().update(item, [KeyValueModel.lease_until.remove(), KeyValueModel.lease_owner.remove()],
                            condition=mine, error=_Taken).commit()
            else:
                Tx().delete(item, condition=mine & KeyValueModel.expires_at.does_not_exist(), error=_Taken).commit()
        except _Taken:
            pass  # taken over meanwhile
        except Exception as exc:  # DynamoDB busy or refusing: the lease ends by itself; the fetch's error is the one
            log.warning("access_token lease not given back", extra={"error": type(exc).__name__})

    def _fetch_and_keep(self, key, fetch: Fetch, *, force: bool, leased: bool, had_token: bool,
                        known: str | None) -> str:
        started = _now()
        try:
            token, expires_in = fetch(force)
        except BaseException:
            if leased:
                self._give_back(key, had_token)
            raise
        expires_at = int(started) + int(expires_in)
        # The same token again (WeChat not rotating yet): the lease stays till its end, so nobody asks again at once.
        unchanged = token == known
        actions = [KeyValueModel.value.set(token), KeyValueModel.expires_at.set(_at(expires_at))]
        if leased and not unchanged:
            actions += [KeyValueModel.lease_until.remove(), KeyValueModel.lease_owner.remove()]
        try:
            Tx().update(KeyValueModel(KEY_PREFIX + key), actions,
                        condition=KeyValueModel.expires_at.does_not_exist()
                        | (KeyValueModel.expires_at <= _at(expires_at)),
                        error=_Taken).commit()
        except _Taken as taken:  # a later token is stored already: that one is the fleet's
            stored, stored_expiry = _token_of(taken.current)
            if stored is not None and stored_expiry > expires_at:
                self._keep(key, stored, stored_expiry)
                return stored
        except StorageBusy:
            log.warning("access_token fetched but not shared: DynamoDB refused the write; kept in this container")
        self._keep(key, token, expires_at)
        if unchanged:
            self._look_again_at(key, started + LEASE_SECONDS)
        return token
