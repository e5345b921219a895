"""The WeChat stand-in's access tokens (getAccessToken, getStableAccessToken) and the credentials check: a mixin of
``WeChatStandIn`` (infra/local/wechat_standin.py), whose ``__init__`` holds the state these methods read and write
under its lock (``_tokens``, ``_current_token``, ``_forced``, ``_last_forced_at``, ``_token_log``)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from infra.local.wechat_protocol import (
    _data_format_error, _invalid_credential, _is_non_empty_str, _json_response, _Response, _WeChatError)

TOKEN_EXPIRES_IN = 7200
#: Access tokens, as WeChat documents them (getAccessToken, getStableAccessToken; docs/architecture.md, WeChat).
#: A token lives TOKEN_EXPIRES_IN seconds from its issue. getAccessToken issues a new one at every call; the
#: previous one keeps working TOKEN_HANDOVER_SECONDS more. getStableAccessToken in normal mode answers the current
#: token with the time LEFT, and in its last TOKEN_HANDOVER_SECONDS issues a new one (the old working till its own
#: end: any answer has ≥ 300 s left). force_refresh issues a new one at once; the previous one keeps working
#: FORCE_REFRESH_GRACE_SECONDS (WeChat gives no figure: its docs only say two forced refreshes 30 s apart end a
#: leaked token at once, so one alone leaves it a while) and any older one ends; forced refreshes are limited to
#: FORCED_REFRESHES_PER_DAY a day (Asia/Shanghai; beyond: 45009), and one within FORCE_REFRESH_INTERVAL_SECONDS of
#: the last does not refresh (answered as normal mode, still counted). A token unknown or ended early is 40001, one
#: past its end 42001.
TOKEN_HANDOVER_SECONDS = 300
FORCE_REFRESH_GRACE_SECONDS = 30
FORCE_REFRESH_INTERVAL_SECONDS = 30
FORCED_REFRESHES_PER_DAY = 20
QUOTA_SPENT = (45009, "reach max api daily quota limit")
TOKEN_EXPIRED = (42001, "access_token expired")
_SHANGHAI = timezone(timedelta(hours=8))


@dataclass
class _IssuedToken:
    kind: str  # "plain" (getAccessToken) | "stable" (getStableAccessToken)
    ends_at: float  # seconds since the epoch (the stand-in's clock)
    ended_early: bool = False  # cut short by a newer token (a forced refresh, getAccessToken): 40001, not 42001


def _new_token() -> str:
    return secrets.token_urlsafe(48)


class AccessTokens:
    """cgi-bin/token, cgi-bin/stable_token, and the token every other WeChat endpoint needs."""

    def expire_tokens(self) -> None:
        """Invalidate every access token issued so far (unknown from now on: 40001), as a reset appsecret would."""
        with self._lock:
            self._forget_tokens()

    def _forget_tokens(self) -> None:
        self._tokens.clear()
        self._current_token.clear()

    def token_error(self, token: Any) -> tuple[int, str] | None:
        """What an API call with ``token`` is answered now: None (accepted), 40001 (unknown, or ended early by a
        newer token) or 42001 (past its end). The check every endpoint that needs a token applies."""
        with self._lock:
            issued = self._tokens.get(token) if isinstance(token, str) else None
            if issued is None:
                return 40001, _invalid_credential().errmsg
            if self.clock() < issued.ends_at:
                return None
            return (40001, _invalid_credential().errmsg) if issued.ended_early else TOKEN_EXPIRED

    @property
    def token_stats(self) -> dict[str, Any]:
        """stable_token calls: ``normal`` (normal-mode calls), ``forced`` (force_refresh calls answered with a
        token), ``refused`` (45009), ``issued`` (new stable tokens), ``forced_by_day`` and ``log`` (each call:
        ``at``, ``force``, ``issued``, ``errcode``), the current stable token's ``expires_at`` and when each stable
        token still working ends (``working``)."""
        with self._lock:
            now = self.clock()
            current = self._tokens.get(self._current_token.get("stable", ""))
            log = [dict(entry) for entry in self._token_log]
            return {
                "working": sorted(issued.ends_at for issued in self._tokens.values()
                                  if issued.kind == "stable" and issued.ends_at > now),
                "normal": sum(1 for entry in log if not entry["force"]),
                "forced": sum(1 for entry in log if entry["force"] and not entry["errcode"]),
                "refused": sum(1 for entry in log if entry["errcode"]),
                "issued": sum(1 for entry in log if entry["issued"]),
                "forced_by_day": dict(self._forced),
                "expires_at": current.ends_at if current is not None else None,
                "log": log,
            }

    def _check_access_token(self, query: dict[str, str]) -> None:
        error = self.token_error(query.get("access_token"))
        if error is not None:
            raise _WeChatError(*error)

    def _check_credentials(self, appid: Any, secret: Any) -> None:
        if not _is_non_empty_str(appid):
            raise _WeChatError(41002, "appid missing")
        if appid != self.appid:
            raise _WeChatError(40013, "invalid appid")
        if not _is_non_empty_str(secret):
            raise _WeChatError(41004, "appsecret missing")
        if secret != self.secret:
            raise _WeChatError(40125, "invalid appsecret")

    def _issue_token(self, kind: str, now: float, previous_ends_at: float | None = None) -> str:
        """A new current token of ``kind`` (the lock held); the previous current one ends at ``previous_ends_at``
        (if sooner than its own end), any older one of a forced refresh at once."""
        token = _new_token()
        previous = self._tokens.get(self._current_token.get(kind, ""))
        if previous is not None and previous_ends_at is not None and previous_ends_at < previous.ends_at:
            previous.ends_at, previous.ended_early = max(now, previous_ends_at), True
        self._tokens[token] = _IssuedToken(kind, now + TOKEN_EXPIRES_IN)
        self._current_token[kind] = token
        return token

    def _stable_answer(self, force: bool, now: float) -> tuple[str, float, bool]:
        """(token, time left, issued) of a stable_token call (the lock held; a refused force raises 45009)."""
        current = self._tokens.get(self._current_token.get("stable", ""))
        if force:
            day = datetime.fromtimestamp(now, _SHANGHAI).date().isoformat()
            if self._forced.get(day, 0) >= FORCED_REFRESHES_PER_DAY:
                raise _WeChatError(*QUOTA_SPENT)
            self._forced[day] = self._forced.get(day, 0) + 1
            recent = self._last_forced_at is not None and now - self._last_forced_at < FORCE_REFRESH_INTERVAL_SECONDS
            if not recent:
                self._last_forced_at = now
                for issued in self._tokens.values():  # only the token just replaced keeps a grace
                    if issued.kind == "stable" and issued is not current and issued.ends_at > now:
                        issued.ends_at, issued.ended_early = now, True
                token = self._issue_token("stable", now, now + FORCE_REFRESH_GRACE_SECONDS)
                return token, TOKEN_EXPIRES_IN, True
        if current is not None and now < current.ends_at - TOKEN_HANDOVER_SECONDS:
            return self._current_token["stable"], current.ends_at - now, False
        return self._issue_token("stable", now), TOKEN_EXPIRES_IN, True

    def _token(self, query: dict[str, str], _body: dict[str, Any]) -> _Response:
        if query.get("grant_type") != "client_credential":
            raise _WeChatError(40002, "invalid grant_type")
        self._check_credentials(query.get("appid"), query.get("secret"))
        with self._lock:
            now = self.clock()
            token = self._issue_token("plain", now, now + TOKEN_HANDOVER_SECONDS)
        return _json_response({"access_token": token, "expires_in": TOKEN_EXPIRES_IN})

    def _stable_token_endpoint(self, _query: dict[str, str], body: dict[str, Any]) -> _Response:
        if body.get("grant_type") != "client_credential":
            raise _WeChatError(40002, "invalid grant_type")
        self._check_credentials(body.get("appid"), body.get("secret"))
        force_refresh = body.get("force_refresh", False)
        if not isinstance(force_refresh, bool):
            raise _data_format_error()
        with self._lock:
            now = self.clock()
            entry: dict[str, Any] = {"at": now, "force": force_refresh, "issued": False, "errcode": 0}
            self._token_log.append(entry)
            try:
                token, left, entry["issued"] = self._stable_answer(force_refresh, now)
            except _WeChatError as refused:
                entry["errcode"] = refused.errcode
                raise
        # The time left, whole seconds (never more than 7200, never rounded up past the token's end).
        return _json_response({"access_token": token, "expires_in": max(0, min(TOKEN_EXPIRES_IN, int(left)))})
