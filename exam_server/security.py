"""Password hashing (argon2id) and signed JWT access/refresh tokens."""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from exam_server.errors import InvalidToken, TokenExpired

ALGORITHM = "HS256"
TokenKind = Literal["access", "refresh"]
# OWASP's argon2id baseline (19 MiB, t=2, p=1): ~15 ms a hash here, so a whole class logging in
# in the same minute does not swamp the API; stored hashes carry their own parameters.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@dataclass(frozen=True)
class TokenClaims:
    user_id: int
    role: str
    kind: TokenKind
    jti: str
    expires_at: datetime


def issue_token(
    key: str, user_id: int, role: str, kind: TokenKind, now: datetime, lifetime: timedelta
) -> tuple[str, TokenClaims]:
    claims = TokenClaims(user_id, role, kind, secrets.token_hex(16), now + lifetime)
    payload: dict[str, Any] = {
        "sub": str(user_id),
        "role": role,
        "typ": kind,
        "jti": claims.jti,
        "iat": int(now.timestamp()),
        "exp": int(claims.expires_at.timestamp()),
    }
    return jwt.encode(payload, key, algorithm=ALGORITHM), claims


def decode_token(key: str, token: str, expected: TokenKind, now: datetime) -> TokenClaims:
    try:
        # Expiry is checked against the injected clock below, not the wall clock.
        payload = jwt.decode(token, key, algorithms=[ALGORITHM], options={"verify_exp": False})
    except jwt.InvalidTokenError as exc:
        raise InvalidToken(f"{expected} token is not valid: {exc}") from exc
    if payload.get("typ") != expected:
        raise InvalidToken(f"expected a {expected} token, got a {payload.get('typ')!r} token")
    expires_at = datetime.fromtimestamp(int(payload["exp"]), tz=now.tzinfo)
    if expires_at <= now:
        hint = "; get a new one from POST /api/auth/refresh" if expected == "access" else "; log in again"
        raise TokenExpired(f"{expected} token expired at {expires_at.isoformat()}{hint}")
    return TokenClaims(int(payload["sub"]), str(payload["role"]), expected, str(payload["jti"]), expires_at)
