"""Our own short-lived signed token (a JWT, HS256). It names the user and what they held at login.

Signed and checked here with hmac, hashlib and base64, as PyJWT 2.x does for HS256 (the same bytes out, the same
checks in the same order: segments, header, algorithm, signature, then the claims): importing PyJWT costs a cold
start ≈ 14 ms, its JWKS client (for keys fetched over HTTP, which HS256 never uses) included, and the package
cannot be imported without it. tests/unit/test_tokens.py holds both to the same answers on good and bad tokens.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time

from ..config import Settings
from ..domain.access import Principal
from ..domain.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "tongxin"
REQUIRED = ("exp", "iat", "sub", "iss")
# The header PyJWT writes for HS256: keys sorted, no spaces.
HEADER = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT"}').rstrip(b"=")
_ALPHABET = re.compile(rb"[A-Za-z0-9_-]*")
SUPPORTED_CRIT = frozenset({"b64"})


class Malformed(Exception):
    """Not a token we could have issued (PyJWT's DecodeError and other InvalidTokenErrors)."""


class BadSignature(Exception):
    """Well formed, but not signed with this key."""


class Expired(Exception):
    """Signed with this key, past its ``exp``."""


def _b64encode(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def _b64decode(segment: bytes) -> bytes:
    """Strict base64url as PyJWT reads it: up to two trailing '=' on a whole quantum, the URL-safe alphabet only,
    and the canonical encoding of what it decodes to."""
    stripped = segment.rstrip(b"=")
    padding = len(segment) - len(stripped)
    if padding > 2 or (padding and len(segment) % 4) or len(stripped) % 4 == 1 or not _ALPHABET.fullmatch(stripped):
        raise Malformed("bad base64url")
    try:
        decoded = base64.urlsafe_b64decode(stripped + b"=" * (-len(stripped) % 4))
    except (TypeError, binascii.Error):
        raise Malformed("bad base64url") from None
    if _b64encode(decoded) != stripped:
        raise Malformed("bad base64url")
    return decoded


def _signature(key: str, signing_input: bytes) -> bytes:
    return hmac.new(key.encode("utf-8"), signing_input, hashlib.sha256).digest()


def _json_object(data: bytes) -> dict:
    try:
        value = json.loads(data)
    except (ValueError, RecursionError):
        raise Malformed("not JSON") from None
    if not isinstance(value, dict):
        raise Malformed("not a JSON object")
    return value


def _check_header(header: dict) -> None:
    if "kid" in header and not isinstance(header["kid"], str):
        raise Malformed("kid")
    if "crit" in header:
        crit = header["crit"]
        if not isinstance(crit, list) or not crit or any(
                not isinstance(ext, str) or ext not in SUPPORTED_CRIT or ext not in header for ext in crit):
            raise Malformed("crit")
    if header.get("b64", True) is False:  # a detached payload: never ours
        raise Malformed("b64")
    if header.get("alg") != ALGORITHM:  # missing, "none", another algorithm
        raise Malformed("alg")


def _check_claims(claims: dict, now: float) -> None:
    for claim in REQUIRED:
        if claims.get(claim) is None:
            raise Malformed(claim)
    for claim in ("iat", "nbf"):
        if claim in claims:
            try:
                at = int(claims[claim])
            except (ValueError, TypeError, OverflowError):
                raise Malformed(claim) from None
            if at > now:
                raise Malformed(claim)
    try:
        exp = int(claims["exp"])
    except (ValueError, TypeError, OverflowError):
        raise Malformed("exp") from None
    if exp <= now:
        raise Expired()
    if not isinstance(claims["iss"], str) or claims["iss"] != ISSUER:
        raise Malformed("iss")
    if claims.get("aud"):
        raise Malformed("aud")
    if not isinstance(claims["sub"], str):
        raise Malformed("sub")
    if "jti" in claims and not isinstance(claims["jti"], str):
        raise Malformed("jti")


def encode(claims: dict, key: str) -> str:
    """``claims`` signed with ``key``: byte for byte what ``jwt.encode(claims, key, algorithm="HS256")`` gives."""
    signing_input = HEADER + b"." + _b64encode(json.dumps(claims, separators=(",", ":")).encode("utf-8"))
    return (signing_input + b"." + _b64encode(_signature(key, signing_input))).decode("ascii")


def decode(token: str, key: str, now: float | None = None) -> dict:
    """The claims of ``token`` if ``key`` signed it and they hold; else ``Malformed``, ``BadSignature`` or
    ``Expired`` (the signature is checked before the claims, so a wrong key is always ``BadSignature``)."""
    raw = token.encode("utf-8")
    try:
        signing_input, crypto_segment = raw.rsplit(b".", 1)
        header_segment, payload_segment = signing_input.split(b".", 1)
    except ValueError:
        raise Malformed("not enough segments") from None
    header = _json_object(_b64decode(header_segment))
    if header.get("b64", True) is not False:
        payload = _b64decode(payload_segment)
    signature = _b64decode(crypto_segment)
    _check_header(header)
    if not hmac.compare_digest(_signature(key, signing_input), signature):
        raise BadSignature()
    claims = _json_object(payload)
    _check_claims(claims, time.time() if now is None else now)
    return claims


def issue(settings: Settings, *, user_id: str, community_id: str | None, roles, grid_ids, store_ids) -> tuple[str, int]:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "sub": user_id, "iat": now, "exp": now + settings.token_ttl_seconds,
        "cid": community_id, "roles": sorted(roles or ()), "gids": sorted(grid_ids or ()),
        "sids": sorted(store_ids or ()),
    }
    return encode(claims, settings.token_secret), settings.token_ttl_seconds


def verify(settings: Settings, token: str) -> Principal:
    """The token's principal. Signed with the current key, or with the previous one while a rotation's grace period
    lasts (``TOKEN_SECRET_PREVIOUS`` / ``<prefix>token-secret-previous``): tokens issued before the rotation live
    out their lifetime. HS256 checks the signature before the claims, so a wrong key is always BadSignature."""
    keys = settings.token_secrets
    for tried, key in enumerate(keys, start=1):
        try:
            claims = decode(token, key)
        except Expired:
            raise Unauthenticated("登录已过期，请重新登录", details={"reason": "token_expired"}) from None
        except BadSignature:
            if tried < len(keys):
                continue
            raise Unauthenticated("登录凭证无效，请重新登录", details={"reason": "bad_signature"}) from None
        except Malformed:
            raise Unauthenticated("登录凭证无效，请重新登录", details={"reason": "malformed"}) from None
        return Principal(
            user_id=claims["sub"], community_id=claims.get("cid"), roles=frozenset(claims.get("roles") or ()),
            grid_ids=frozenset(claims.get("gids") or ()), store_ids=frozenset(claims.get("sids") or ()),
        )
    raise AssertionError("unreachable: settings.token_secrets is never empty")
