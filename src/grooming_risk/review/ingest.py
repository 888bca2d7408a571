"""How scored conversations enter the review store.

Policy (documented in the CLI help too):
- Every given (conversation, assessment) pair is stored; only flagged ones enter the queue. An
  unflagged pair is kept so that a later flagged assessment of the same conversation, and the lead's
  counts, have it.
- Idempotent: the key is (conversation_id, sha256 of the conversation + assessment). The same pair
  twice is one row ("unchanged"). A different pair for a known conversation (rescored by a newer
  model, or the chat grew) is added as the thread's current assessment; the older one is kept,
  marked superseded, and decisions keep pointing at the assessment they were made on.
- The thread's participants (`thread_senders`, for sender profiles) are those of its current
  assessment: a newer assessment replaces them, and one without `senders` leaves none.
- A thread that was already decided stays decided when a new assessment arrives, unless the
  conversation itself changed (new messages) and the new assessment is flagged: then it goes back
  into the queue, because a reviewer has not seen those messages. A queued thread stays queued even
  if a later assessment is below the review threshold: once flagged, a person looks at it.
- Durability: each record is written in its own SAVEPOINT and committed in batches of `batch_size`
  (default 1: commit per record). A record is *acknowledged* (counted in the result, reported to
  `on_commit`) only after its batch has committed, so a crash loses nothing acknowledged, and a
  failure inside one record leaves no partial rows of it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation
from grooming_risk.io.errors import RecordError
from grooming_risk.io.readers import iter_with_errors
from grooming_risk.io.readers import read_assessments as io_read_assessments
from grooming_risk.review import audit
from grooming_risk.review.audit import AuditAction, canonical_json
from grooming_risk.review.models import (
    AssessmentRecord,
    Thread,
    ThreadCategory,
    ThreadSender,
    ThreadStatus,
)
from grooming_risk.review.store import ReviewStore, predicted_categories
from grooming_risk.review.store.senders import sender_rows

Outcome = str  # "created" | "updated" | "unchanged"


class PairError(ValueError):
    """A conversation and its assessment do not fit together; names the id and field."""

    def __init__(self, conversation_id: str, field: str, problem: str) -> None:
        super().__init__(f"conversation {conversation_id!r}: field {field}: {problem}")
        self.conversation_id = conversation_id
        self.field = field
        self.problem = problem


@dataclass
class IngestResult:
    """Counts of acknowledged (committed) records, plus every problem met."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    queued: int = 0  # of created + updated, how many are now in the queue
    errors: list[str] = field(default_factory=list)
    acknowledged: list[str] = field(default_factory=list)  # conversation ids, in commit order
    conversations_without_assessment: int = 0

    @property
    def stored(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        parts = [
            f"{self.created} new",
            f"{self.updated} updated",
            f"{self.unchanged} unchanged",
            f"{self.queued} queued for review",
        ]
        if self.conversations_without_assessment:
            parts.append(f"{self.conversations_without_assessment} conversations had no assessment")
        if self.errors:
            parts.append(f"{len(self.errors)} invalid")
        return ", ".join(parts)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_pair(conversation: Conversation, assessment: Assessment) -> None:
    cid = conversation.conversation_id
    if assessment.conversation_id != cid:
        raise PairError(cid, "conversation_id", f"assessment is for {assessment.conversation_id!r}")
    n = len(conversation.messages)
    for i, item in enumerate(assessment.evidence):
        if item.index >= n:
            raise PairError(
                cid, f"evidence[{i}].index", f"{item.index} is past the last message (index {n - 1})"
            )
    if assessment.first_alert_index is not None and assessment.first_alert_index >= n:
        raise PairError(
            cid,
            "first_alert_index",
            f"{assessment.first_alert_index} is past the last message (index {n - 1})",
        )
    for i, sender in enumerate(assessment.senders):
        for j, item in enumerate(sender.evidence):
            if item.index >= n:
                raise PairError(
                    cid,
                    f"senders[{i}].evidence[{j}].index",
                    f"{item.index} is past the last message (index {n - 1})",
                )
    if assessment.risk_by_message and len(assessment.risk_by_message) != n:
        raise PairError(
            cid,
            "risk_by_message",
            f"has {len(assessment.risk_by_message)} values for {n} messages (expected {n} or none)",
        )


def ingest_one(
    session: Session, conversation: Conversation, assessment: Assessment, now: datetime
) -> tuple[Outcome, bool]:
    """Write one pair inside the caller's transaction; return (outcome, whether it is queued now)."""
    check_pair(conversation, assessment)
    conversation_json = canonical_json(conversation.model_dump(mode="json"))
    assessment_json = canonical_json(assessment.model_dump(mode="json"))
    conversation_sha = _sha(conversation_json)
    assessment_sha = _sha(assessment_json)
    content_sha = _sha(conversation_sha + assessment_sha)

    thread = session.execute(
        select(Thread).where(Thread.conversation_id == conversation.conversation_id).with_for_update()
    ).scalar_one_or_none()
    if thread is not None:
        same = session.execute(
            select(AssessmentRecord.id).where(
                AssessmentRecord.thread_id == thread.id, AssessmentRecord.content_sha256 == content_sha
            )
        ).scalar_one_or_none()
        if same is not None:
            return "unchanged", thread.status in (ThreadStatus.NEW, ThreadStatus.SECOND_REVIEW)

    outcome: Outcome = "created" if thread is None else "updated"
    conversation_changed = True
    if thread is None:
        thread = Thread(conversation_id=conversation.conversation_id, received_at=now)
        session.add(thread)
        thread.status = ThreadStatus.NEW if assessment.flagged else ThreadStatus.NOT_FLAGGED
    else:
        current = session.execute(
            select(AssessmentRecord).where(
                AssessmentRecord.thread_id == thread.id, AssessmentRecord.superseded_at.is_(None)
            )
        ).scalar_one_or_none()
        if current is not None:
            conversation_changed = current.conversation_sha256 != conversation_sha
            current.superseded_at = now
        reopen = thread.status == ThreadStatus.NOT_FLAGGED or (
            thread.status in (ThreadStatus.DECIDED, ThreadStatus.ESCALATED) and conversation_changed
        )
        if assessment.flagged and reopen:
            thread.status = ThreadStatus.NEW

    # `flagged` means "ever flagged": a thread once queued stays visible to reviewers and in the
    # lead's figures even if a later model scores it lower.
    thread.flagged = (
        assessment.flagged if outcome == "created" else bool(thread.flagged or assessment.flagged)
    )
    thread.platform = conversation.platform
    thread.urgent = assessment.urgent
    thread.risk = assessment.risk
    thread.model_label = assessment.label.value
    thread.model_version = assessment.model_version
    thread.message_count = len(conversation.messages)
    thread.updated_at = now
    if thread.status != ThreadStatus.NOT_FLAGGED and thread.queued_at is None:
        thread.queued_at = now
    session.flush()

    record = AssessmentRecord(
        thread_id=thread.id,
        received_at=now,
        model_version=assessment.model_version,
        risk=assessment.risk,
        label=assessment.label.value,
        flagged=assessment.flagged,
        urgent=assessment.urgent,
        first_alert_index=assessment.first_alert_index,
        assessment_json=assessment_json,
        assessment_sha256=assessment_sha,
        conversation_json=conversation_json,
        conversation_sha256=conversation_sha,
        content_sha256=content_sha,
    )
    session.add(record)
    session.execute(delete(ThreadCategory).where(ThreadCategory.thread_id == thread.id))
    session.add_all(ThreadCategory(thread_id=thread.id, category=c) for c in predicted_categories(assessment))
    session.flush()
    # Participants follow the current assessment; one without `senders` (older scorers) leaves none.
    session.execute(delete(ThreadSender).where(ThreadSender.thread_id == thread.id))
    session.add_all(sender_rows(thread.id, record.id, assessment))
    session.flush()
    queued = thread.status in (ThreadStatus.NEW, ThreadStatus.SECOND_REVIEW)
    audit.append(
        session,
        action=AuditAction.INGEST,
        actor_id=None,
        thread_id=thread.id,
        details={
            "outcome": outcome,
            "assessment_id": record.id,
            "model_version": assessment.model_version[:128],
            "flagged": assessment.flagged,
            "queued": queued,
            "content_sha256": content_sha,
        },
        at=now,
    )
    return outcome, queued


def _ingest_in_savepoint(
    session: Session, conversation: Conversation, assessment: Assessment, now: datetime
) -> tuple[Outcome, bool]:
    try:
        with session.begin_nested():
            return ingest_one(session, conversation, assessment, now)
    except IntegrityError:
        # Another writer created the same thread between our lookup and insert (PostgreSQL allows
        # that race; SQLite's write lock does not). Its row is visible now: go again, once.
        with session.begin_nested():
            return ingest_one(session, conversation, assessment, now)


def _as_store(store_or_url: ReviewStore | str | None) -> tuple[ReviewStore, bool]:
    if isinstance(store_or_url, ReviewStore):
        return store_or_url, False
    return ReviewStore.open(store_or_url), True


def ingest_pairs(
    store_or_url: ReviewStore | str | None,
    pairs: Iterable[tuple[Conversation, Assessment]],
    *,
    batch_size: int = 1,
    on_commit: Callable[[list[str]], None] | None = None,
    on_error: Callable[[str], None] | None = None,
) -> IngestResult:
    """Store (conversation, assessment) pairs; the entry point for the HTTP scoring service.

    A pair that does not fit (ids differ, evidence past the last message) is reported in
    `result.errors` (and to `on_error`) and skipped; the others are stored. An exception raised by the
    `pairs` iterator itself propagates after everything before it has been committed.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    store, own = _as_store(store_or_url)
    result = IngestResult()
    pending: list[tuple[str, Outcome, bool]] = []

    def commit(session: Session) -> None:
        session.commit()
        for cid, outcome, queued in pending:
            setattr(result, outcome, getattr(result, outcome) + 1)
            result.queued += int(queued and outcome != "unchanged")
            result.acknowledged.append(cid)
        if on_commit and pending:
            on_commit([cid for cid, _, _ in pending])
        pending.clear()

    try:
        with store.write_session() as session:
            session.begin()
            try:
                for conversation, assessment in pairs:
                    try:
                        outcome, queued = _ingest_in_savepoint(session, conversation, assessment, store.now())
                    except PairError as exc:
                        result.errors.append(str(exc))
                        if on_error:
                            on_error(str(exc))
                        continue
                    pending.append((conversation.conversation_id, outcome, queued))
                    if len(pending) >= batch_size:
                        commit(session)
                        session.begin()
                commit(session)
            except BaseException:
                session.rollback()
                pending.clear()
                raise
    finally:
        if own:
            store.close()
    return result


def read_assessments(path: str | Path, errors: list[RecordError]) -> Iterator[tuple[int, Assessment]]:
    """Validated assessments with their line numbers; bad lines go to `errors`."""
    yield from io_read_assessments(path, errors.append)


def ingest_files(
    store: ReviewStore,
    assessments_path: str | Path,
    conversations_path: str | Path,
    *,
    batch_size: int = 100,
    on_error: Callable[[str], None] | None = None,
) -> IngestResult:
    """Join an assessments file and a conversations file on conversation_id and ingest the pairs.

    Assessments are read first (they are small: no text) and conversations streamed past them, so
    memory is bounded by the assessments. Every problem is reported with its file, line and field;
    an assessment without a conversation, or a conversation id given twice, is an error too.
    """
    problems: list[str] = []

    def report(problem: str) -> None:
        problems.append(problem)
        if on_error:
            on_error(problem)

    record_errors: list[RecordError] = []
    by_id: dict[str, tuple[int, Assessment]] = {}
    for line, assessment in read_assessments(assessments_path, record_errors):
        cid = assessment.conversation_id
        if cid in by_id:
            report(
                f"{assessments_path}:{line}: conversation {cid!r}: duplicate assessment (first on line {by_id[cid][0]})"
            )
            continue
        by_id[cid] = (line, assessment)
    for error in record_errors:
        report(str(error))

    unmatched_conversations = 0
    seen: set[str] = set()

    def pairs() -> Iterator[tuple[Conversation, Assessment]]:
        nonlocal unmatched_conversations
        for line, item in iter_with_errors(conversations_path):
            if not isinstance(item, Conversation):
                for error in item:
                    report(str(error))
                continue
            cid = item.conversation_id
            if cid in seen:
                report(f"{conversations_path}:{line}: conversation {cid!r}: duplicate conversation id")
                continue
            seen.add(cid)
            match = by_id.get(cid)
            if match is None:
                unmatched_conversations += 1
                continue
            yield item, match[1]

    result = ingest_pairs(store, pairs(), batch_size=batch_size, on_error=report)
    for cid, (line, _) in sorted(by_id.items(), key=lambda kv: kv[1][0]):
        if cid not in seen:
            report(
                f"{assessments_path}:{line}: conversation {cid!r}: no conversation with this id in {conversations_path}"
            )
    result.errors = problems
    result.conversations_without_assessment = unmatched_conversations
    return result


def summary_dict(result: IngestResult) -> dict[str, Any]:
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "queued": result.queued,
        "invalid": len(result.errors),
        "conversations_without_assessment": result.conversations_without_assessment,
    }


def dumps(result: IngestResult) -> str:
    return json.dumps(summary_dict(result))
