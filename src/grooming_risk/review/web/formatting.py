"""Filters and helpers the templates call (registered as Jinja globals by `rendering`)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote, urlsplit

from grooming_risk.review.models import ThreadStatus

STATUS_TITLES = {
    "open": "Open (new + second review)",
    "new": "New",
    "second_review": "Second review",
    "escalated": "Escalated",
    "decided": "Decided",
    "flagged": "All flagged",
    "mine": "Held by me",
    ThreadStatus.NOT_FLAGGED.value: "Not flagged",
}

AUDIENCE_TITLES = {
    "reviewer": "For you (reviewer)",
    "platform": "Platform actions",
    "child": "For the child",
    "caregiver": "For parents and caregivers",
}

ROLE_TITLES = {"initiator": "started the chat", "second": "second participant", "other": "joined later"}


def fmt_time(value: datetime | str | None) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        value = parsed
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def fmt_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = int(value.total_seconds())
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"


def fmt_pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def category_title(name: str) -> str:
    return name.replace("_", " ")


def risk_level(flagged: bool, urgent: bool) -> str:
    """The scorer's decisions as a colour band (no threshold is applied here)."""
    if urgent:
        return "high"
    return "medium" if flagged else "low"


def risk_band(risk: float) -> str:
    """A colour band for a participant's risk, which carries no flag of its own."""
    if risk >= 0.8:
        return "high"
    return "medium" if risk >= 0.5 else "low"


def redaction_lines(length: int) -> list[int]:
    """Widths (in tenths) of the grey bars standing in for hidden text: shape only, no content."""
    per_line = 60
    full, rest = divmod(max(length, 1), per_line)
    lines = [10] * min(full, 3)
    if len(lines) < 4 and rest:
        lines.append(max(1, min(10, round(10 * rest / per_line + 0.5))))
    return lines or [2]


def sender_url(sender: str) -> str:
    """The sender page of a user-controlled id: every reserved character (`/`, `?`, `#`, spaces,
    unicode) percent-encoded, so the id is one path segment the route's path converter reads back."""
    return "/senders/" + quote(sender, safe="")


def safe_link(url: str | None) -> str | None:
    """The URL if it is an absolute http(s) link, else None: a policy file's `javascript:` or
    relative URL is shown as text, never made clickable."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("http", "https") and parts.netloc:
        return url.strip()
    return None
