"""What the store returns: frozen dataclasses, never ORM objects, so callers cannot touch the database
behind the store's back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.errors import InvalidInputError
from grooming_risk.review.models import DecisionKind

QUEUE_STATUS_FILTERS = ("open", "new", "second_review", "escalated", "decided", "flagged", "mine")


# --- queue ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    category: str | None = None
    platform: str | None = None
    model_version: str | None = None
    status: str = "open"

    def __post_init__(self) -> None:
        if self.status not in QUEUE_STATUS_FILTERS:
            raise InvalidInputError(
                f"status {self.status!r}: expected one of {', '.join(QUEUE_STATUS_FILTERS)}"
            )
        if self.category and self.category not in RISK_CATEGORIES:
            raise InvalidInputError(
                f"category {self.category!r}: expected one of {', '.join(RISK_CATEGORIES)}"
            )


@dataclass(frozen=True)
class QueueRow:
    thread_id: int
    conversation_id: str
    platform: str | None
    status: str
    urgent: bool
    risk: float
    model_label: str
    model_version: str
    message_count: int
    categories: list[str]
    assignee: str | None
    assignee_id: int | None
    queued_at: datetime | None
    # The strongest 2-3 warning signs, strongest first (what tells rows apart at a glance).
    leading_categories: list[str] = field(default_factory=list)
    top_sender: str | None = None  # senders[0] of the current assessment, if it has senders
    top_sender_risk: float | None = None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class Facets:
    platforms: list[str]
    model_versions: list[str]
    categories: list[str]


# --- one thread ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageMeta:
    """Everything about a message except its text."""

    index: int
    sender: str
    sent_at: datetime | None
    length: int
    risk: float | None
    delta: float | None
    evidence_score: float | None
    evidence_categories: list[str]
    is_first_alert: bool

    @property
    def is_evidence(self) -> bool:
        return self.evidence_score is not None


@dataclass(frozen=True)
class DecisionView:
    id: int
    decision: DecisionKind
    categories: list[str]
    note: str
    reviewer_id: int
    reviewer: str
    decided_at: datetime
    assessment_id: int


@dataclass(frozen=True)
class AssessmentSummary:
    id: int
    model_version: str
    risk: float
    label: str
    flagged: bool
    received_at: datetime
    superseded_at: datetime | None


@dataclass(frozen=True)
class ThreadDetail:
    thread_id: int
    conversation_id: str
    platform: str | None
    language: str | None
    status: str
    assignee_id: int | None
    assignee: str | None
    claimed_at: datetime | None
    second_review_by: int | None
    queued_at: datetime | None
    assessment_id: int
    assessment: Assessment
    categories: list[str]
    messages: list[MessageMeta]
    participants: list[dict[str, Any]]
    decisions: list[DecisionView]
    history: list[AssessmentSummary]
    # sender id -> how many stored threads that sender takes part in (this one included).
    sender_conversations: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class RevealedMessage:
    index: int
    text: str


# --- audit ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AuditView:
    id: int
    seq: int
    at: str
    actor_id: int | None
    actor: str | None
    action: str
    thread_id: int | None
    details: dict[str, Any]
    hash: str


# --- lead dashboard ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShareRow:
    key: str
    decided: int
    confirmed: int

    @property
    def share(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


@dataclass(frozen=True)
class CategoryRow:
    category: str
    decided: int  # decided threads the model flagged with this category
    confirmed: int  # ... that the reviewer confirmed as risky
    category_kept: int  # ... where the reviewer kept this category

    @property
    def share(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None

    @property
    def kept_share(self) -> float | None:
        return self.category_kept / self.decided if self.decided else None


@dataclass(frozen=True)
class LeadStats:
    queue_open: int
    queue_new: int
    queue_second_review: int
    queue_urgent: int
    queue_claimed: int
    escalated: int
    decided: int
    not_flagged: int
    decisions_7d: int
    median_time_to_decision: timedelta | None
    oldest_open: datetime | None
    overall: ShareRow
    by_model_version: list[ShareRow] = field(default_factory=list)
    by_category: list[CategoryRow] = field(default_factory=list)


# --- accounts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    status: str  # "ok" | "bad" | "locked"
    account: AccountInfo | None = None
    token: str | None = None
    csrf: str | None = None
    retry_after_s: int | None = None  # when locked: seconds until the limit lets this try through


# --- exports -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseMaterial:
    """Everything an escalation package holds, read in one transaction."""

    thread: dict[str, Any]
    conversation: dict[str, Any]
    assessment: dict[str, Any]
    assessment_id: int
    history: list[dict[str, Any]]
    decisions: list[DecisionView]
    audit: list[AuditView]


# --- senders -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SenderThread:
    """One thread a sender takes part in, with that sender's share of its risk."""

    thread_id: int
    conversation_id: str
    platform: str | None
    status: str
    thread_risk: float
    model_label: str
    urgent: bool
    role: str
    risk: float  # the sender's own calibrated risk in this thread
    is_suspected: bool
    messages: int
    categories: list[str]
    first_sent_at: datetime | None
    last_sent_at: datetime | None
    seen_at: datetime  # first_sent_at, else when the thread was received: the timeline's x
    latest_decision: DecisionKind | None


@dataclass(frozen=True)
class SenderDecision:
    thread_id: int
    conversation_id: str
    decision: DecisionView


@dataclass(frozen=True)
class SenderProfile:
    sender: str
    threads: list[SenderThread]  # oldest first (the risk-over-time order)
    categories: dict[str, int]  # warning sign -> in how many of the threads, strongest first
    decisions: list[SenderDecision]  # newest first
    conversations: int
    suspected_in: int
    max_risk: float
    combined_risk: float  # 1 - prod(1 - r) over threads with r >= COMBINED_RISK_FLOOR
    first_seen: datetime | None
    last_seen: datetime | None


@dataclass(frozen=True)
class SenderSummary:
    sender: str
    conversations: int
    suspected_in: int
    max_risk: float
    combined_risk: float
    last_seen: datetime | None


@dataclass(frozen=True)
class SenderPage:
    rows: list[SenderSummary]
    total: int
    offset: int
    limit: int
