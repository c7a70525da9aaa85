"""Password hashing (argon2id, see :mod:`exam_server.sessions.passwords`) and signed JWT
access/refresh tokens.

Access tokens carry ``sid`` (the sign-in's refresh-token family) and ``iat`` in milliseconds, so
the revocation store can end one sign-in (logout, a reused refresh token) or every token of a
user issued before an instant (sign out everywhere, deactivation) without a database read.
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt

from exam_server.errors import InvalidToken, TokenExpired
from exam_server.sessions.passwords import DEFAULT as _passwords

ALGORITHM = "HS256"
TokenKind = Literal["access", "refresh"]


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def needs_rehash(password_hash: str) -> bool:
    return _passwords.needs_rehash(password_hash)


def verify_password(password_hash: str, password: str) -> bool:
    return _passwords.verify(password_hash, password)


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: str
    kind: TokenKind
    jti: str
    expires_at: datetime
    # The sign-in (refresh-token family) the token belongs to; None for tokens issued before families.
    family_id: str | None = None
    issued_at_ms: int = 0


def _ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def issue_token(
    key: str, user_id: int, role: str, kind: TokenKind, now: datetime, lifetime: timedelta,
    family_id: str | None = None,
) -> tuple[str, TokenClaims]:
    jti = secrets.token_hex(16)
    claims = TokenClaims(user_id, role, kind, jti, now + lifetime, family_id, _ms(now))
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "typ": kind,
        "jti": claims.jti,
        "iat": claims.issued_at_ms / 1000,  # NumericDate may be fractional (RFC 7519 §2)
        "exp": int(claims.expires_at.timestamp()),
    }
    if family_id is not None:
        payload["sid"] = family_id
    return jwt.encode(payload, key, algorithm=ALGORITHM), claims


def decode_token(key: str, token: str, expected: TokenKind, now: datetime) -> TokenClaims:
    try:
        # Expiry and issue time are checked against the injected clock, not the wall clock.
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"verify_exp": False, "verify_iat": False})
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"{expected} token is not valid: {exc}") from exc
    if payload.get("typ") != expected:
        raise InvalidToken(f"expected a {expected} token, got a {payload.get('typ')!r} token")
    expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=now.tzinfo)
    if expires_at <= now:
        hint = "; get a new one from POST /api/auth/refresh" if expected == "access" else "; log in again"
        raise TokenExpired(f"{expected} token expired at {expires_at.isoformat()}{hint}")
    sid = payload.get("sid")
    return TokenClaims(int(payload["sub"]), str(payload["role"]), expected, str(payload["jti"]), expires_at,
                       str(sid) if sid is not None else None, round(float(payload.get("iat", 0)) * 1000))
