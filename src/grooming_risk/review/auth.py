"""Accounts, passwords, web sessions and the login rate limit.

- Passwords are hashed with Argon2id (argon2-cffi's defaults, which follow RFC 9106's recommendation).
  An unknown user name still costs one hash verification, so response time does not reveal which
  names exist.
- A web session is a random token in an HttpOnly cookie; the database keeps only its SHA-256, so a
  copy of the database does not let anyone log in. Each session has its own CSRF token.
- Failed logins are counted in the database, so the limits hold across worker processes and
  restarts: per (user name, client address), and per client address across all user names (one
  address trying many accounts). After `max_failures` failures within `window`, further sign-ins
  are refused until enough failures have left the window; the refusal says when that is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from grooming_risk.review.models import Account, LoginFailure, Role, WebSession

MIN_PASSWORD_LENGTH = 10
USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789._-")

# Module attribute looked up at call time, so tests can swap in cheap parameters.
HASHER = PasswordHasher()
_dummy: dict[str, str] = {}


def _dummy_hash() -> str:
    """Verified against when the user name is unknown, to even out response times (made on first use)."""
    key = str(HASHER.memory_cost) + ":" + str(HASHER.time_cost)
    if key not in _dummy:
        _dummy[key] = HASHER.hash(secrets.token_urlsafe(16))
    return _dummy[key]


class AuthError(ValueError):
    """Bad user name, password or role (the message is safe to show)."""


@dataclass(frozen=True)
class AccountInfo:
    id: int
    username: str
    role: Role
    active: bool

    def can(self, minimum: Role) -> bool:
        return self.active and self.role.at_least(minimum)

    @classmethod
    def of(cls, account: Account) -> AccountInfo:
        return cls(account.id, account.username, Role(account.role), account.active)


@dataclass(frozen=True)
class RateLimit:
    max_failures: int = 5
    window: timedelta = timedelta(minutes=5)


def normalize_username(name: str) -> str:
    username = name.strip().lower()
    if not 1 <= len(username) <= 64 or not set(username) <= USERNAME_CHARS:
        raise AuthError(f"user name {name!r}: use 1-64 characters from a-z, 0-9, '.', '_' and '-'")
    return username


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise AuthError(f"role {value!r}: expected one of {allowed}") from None


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password: at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}")
    if password.strip() != password:
        raise AuthError("password: must not start or end with spaces")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return HASHER.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return HASHER.check_needs_rehash(stored_hash)


def authenticate(session: Session, username: str, password: str) -> Account | None:
    """The active account if the password is right; None otherwise (always one hash check)."""
    try:
        name = normalize_username(username)
    except AuthError:
        verify_password(_dummy_hash(), password)
        return None
    account = session.execute(select(Account).where(Account.username == name)).scalar_one_or_none()
    if account is None or not account.active:
        verify_password(_dummy_hash(), password)
        return None
    if not verify_password(account.password_hash, password):
        return None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    return account


def recent_failures(session: Session, username: str, ip: str, now: datetime, limit: RateLimit) -> int:
    since = now - limit.window
    count = session.execute(
        select(func.count())
        .select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.ip == ip, LoginFailure.at > since)
    ).scalar_one()
    return int(count)


def is_locked_out(session: Session, username: str, ip: str, now: datetime, limit: RateLimit) -> bool:
    return recent_failures(session, username, ip, now, limit) >= limit.max_failures


def _wait(times: list[datetime], now: datetime, limit: RateLimit) -> timedelta | None:
    """How long until fewer than `max_failures` of these (ascending) failure times are in the window."""
    excess = len(times) - limit.max_failures
    if excess < 0:
        return None
    return max(timedelta(seconds=1), times[excess] + limit.window - now)


def lockout_wait(
    session: Session,
    username: str,
    ip: str,
    now: datetime,
    limit: RateLimit,
    ip_limit: RateLimit | None = None,
) -> timedelta | None:
    """None if a sign-in for (username, ip) may be tried now, else how long until it may."""
    ip = ip[:64]
    waits = []
    account_times = session.execute(
        select(LoginFailure.at)
        .where(LoginFailure.username == username, LoginFailure.ip == ip, LoginFailure.at > now - limit.window)
        .order_by(LoginFailure.at)
    ).scalars()
    waits.append(_wait(list(account_times), now, limit))
    if ip_limit is not None:
        ip_times = session.execute(
            select(LoginFailure.at)
            .where(LoginFailure.ip == ip, LoginFailure.at > now - ip_limit.window)
            .order_by(LoginFailure.at)
        ).scalars()
        waits.append(_wait(list(ip_times), now, ip_limit))
    found = [w for w in waits if w is not None]
    return max(found) if found else None


def record_failure(session: Session, username: str, ip: str, now: datetime, limit: RateLimit) -> None:
    """Count one failure; `limit` is the longest window in use (older failures are swept)."""
    session.add(LoginFailure(username=username[:64], ip=ip[:64], at=now))
    # Keep the table small: older failures no longer count for anything.
    session.execute(delete(LoginFailure).where(LoginFailure.at <= now - 4 * limit.window))


def clear_failures(session: Session, username: str, ip: str) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.username == username, LoginFailure.ip == ip))


def token_sha256(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_session(session: Session, account_id: int, now: datetime, ttl: timedelta) -> tuple[str, str]:
    """Create a web session; return (cookie token, CSRF token). Expired sessions are swept here."""
    session.execute(delete(WebSession).where(WebSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    csrf = secrets.token_urlsafe(32)
    session.add(
        WebSession(
            token_sha256=token_sha256(token),
            account_id=account_id,
            csrf_token=csrf,
            created_at=now,
            expires_at=now + ttl,
        )
    )
    return token, csrf


def session_account(session: Session, token: str, now: datetime) -> tuple[AccountInfo, str] | None:
    """(account, CSRF token) for a live session cookie of an active account, else None."""
    row = session.execute(
        select(WebSession, Account)
        .join(Account, Account.id == WebSession.account_id)
        .where(WebSession.token_sha256 == token_sha256(token))
    ).first()
    if row is None:
        return None
    web_session, account = row
    if web_session.expires_at <= now or not account.active:
        return None
    return AccountInfo.of(account), web_session.csrf_token


def end_session(session: Session, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_sha256 == token_sha256(token)))


def tokens_match(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode("utf-8"), (given or "").encode("utf-8"))
