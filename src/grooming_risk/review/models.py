"""The review store's tables (SQLAlchemy 2.0 typed ORM).

Conversation text lives in exactly one column, `assessments.conversation_json`, and leaves it only
through the reveal endpoint and the two exports. Every other table holds ids, indices, scores,
hashes and reviewer-written notes.

Times are stored in UTC. The audit log keeps its own ISO-8601 timestamp string because its hash
covers that exact text, and a database's timestamp round trip must not be able to change it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

# Named constraints so that Alembic migrations (and SQLite batch rebuilds) can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

GENESIS_HASH = "0" * 64


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every back end (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the review store; use timezone-aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Role(StrEnum):
    """Reviewer < lead < admin: each role can do everything the ones before it can."""

    REVIEWER = "reviewer"
    LEAD = "lead"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


class ThreadStatus(StrEnum):
    NEW = "new"  # flagged, waiting for a first decision
    SECOND_REVIEW = "second_review"  # a reviewer asked for another pair of eyes
    ESCALATED = "escalated"  # escalated; a lead takes it from here
    DECIDED = "decided"  # confirmed grooming / sextortion, or not risky
    NOT_FLAGGED = "not_flagged"  # stored for completeness, never queued


OPEN_STATUSES = (ThreadStatus.NEW, ThreadStatus.SECOND_REVIEW)


class DecisionKind(StrEnum):
    CONFIRMED_GROOMING = "confirmed_grooming"
    CONFIRMED_SEXTORTION = "confirmed_sextortion"
    NOT_RISKY = "not_risky"
    NEEDS_SECOND_REVIEW = "needs_second_review"
    ESCALATE = "escalate"

    @property
    def display_name(self) -> str:
        return DECISION_TITLES[self]

    @property
    def confirms_risk(self) -> bool | None:
        """True if it confirms the flag, False if it rejects it, None if it leaves it open."""
        if self in (
            DecisionKind.CONFIRMED_GROOMING,
            DecisionKind.CONFIRMED_SEXTORTION,
            DecisionKind.ESCALATE,
        ):
            return True
        if self is DecisionKind.NOT_RISKY:
            return False
        return None

    @property
    def resulting_status(self) -> ThreadStatus:
        if self is DecisionKind.NEEDS_SECOND_REVIEW:
            return ThreadStatus.SECOND_REVIEW
        if self is DecisionKind.ESCALATE:
            return ThreadStatus.ESCALATED
        return ThreadStatus.DECIDED


DECISION_TITLES: dict[DecisionKind, str] = {
    DecisionKind.CONFIRMED_GROOMING: "Confirmed grooming",
    DecisionKind.CONFIRMED_SEXTORTION: "Confirmed sextortion",
    DecisionKind.NOT_RISKY: "Not risky",
    DecisionKind.NEEDS_SECOND_REVIEW: "Needs second review",
    DecisionKind.ESCALATE: "Escalate",
}


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Thread(Base):
    """One conversation under review. Queue fields are copied from its current assessment."""

    __tablename__ = "threads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(255), unique=True)
    platform: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    flagged: Mapped[bool]
    urgent: Mapped[bool]
    risk: Mapped[float] = mapped_column(Float)
    model_label: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(128), index=True)
    message_count: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # When it first entered the queue: the start of "time to decision".
    queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    second_review_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))


class AssessmentRecord(Base):
    """One (conversation, assessment) pair as received. Newer ones supersede older ones; none is deleted."""

    __tablename__ = "assessments"
    __table_args__ = (UniqueConstraint("thread_id", "content_sha256"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    model_version: Mapped[str] = mapped_column(String(128))
    risk: Mapped[float] = mapped_column(Float)
    label: Mapped[str] = mapped_column(String(16))
    flagged: Mapped[bool]
    urgent: Mapped[bool]
    first_alert_index: Mapped[int | None]
    assessment_json: Mapped[str] = mapped_column(Text)
    assessment_sha256: Mapped[str] = mapped_column(String(64))
    conversation_json: Mapped[str] = mapped_column(Text)
    conversation_sha256: Mapped[str] = mapped_column(String(64))
    # sha256 of both hashes: the idempotency key (same pair twice = one row).
    content_sha256: Mapped[str] = mapped_column(String(64))


class ThreadCategory(Base):
    """Warning signs the current assessment reports for a thread (for the queue's category filter)."""

    __tablename__ = "thread_categories"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(32), primary_key=True, index=True)


class Decision(Base):
    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    decision: Mapped[str] = mapped_column(String(32))
    # JSON list of the categories the reviewer confirmed (corrected from the model's).
    categories_json: Mapped[str] = mapped_column(Text, default="[]")
    note: Mapped[str] = mapped_column(Text, default="")
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """Append-only, hash-chained. actor_id/thread_id are plain integers: the log outlives what it names."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(unique=True)
    at: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None]
    action: Mapped[str] = mapped_column(String(32), index=True)
    thread_id: Mapped[int | None] = mapped_column(index=True)
    details_json: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """One row: the chain's last sequence number and hash. Its row lock serialises appends."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int]
    hash: Mapped[str] = mapped_column(String(64))


class WebSession(Base):
    """Server-side login sessions; the cookie holds a random token, the table only its hash."""

    __tablename__ = "web_sessions"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class LoginFailure(Base):
    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_key", "username", "ip", "at"),
        # The per-address limit counts failures across all user names.
        Index("ix_login_failures_ip", "ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class ThreadSender(Base):
    """One participant of a thread, from its current assessment's `senders` (replaced on re-ingest).

    Sender ids are free text of any length, so rows are keyed and looked up by the id's SHA-256.
    `log_complement` is ln(1 - risk) for risks that count towards a sender's combined risk (0 for
    the others), so that the senders list can rank by combined risk = 1 - prod(1 - r) in SQL, as
    an ascending sum, and page there.
    """

    __tablename__ = "thread_senders"

    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), primary_key=True)
    sender_sha256: Mapped[str] = mapped_column(String(64), primary_key=True, index=True)
    sender: Mapped[str] = mapped_column(Text)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("assessments.id"))
    rank: Mapped[int]  # position in the assessment's senders list: 0 is the riskiest
    role: Mapped[str] = mapped_column(String(16))
    risk: Mapped[float] = mapped_column(Float)
    log_complement: Mapped[float] = mapped_column(Float)
    messages: Mapped[int]
    categories_json: Mapped[str] = mapped_column(Text)
    first_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_suspected: Mapped[bool]  # rank 0 of a flagged assessment
