"""What the two exports read: one thread's case material, and every decided thread for training."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import select

from grooming_risk.review.models import AssessmentRecord, AuditEntry, Decision, Thread
from grooming_risk.review.store.base import (
    StoreBase,
    audit_query,
    audit_views,
    current_record,
    decision_views,
    load_thread,
)
from grooming_risk.review.store.views import CaseMaterial, DecisionView


class ExportsStore(StoreBase):
    def case_material(self, thread_id: int) -> CaseMaterial:
        with self.reading() as session:
            thread = load_thread(session, thread_id)
            record = current_record(session, thread_id)
            history = [
                {
                    "assessment_id": r.id,
                    "received_at": r.received_at.isoformat(),
                    "superseded_at": r.superseded_at.isoformat() if r.superseded_at else None,
                    "model_version": r.model_version,
                    "assessment_sha256": r.assessment_sha256,
                    "conversation_sha256": r.conversation_sha256,
                }
                for r in session.execute(
                    select(AssessmentRecord)
                    .where(AssessmentRecord.thread_id == thread_id)
                    .order_by(AssessmentRecord.id)
                ).scalars()
            ]
            audit_rows = audit_views(
                session, audit_query().where(AuditEntry.thread_id == thread_id).order_by(AuditEntry.seq)
            )
            return CaseMaterial(
                thread={
                    "thread_id": thread.id,
                    "conversation_id": thread.conversation_id,
                    "platform": thread.platform,
                    "status": thread.status,
                    "received_at": thread.received_at.isoformat(),
                    "queued_at": thread.queued_at.isoformat() if thread.queued_at else None,
                },
                conversation=json.loads(record.conversation_json),
                assessment=json.loads(record.assessment_json),
                assessment_id=record.id,
                history=history,
                decisions=decision_views(session, thread_id),
                audit=audit_rows,
            )

    def decided_threads(self) -> Iterator[tuple[dict[str, Any], dict[str, Any], list[DecisionView], str]]:
        """(conversation, assessment decided on, decisions, status) for every thread with a decision.

        Streams in thread id order, one short read transaction per batch, so a large store is never
        held in memory at once.
        """
        last_id = 0
        while True:
            with self.reading() as session:
                threads = (
                    session.execute(
                        select(Thread)
                        .where(Thread.id > last_id, Thread.id.in_(select(Decision.thread_id)))
                        .order_by(Thread.id)
                        .limit(200)
                    )
                    .scalars()
                    .all()
                )
                if not threads:
                    return
                batch = []
                for thread in threads:
                    decisions = decision_views(session, thread.id)
                    record = session.get(AssessmentRecord, decisions[-1].assessment_id)
                    assert record is not None
                    batch.append(
                        (
                            json.loads(record.conversation_json),
                            json.loads(record.assessment_json),
                            decisions,
                            thread.status,
                        )
                    )
                last_id = threads[-1].id
            yield from batch
