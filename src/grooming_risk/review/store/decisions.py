"""Reviewer decisions on a thread.

Reviewers decide open threads (new, second review); leads can also re-decide escalated or decided
ones; a second review must come from someone other than the reviewer who asked for it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.review import audit
from grooming_risk.review.audit import AuditAction
from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.errors import ConflictError, InvalidInputError, PermissionDeniedError
from grooming_risk.review.models import Decision, DecisionKind, Role, ThreadStatus
from grooming_risk.review.store.base import StoreBase, current_record, load_thread
from grooming_risk.review.store.threads import require_workable
from grooming_risk.review.store.views import DecisionView

MAX_NOTE_CHARS = 4000


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DecisionsStore(StoreBase):
    def decide(
        self,
        thread_id: int,
        actor: AccountInfo,
        decision: DecisionKind | str,
        categories: Sequence[str] = (),
        note: str = "",
    ) -> DecisionView:
        try:
            kind = DecisionKind(decision)
        except ValueError:
            allowed = ", ".join(d.value for d in DecisionKind)
            raise InvalidInputError(f"decision {decision!r}: expected one of {allowed}") from None
        unknown = [c for c in categories if c not in RISK_CATEGORIES]
        if unknown:
            raise InvalidInputError(f"category {unknown[0]!r}: expected one of {', '.join(RISK_CATEGORIES)}")
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidInputError(f"note: {len(note)} characters, more than the limit of {MAX_NOTE_CHARS}")
        chosen = [c for c in RISK_CATEGORIES if c in set(categories)]
        with self.writing() as session:
            thread = load_thread(session, thread_id, lock=True)
            require_workable(thread, actor)
            if thread.assignee_id not in (None, actor.id) and not actor.can(Role.LEAD):
                raise ConflictError(f"thread {thread_id} is claimed by someone else")
            if (
                thread.status == ThreadStatus.SECOND_REVIEW
                and thread.second_review_by == actor.id
                and not actor.can(Role.LEAD)
            ):
                raise PermissionDeniedError("a second review must come from a different reviewer")
            record = current_record(session, thread_id)
            now = self.now()
            row = Decision(
                thread_id=thread_id,
                assessment_id=record.id,
                reviewer_id=actor.id,
                decision=kind.value,
                categories_json=json.dumps(chosen),
                note=note.strip(),
                decided_at=now,
            )
            session.add(row)
            session.flush()
            thread.status = kind.resulting_status.value
            thread.second_review_by = actor.id if kind is DecisionKind.NEEDS_SECOND_REVIEW else None
            thread.assignee_id = None
            thread.claimed_at = None
            thread.updated_at = now
            details: dict[str, Any] = {
                "decision_id": row.id,
                "decision": kind.value,
                "categories": chosen,
                "assessment_id": record.id,
            }
            if row.note:
                details["note_sha256"] = sha256_text(row.note)
            audit.append(
                session,
                action=AuditAction.DECIDE,
                actor_id=actor.id,
                thread_id=thread_id,
                details=details,
                at=now,
            )
            return DecisionView(row.id, kind, chosen, row.note, actor.id, actor.username, now, record.id)
