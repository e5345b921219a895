"""Our own short-lived signed token (PyJWT, HS256). It names the user and what they held at login."""
from __future__ import annotations

import time

import jwt

from ..config import Settings
from ..domain.access import Principal
from ..domain.errors import Unauthenticated

ALGORITHM = "HS256"
ISSUER = "tongxin"


def issue(settings: Settings, *, user_id: str, community_id: str | None, roles, grid_ids, store_ids) -> tuple[str, int]:
    now = int(time.time())
    claims = {
        "iss": ISSUER, "sub": user_id, "iat": now, "exp": now + settings.token_ttl_seconds,
        "cid": community_id, "roles": sorted(roles or ()), "gids": sorted(grid_ids or ()),
        "sids": sorted(store_ids or ()),
    }
    return jwt.encode(claims, settings.token_secret, algorithm=ALGORITHM), settings.token_ttl_seconds


def verify(settings: Settings, token: str) -> Principal:
    """The token's principal. Signed with the current key, or with the previous one while a rotation's grace period
    lasts (``TOKEN_SECRET_PREVIOUS`` / ``<prefix>token-secret-previous``): tokens issued before the rotation live
    out their lifetime. HS256 checks the signature before the claims, so a wrong key is always InvalidSignature."""
    keys = settings.token_secrets
    for tried, key in enumerate(keys, start=1):
        try:
            claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                                options={"require": ["exp", "iat", "sub", "iss"]})
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("登录已过期，请重新登录", details={"reason": "token_expired"}) from None
        except jwt.InvalidSignatureError:
            if tried < len(keys):
                continue
            raise Unauthenticated("登录凭证无效，请重新登录", details={"reason": "bad_signature"}) from None
        except jwt.PyJWTError:
            raise Unauthenticated("登录凭证无效，请重新登录", details={"reason": "malformed"}) from None
        return Principal(
            user_id=claims["sub"], community_id=claims.get("cid"), roles=frozenset(claims.get("roles") or ()),
            grid_ids=frozenset(claims.get("gids") or ()), store_ids=frozenset(claims.get("sids") or ()),
        )
    raise AssertionError("unreachable: settings.token_secrets is never empty")
