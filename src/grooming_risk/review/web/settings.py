"""Settings of the reviewer web app (what `grooming-risk review serve` passes to `create_app`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from grooming_risk.review.auth import RateLimit


@dataclass(frozen=True)
class ReviewSettings:
    """
    db_url: the review store (None: $GROOMING_RISK_REVIEW_DB, else sqlite:///review.db).
    secure_cookies: mark cookies Secure; turn on whenever the app is reached over HTTPS (behind a
        TLS-terminating proxy too). Off by default so that http://127.0.0.1 works for a local trial.
    session_ttl: how long a login lasts.
    rate_limit: failed logins allowed per (user name, client address) within a window.
    ip_rate_limit: failed logins allowed per client address, whatever the user names, within a
        window: stops one address from trying a few passwords on every account. Sized for an office
        behind one NAT address; behind a proxy, start `serve` with --forwarded-allow-ips so that
        the address is the client's, not the proxy's.
    secret_key: signs the login form's CSRF token; a random one per process if None (only pending
        login forms are lost on restart: sessions themselves live in the database).
    organisation: reporting organisation written into escalation reports.
    page_size: queue rows per page.
    """

    db_url: str | None = None
    secure_cookies: bool = False
    session_ttl: timedelta = timedelta(hours=8)
    rate_limit: RateLimit = field(default_factory=RateLimit)
    ip_rate_limit: RateLimit = field(
        default_factory=lambda: RateLimit(max_failures=20, window=timedelta(minutes=15))
    )
    secret_key: str | None = None
    organisation: str | None = None
    page_size: int = 50

    def __post_init__(self) -> None:
        if self.page_size < 1:
            raise ValueError(f"page_size must be >= 1, got {self.page_size}")
        if self.session_ttl <= timedelta(0):
            raise ValueError("session_ttl must be positive")
        for name, limit in (("rate_limit", self.rate_limit), ("ip_rate_limit", self.ip_rate_limit)):
            if limit.max_failures < 1:
                raise ValueError(f"{name}.max_failures must be >= 1, got {limit.max_failures}")
            if limit.window <= timedelta(0):
                raise ValueError(f"{name}.window must be positive")
