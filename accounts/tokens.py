"""JWT encoding and decoding with PyJWT; the signing key is JWT_SECRET_KEY, never SECRET_KEY."""

import secrets
from datetime import datetime, timedelta
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
    try:
        claims = jwt.decode(
            token,
            settings.JWT_SECRET_KEY,
            algorithms=[settings.JWT_ALGORITHM],
            options={"require": ["exp", "iat", "sub", "sid", "jti", "typ"]},
        )
    except jwt.PyJWTError:
        return None
    if claims.get("typ") != kind:
        return None
    return claims
