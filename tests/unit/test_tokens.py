"""Our HS256 tokens (adapters/tokens.py, hmac + hashlib, no PyJWT at run time) against PyJWT itself, the reference:
the same bytes out, and on every token — ours, PyJWT's, expired, forged, unsigned, malformed in each segment and
claim — the same verdict (a principal, or which of expired / bad signature / malformed)."""
from __future__ import annotations

import base64
import json
import time

import jwt
import pytest

from tongxin.adapters import tokens
from tongxin.config import Settings
from tongxin.domain.errors import Unauthenticated

KEY = "unit-test-token-secret-" + "k" * 20
OTHER = "another-token-secret----" + "o" * 20


def _settings(**extra) -> Settings:
    return Settings(stage="test", token_secret=KEY, **extra)


def _claims(**changes) -> dict:
    now = int(time.time())
    claims = {"iss": "tongxin", "sub": "u_1", "iat": now - 5, "exp": now + 600, "cid": "c_1",
              "roles": ["resident", "volunteer"], "gids": ["g_1"], "sids": []}
    claims.update(changes)
    return {key: value for key, value in claims.items() if value is not ...}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(header: dict | bytes, claims: dict | bytes, key: str = KEY, signature: str | None = None) -> str:
    head = _b64(header if isinstance(header, bytes) else json.dumps(header).encode())
    body = _b64(claims if isinstance(claims, bytes) else json.dumps(claims).encode())
    if signature is None:
        import hashlib
        import hmac
        signature = _b64(hmac.new(key.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest())
    return f"{head}.{body}.{signature}"


def _pyjwt_verdict(token: str, keys: tuple[str, ...]) -> str | dict:
    """What verify() answered when it was PyJWT's decode (the code before this module had its own HS256)."""
    for tried, key in enumerate(keys, start=1):
        try:
            claims = jwt.decode(token, key, algorithms=["HS256"], issuer="tongxin",
                                options={"require": ["exp", "iat", "sub", "iss"]})
        except jwt.ExpiredSignatureError:
            return "token_expired"
        except jwt.InvalidSignatureError:
            if tried < len(keys):
                continue
            return "bad_signature"
        except jwt.PyJWTError:
            return "malformed"
        return {"user_id": claims["sub"], "community_id": claims.get("cid"), "roles": set(claims.get("roles") or ())}
    raise AssertionError


def _our_verdict(token: str, settings: Settings) -> str | dict:
    try:
        principal = tokens.verify(settings, token)
    except Unauthenticated as error:
        return error.details["reason"]
    return {"user_id": principal.user_id, "community_id": principal.community_id, "roles": set(principal.roles)}


HS256 = {"alg": "HS256", "typ": "JWT"}
GOOD = _claims()
CASES = {
    "ours": lambda: tokens.encode(GOOD, KEY),
    "pyjwt's": lambda: jwt.encode(GOOD, KEY, algorithm="HS256"),
    "padded segments": lambda: ".".join(part + "=" * (-len(part) % 4) for part in jwt.encode(GOOD, KEY).split(".")),
    "over-padded": lambda: jwt.encode(GOOD, KEY) + "===",
    "expired": lambda: jwt.encode(_claims(exp=int(time.time()) - 1), KEY),
    "expiring now": lambda: jwt.encode(_claims(exp=int(time.time())), KEY),
    "expired and forged": lambda: jwt.encode(_claims(exp=1), OTHER),
    "forged": lambda: jwt.encode(_claims(roles=["admin"]), OTHER),
    "unsigned": lambda: jwt.encode(GOOD, None, algorithm="none"),
    "HS512": lambda: jwt.encode(GOOD, KEY, algorithm="HS512"),
    "no alg": lambda: _token({"typ": "JWT"}, GOOD),
    "a kid": lambda: _token({**HS256, "kid": "k1"}, GOOD),
    "a numeric kid": lambda: _token({**HS256, "kid": 7}, GOOD),
    "crit b64": lambda: _token({**HS256, "crit": ["b64"], "b64": True}, GOOD),
    "crit unknown": lambda: _token({**HS256, "crit": ["exp"]}, GOOD),
    "crit empty": lambda: _token({**HS256, "crit": []}, GOOD),
    "b64 false": lambda: _token({**HS256, "crit": ["b64"], "b64": False}, b""),
    "header not an object": lambda: _token(b"[1]", GOOD),
    "header not JSON": lambda: _token(b"{alg", GOOD),
    "payload not an object": lambda: _token(HS256, b'"u_1"'),
    "payload not JSON": lambda: _token(HS256, b"\xff\xfe"),
    "two segments": lambda: ".".join(jwt.encode(GOOD, KEY).split(".")[:2]),
    "one segment": lambda: "abc",
    "empty": lambda: "..",
    "junk in the signature": lambda: jwt.encode(GOOD, KEY)[:-4] + "!!!!",
    "a bit flipped in the signature": lambda: jwt.encode(GOOD, KEY)[:-2] + ("A" if jwt.encode(GOOD, KEY)[-2] != "A" else "B") + jwt.encode(GOOD, KEY)[-1],
    "a non-canonical last character": lambda: _token(HS256, GOOD, signature=_token(HS256, GOOD).split(".")[2][:-1] + "B"),
    "non-ascii": lambda: jwt.encode(GOOD, KEY) + "张",
    "missing exp": lambda: jwt.encode(_claims(exp=...), KEY),
    "missing iat": lambda: jwt.encode(_claims(iat=...), KEY),
    "missing sub": lambda: jwt.encode(_claims(sub=...), KEY),
    "missing iss": lambda: jwt.encode(_claims(iss=...), KEY),
    "null sub": lambda: _token(HS256, _claims(sub=None)),
    "numeric sub": lambda: _token(HS256, _claims(sub=42)),
    "another issuer": lambda: jwt.encode(_claims(iss="someone"), KEY),
    "a numeric issuer": lambda: _token(HS256, _claims(iss=1)),
    "iat in the future": lambda: _token(HS256, _claims(iat=int(time.time()) + 3600)),
    "iat as digits": lambda: _token(HS256, _claims(iat=str(int(time.time()) - 5))),
    "iat as a word": lambda: _token(HS256, _claims(iat="yesterday")),
    "exp as digits": lambda: _token(HS256, _claims(exp=str(int(time.time()) + 600))),
    "exp as a float": lambda: _token(HS256, _claims(exp=time.time() + 600.5)),
    "exp as a word": lambda: _token(HS256, _claims(exp="later")),
    "nbf in the future": lambda: _token(HS256, _claims(nbf=int(time.time()) + 3600)),
    "nbf passed": lambda: _token(HS256, _claims(nbf=int(time.time()) - 1)),
    "an audience": lambda: _token(HS256, _claims(aud="someone")),
    "an empty audience": lambda: _token(HS256, _claims(aud="")),
    "a numeric jti": lambda: _token(HS256, _claims(jti=5)),
    "a jti": lambda: _token(HS256, _claims(jti="j1")),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_every_token_gets_the_verdict_pyjwt_gave(case):
    token = CASES[case]()
    assert _our_verdict(token, _settings()) == _pyjwt_verdict(token, (KEY,)), case


@pytest.mark.parametrize("case", ["ours", "forged", "expired and forged", "expired", "unsigned"])
def test_during_a_rotation_the_previous_key_is_tried_after_the_current_one(case):
    token = CASES[case]()
    rotated = Settings(stage="test", token_secret=OTHER, token_secret_previous=KEY)
    assert _our_verdict(token, rotated) == _pyjwt_verdict(token, (OTHER, KEY)), case


def test_an_issued_token_is_byte_for_byte_pyjwts():
    token, ttl = tokens.issue(_settings(), user_id="u_张", community_id=None, roles={"volunteer", "resident"},
                              grid_ids=["g_2", "g_1"], store_ids=())
    claims = jwt.decode(token, KEY, algorithms=["HS256"], issuer="tongxin")
    assert token == jwt.encode(claims, KEY, algorithm="HS256")
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    assert claims["exp"] - claims["iat"] == ttl and claims["roles"] == ["resident", "volunteer"]
    assert claims["gids"] == ["g_1", "g_2"] and claims["cid"] is None and claims["sub"] == "u_张"


def test_the_token_code_does_not_import_pyjwt():
    import subprocess
    import sys
    code = "import sys, tongxin.adapters.tokens; print(sorted(m for m in sys.modules if m == 'jwt' or m.startswith('jwt.')))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
