"""Accounts and sign-ins: creating accounts, logging in and out, web sessions, the login limits."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from grooming_risk.review import audit, auth
from grooming_risk.review.audit import AuditAction
from grooming_risk.review.auth import AccountInfo, AuthError, RateLimit
from grooming_risk.review.models import Account
from grooming_risk.review.store.base import StoreBase
from grooming_risk.review.store.views import LoginResult

# As long as a user name may be: enough to tell attempts apart, too short to hold much else
# (someone typing a password into the name field is the case this guards).
AUDITED_USERNAME_CHARS = 64


class AccountsStore(StoreBase):
    def add_account(self, username: str, role: str, password: str, *, replace: bool = False) -> AccountInfo:
        name = auth.normalize_username(username)
        parsed_role = auth.parse_role(role)
        auth.check_password_strength(password)
        password_hash = auth.hash_password(password)
        with self.writing() as session:
            existing = session.execute(select(Account).where(Account.username == name)).scalar_one_or_none()
            if existing is not None and not replace:
                raise AuthError(f"user {name!r} already exists; use --update to change its role or password")
            if existing is None:
                account = Account(
                    username=name, role=parsed_role.value, password_hash=password_hash, created_at=self.now()
                )
                session.add(account)
                session.flush()
                action = AuditAction.ACCOUNT_CREATED
            else:
                account = existing
                account.role = parsed_role.value
                account.password_hash = password_hash
                account.active = True
                action = AuditAction.ACCOUNT_UPDATED
            audit.append(
                session,
                action=action,
                actor_id=None,
                details={"account_id": account.id, "role": account.role},
            )
            return AccountInfo.of(account)

    def account(self, account_id: int) -> AccountInfo | None:
        with self.reading() as session:
            account = session.get(Account, account_id)
            return AccountInfo.of(account) if account else None

    def account_by_name(self, username: str) -> AccountInfo | None:
        with self.reading() as session:
            account = session.execute(
                select(Account).where(Account.username == username.strip().lower())
            ).scalar_one_or_none()
            return AccountInfo.of(account) if account else None

    def accounts(self) -> list[AccountInfo]:
        with self.reading() as session:
            return [
                AccountInfo.of(a)
                for a in session.execute(select(Account).order_by(Account.username)).scalars()
            ]

    # --- sign-in ---------------------------------------------------------------------------------

    def login(
        self,
        username: str,
        password: str,
        ip: str,
        limit: RateLimit,
        ttl: timedelta,
        *,
        ip_limit: RateLimit | None = None,
    ) -> LoginResult:
        """Check a sign-in against both limits, then the password; failures are audited.

        `limit` counts failures per (user name, address), `ip_limit` (if given) per address. A try
        refused by a limit is not checked, counted or audited: the failure that reached the limit
        was audited, with `locked_now`, and an attacker cannot grow the append-only log past that.
        """
        key = username.strip().lower()[:64]
        now = self.now()
        with self.writing() as session:
            wait = auth.lockout_wait(session, key, ip, now, limit, ip_limit)
            if wait is not None:
                return LoginResult("locked", retry_after_s=int(-(-wait.total_seconds() // 1)))
            account = auth.authenticate(session, username, password)
            if account is None:
                longest = max((limit, ip_limit or limit), key=lambda lim: lim.window)
                auth.record_failure(session, key, ip, now, longest)
                locked_now = auth.lockout_wait(session, key, ip, now, limit, ip_limit) is not None
                audit.append(
                    session,
                    action=AuditAction.LOGIN_FAILED,
                    actor_id=None,
                    details={
                        "username": username[:AUDITED_USERNAME_CHARS],
                        "username_sha256": hashlib.sha256(username.encode("utf-8")).hexdigest(),
                        "ip": ip[:64],
                        "locked_now": locked_now,
                    },
                    at=now,
                )
                return LoginResult("bad")
            auth.clear_failures(session, key, ip)
            token, csrf = auth.new_session(session, account.id, now, ttl)
            audit.append(session, action=AuditAction.LOGIN, actor_id=account.id, at=now)
            return LoginResult("ok", AccountInfo.of(account), token, csrf)

    def session_account(self, token: str) -> tuple[AccountInfo, str] | None:
        with self.reading() as session:
            return auth.session_account(session, token, self.now())

    def logout(self, token: str) -> None:
        with self.writing() as session:
            auth.end_session(session, token)
