"""One thread: what a reviewer sees before revealing anything, claiming and assigning, and reveal.

Workflow rules live here, not in the web handlers: a thread held by someone else cannot be claimed,
revealed or decided unless the actor is a lead (or admin), who can take it over or assign it; message
text is only returned by `reveal`, only to the thread's holder or a lead, and every reveal is audited.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation
from grooming_risk.review import audit
from grooming_risk.review.audit import AuditAction
from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.errors import (
    ConflictError,
    InvalidInputError,
    PermissionDeniedError,
)
from grooming_risk.review.models import (
    OPEN_STATUSES,
    Account,
    AssessmentRecord,
    Role,
    Thread,
    ThreadSender,
    ThreadStatus,
)
from grooming_risk.review.store.base import (
    MAX_ROW_ID,
    StoreBase,
    current_record,
    decision_views,
    load_thread,
)
from grooming_risk.review.store.senders import sender_key
from grooming_risk.review.store.signs import predicted_categories
from grooming_risk.review.store.views import (
    AssessmentSummary,
    MessageMeta,
    RevealedMessage,
    ThreadDetail,
)


def require_workable(thread: Thread, actor: AccountInfo) -> None:
    if not actor.active:
        raise PermissionDeniedError("account is disabled")
    if thread.status == ThreadStatus.NOT_FLAGGED:
        raise ConflictError(f"thread {thread.id} was not flagged; it is not in the review queue")
    if thread.status not in OPEN_STATUSES and not actor.can(Role.LEAD):
        raise ConflictError(f"thread {thread.id} is {thread.status}; only a lead can reopen it")


class ThreadsStore(StoreBase):
    def find_thread(self, ref: str) -> int | None:
        """A thread id from a conversation id, or from a numeric thread id."""
        with self.reading() as session:
            found = session.execute(
                select(Thread.id).where(Thread.conversation_id == ref)
            ).scalar_one_or_none()
            if found is None and ref.isdigit() and int(ref) <= MAX_ROW_ID:
                found = session.execute(select(Thread.id).where(Thread.id == int(ref))).scalar_one_or_none()
            return found

    def thread(self, thread_id: int) -> ThreadDetail:
        """The thread as the reviewer sees it before revealing anything: no message text."""
        with self.reading() as session:
            thread = load_thread(session, thread_id)
            record = current_record(session, thread_id)
            assessment = Assessment.model_validate_json(record.assessment_json)
            conversation = Conversation.model_validate_json(record.conversation_json)
            assignee = session.get(Account, thread.assignee_id) if thread.assignee_id else None
            evidence = {e.index: e for e in assessment.evidence}
            risks = assessment.risk_by_message
            messages = []
            for i, message in enumerate(conversation.messages):
                risk = risks[i] if i < len(risks) else None
                previous = risks[i - 1] if 0 < i <= len(risks) else 0.0
                item = evidence.get(i)
                messages.append(
                    MessageMeta(
                        index=i,
                        sender=message.sender,
                        sent_at=message.sent_at,
                        length=len(message.text),
                        risk=risk,
                        delta=None if risk is None else risk - previous,
                        evidence_score=item.score if item else None,
                        evidence_categories=list(item.categories) if item else [],
                        is_first_alert=assessment.first_alert_index == i,
                    )
                )
            history = [
                AssessmentSummary(
                    r.id, r.model_version, r.risk, r.label, r.flagged, r.received_at, r.superseded_at
                )
                for r in session.execute(
                    select(AssessmentRecord)
                    .where(AssessmentRecord.thread_id == thread_id)
                    .order_by(AssessmentRecord.id.desc())
                ).scalars()
            ]
            keys = {sender_key(s.sender): s.sender for s in assessment.senders}
            counts: dict[str, int] = {}
            if keys:
                for key, n in session.execute(
                    select(ThreadSender.sender_sha256, func.count())
                    .where(ThreadSender.sender_sha256.in_(list(keys)))
                    .group_by(ThreadSender.sender_sha256)
                ):
                    counts[keys[key]] = int(n)
            return ThreadDetail(
                thread_id=thread.id,
                conversation_id=thread.conversation_id,
                platform=thread.platform,
                language=conversation.language,
                status=thread.status,
                assignee_id=thread.assignee_id,
                assignee=assignee.username if assignee else None,
                claimed_at=thread.claimed_at,
                second_review_by=thread.second_review_by,
                queued_at=thread.queued_at,
                assessment_id=record.id,
                assessment=assessment,
                categories=predicted_categories(assessment),
                messages=messages,
                participants=[p.model_dump(mode="json") for p in conversation.participants],
                decisions=decision_views(session, thread_id),
                history=history,
                sender_conversations=counts,
            )

    # --- claims ----------------------------------------------------------------------------------

    def claim(self, thread_id: int, actor: AccountInfo, *, take_over: bool = False) -> None:
        with self.writing() as session:
            thread = load_thread(session, thread_id, lock=True)
            require_workable(thread, actor)
            previous = thread.assignee_id
            if previous == actor.id:
                return
            if previous is not None and not (take_over and actor.can(Role.LEAD)):
                holder = session.get(Account, previous)
                name = holder.username if holder else f"account {previous}"
                raise ConflictError(f"thread {thread_id} is claimed by {name}; a lead can take it over")
            now = self.now()
            thread.assignee_id = actor.id
            thread.claimed_at = now
            details: dict[str, Any] = {"assignee_id": actor.id}
            if previous is not None:
                details["took_over_from"] = previous
            audit.append(
                session,
                action=AuditAction.CLAIM,
                actor_id=actor.id,
                thread_id=thread_id,
                details=details,
                at=now,
            )

    def release(self, thread_id: int, actor: AccountInfo) -> None:
        with self.writing() as session:
            thread = load_thread(session, thread_id, lock=True)
            if thread.assignee_id is None:
                return
            if thread.assignee_id != actor.id and not actor.can(Role.LEAD):
                raise PermissionDeniedError(
                    f"thread {thread_id} is held by someone else; only a lead can release it"
                )
            previous = thread.assignee_id
            thread.assignee_id = None
            thread.claimed_at = None
            audit.append(
                session,
                action=AuditAction.RELEASE,
                actor_id=actor.id,
                thread_id=thread_id,
                details={"previous_assignee_id": previous},
            )

    def assign(self, thread_id: int, actor: AccountInfo, assignee_username: str) -> None:
        if not actor.can(Role.LEAD):
            raise PermissionDeniedError("only a lead can assign threads")
        with self.writing() as session:
            thread = load_thread(session, thread_id, lock=True)
            if thread.status == ThreadStatus.NOT_FLAGGED:
                raise ConflictError(f"thread {thread_id} was not flagged; it is not in the review queue")
            assignee = session.execute(
                select(Account).where(Account.username == assignee_username.strip().lower())
            ).scalar_one_or_none()
            if assignee is None or not assignee.active:
                raise InvalidInputError(f"assignee {assignee_username!r}: no active account with that name")
            previous = thread.assignee_id
            now = self.now()
            thread.assignee_id = assignee.id
            thread.claimed_at = now
            audit.append(
                session,
                action=AuditAction.ASSIGN,
                actor_id=actor.id,
                thread_id=thread_id,
                details={"assignee_id": assignee.id, "previous_assignee_id": previous},
                at=now,
            )

    # --- reveal ----------------------------------------------------------------------------------

    def reveal(
        self, thread_id: int, actor: AccountInfo, indices: Sequence[int] | None
    ) -> list[RevealedMessage]:
        """Message text, for the thread's holder or a lead; audited (indices only, never the text).

        `indices=None` reveals every message.
        """
        with self.writing() as session:
            thread = load_thread(session, thread_id, lock=True)
            if not actor.active:
                raise PermissionDeniedError("account is disabled")
            if thread.assignee_id != actor.id and not actor.can(Role.LEAD):
                raise PermissionDeniedError(f"claim thread {thread_id} before revealing its messages")
            record = current_record(session, thread_id)
            conversation = Conversation.model_validate_json(record.conversation_json)
            n = len(conversation.messages)
            if indices is None:
                chosen = list(range(n))
            else:
                chosen = sorted(set(indices))
                bad = [i for i in chosen if not 0 <= i < n]
                if bad:
                    raise InvalidInputError(
                        f"message index {bad[0]}: thread {thread_id} has messages 0-{n - 1}"
                    )
                if not chosen:
                    raise InvalidInputError("no message index given")
            details: dict[str, Any] = {"assessment_id": record.id}
            if indices is None:
                details.update({"all": True, "count": n})
            else:
                details["indices"] = chosen
            audit.append(
                session, action=AuditAction.REVEAL, actor_id=actor.id, thread_id=thread_id, details=details
            )
            return [RevealedMessage(i, conversation.messages[i].text) for i in chosen]
