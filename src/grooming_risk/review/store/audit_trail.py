"""Reading and checking the audit log, and recording exports in it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from grooming_risk.review import audit
from grooming_risk.review.audit import AuditAction
from grooming_risk.review.models import AuditEntry
from grooming_risk.review.store.base import StoreBase, audit_query, audit_views
from grooming_risk.review.store.views import AuditView


class AuditTrailStore(StoreBase):
    def audit_log(
        self, *, thread_id: int | None = None, limit: int = 100, offset: int = 0, newest_first: bool = True
    ) -> list[AuditView]:
        query = audit_query()
        if thread_id is not None:
            query = query.where(AuditEntry.thread_id == thread_id)
        query = query.order_by(AuditEntry.seq.desc() if newest_first else AuditEntry.seq.asc())
        with self.reading() as session:
            return audit_views(session, query.limit(limit).offset(offset))

    def audit_count(self) -> int:
        with self.reading() as session:
            return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())

    def verify_audit(self) -> audit.VerifyResult:
        with self.reading() as session:
            return audit.verify(session)

    def audit_seq_of_hash(self, digest: str) -> int | None:
        """The seq of the entry whose hash is `digest`, if the chain holds one (for --expect-head)."""
        with self.reading() as session:
            found = session.execute(
                select(AuditEntry.seq)
                .where(AuditEntry.hash == digest.strip().lower())
                .order_by(AuditEntry.seq)
                .limit(1)
            ).scalar()
            return int(found) if found is not None else None

    def record_export(
        self, action: AuditAction, actor_id: int | None, thread_id: int | None, details: dict[str, Any]
    ) -> None:
        with self.writing() as session:
            audit.append(session, action=action, actor_id=actor_id, thread_id=thread_id, details=details)
