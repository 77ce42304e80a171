"""JWT encoding and decoding with PyJWT; the signing key is JWT_SECRET_KEY, never SECRET_KEY."""

import functools
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from django.conf import settings

ACCESS = "access"
REFRESH = "refresh"


def new_jti() -> str:
    return secrets.token_hex(16)


def encode(
    *, user_id: int, sid: str, jti: str, kind: str, issued: datetime, lifetime: timedelta
) -> str:
    payload = {
        "sub": str(user_id),
        "sid": sid,
        "jti": jti,
        "typ": kind,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
    }
    return jwt.encode(payload, settings.JWT_SECRET_KEY, algorithm=settings.JWT_ALGORITHM)


def decode(token: str, *, kind: str) -> dict[str, Any] | None:
    """The claims of a valid, unexpired token of ``kind``; None for anything else.

    Only the configured algorithm is accepted, which rules out ``alg: none`` and algorithm
    confusion; the type claim keeps a refresh token from being used as an access token.
    """
    claims = _verified(token, settings.JWT_SECRET_KEY, settings.JWT_ALGORITHM)
    if claims is None or claims.get("typ") != kind:
        return None
    # Expiry is checked on every use, not only when the signature was verified.
    if claims["exp"] <= datetime.now(tz=UTC).timestamp():
        return None
    return dict(claims)


@functools.lru_cache(maxsize=4096)
def _verified(token: str, key: str, algorithm: str) -> dict[str, Any] | None:
    """The claims of a token whose signature and claims are valid, expiry aside.

    A client sends the same access token with every call; verifying it (PyJWT checks the
    encoding character by character) was a sizeable share of an API call's CPU
    (docs/performance.md, "Figures behind choices in the code"). The key and the
    algorithm are part of the cache key, so a changed key verifies every token again.
    """
    try:
        return jwt.decode(
            token,
            key,
            algorithms=[algorithm],
            options={"require": ["exp", "iat", "sub", "sid", "jti", "typ"]},
        )
    except jwt.PyJWTError:
        return None
