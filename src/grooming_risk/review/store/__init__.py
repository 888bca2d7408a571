"""`ReviewStore`: every read and write the web app and the CLI make on the review database.

Each method is one transaction and returns plain frozen dataclasses (`views`), never ORM objects.
Writes that change a thread lock its row first (SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE
on SQLite) and append their audit entry in the same transaction: a change is committed together with
its audit entry, or neither is.

The store is assembled from one part per concern, each in its own module:
- `accounts`: accounts, sign-in (both login limits), web sessions;
- `queue`: the review queue and its filters;
- `threads`: one thread's detail, claims and assignment, reveal;
- `decisions`: reviewer decisions and the workflow rules around them;
- `audit_trail`: reading and verifying the audit log;
- `exports`: what the case and label exports read;
- `stats`: the lead dashboard's figures;
- `senders`: sender profiles and the ranked senders list.
"""

from __future__ import annotations

from grooming_risk.review.store.accounts import AccountsStore
from grooming_risk.review.store.audit_trail import AuditTrailStore
from grooming_risk.review.store.decisions import MAX_NOTE_CHARS, DecisionsStore, sha256_text
from grooming_risk.review.store.exports import ExportsStore
from grooming_risk.review.store.queue import QueueStore
from grooming_risk.review.store.senders import COMBINED_RISK_FLOOR, SendersStore, sender_key
from grooming_risk.review.store.signs import leading_categories, predicted_categories
from grooming_risk.review.store.stats import StatsStore
from grooming_risk.review.store.threads import ThreadsStore
from grooming_risk.review.store.views import (
    QUEUE_STATUS_FILTERS,
    AssessmentSummary,
    AuditView,
    CaseMaterial,
    CategoryRow,
    DecisionView,
    Facets,
    LeadStats,
    LoginResult,
    MessageMeta,
    QueueFilters,
    QueuePage,
    QueueRow,
    RevealedMessage,
    SenderDecision,
    SenderPage,
    SenderProfile,
    SenderSummary,
    SenderThread,
    ShareRow,
    ThreadDetail,
)


class ReviewStore(
    AccountsStore,
    QueueStore,
    ThreadsStore,
    DecisionsStore,
    AuditTrailStore,
    ExportsStore,
    StatsStore,
    SendersStore,
):
    """The one object callers hold; see the module docstring for where each method lives."""


__all__ = [
    "COMBINED_RISK_FLOOR",
    "MAX_NOTE_CHARS",
    "QUEUE_STATUS_FILTERS",
    "AssessmentSummary",
    "AuditView",
    "CaseMaterial",
    "CategoryRow",
    "DecisionView",
    "Facets",
    "LeadStats",
    "LoginResult",
    "MessageMeta",
    "QueueFilters",
    "QueuePage",
    "QueueRow",
    "RevealedMessage",
    "ReviewStore",
    "SenderDecision",
    "SenderPage",
    "SenderProfile",
    "SenderSummary",
    "SenderThread",
    "ShareRow",
    "ThreadDetail",
    "leading_categories",
    "predicted_categories",
    "sender_key",
    "sha256_text",
]
