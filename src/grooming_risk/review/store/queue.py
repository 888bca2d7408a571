"""The review queue: flagged threads in working order, its filters and their choices."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.taxonomy import RISK_CATEGORIES, taxonomy_order
from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.models import (
    OPEN_STATUSES,
    Account,
    AssessmentRecord,
    Thread,
    ThreadCategory,
    ThreadSender,
)
from grooming_risk.review.store.base import StoreBase
from grooming_risk.review.store.signs import leading_categories
from grooming_risk.review.store.views import Facets, QueueFilters, QueuePage, QueueRow


class QueueStore(StoreBase):
    def queue(
        self, filters: QueueFilters, *, actor: AccountInfo | None = None, limit: int = 50, offset: int = 0
    ) -> QueuePage:
        """Flagged threads, most urgent first, then highest risk, then longest waiting."""
        conditions: list[Any] = [Thread.flagged.is_(True)]
        if filters.status == "open":
            conditions.append(Thread.status.in_([s.value for s in OPEN_STATUSES]))
        elif filters.status == "mine":
            conditions.append(Thread.assignee_id == (actor.id if actor else -1))
        elif filters.status != "flagged":
            conditions.append(Thread.status == filters.status)
        if filters.platform:
            conditions.append(Thread.platform == filters.platform)
        if filters.model_version:
            conditions.append(Thread.model_version == filters.model_version)
        if filters.category:
            conditions.append(
                Thread.id.in_(
                    select(ThreadCategory.thread_id).where(ThreadCategory.category == filters.category)
                )
            )
        with self.reading() as session:
            total = session.execute(select(func.count()).select_from(Thread).where(*conditions)).scalar_one()
            rows = session.execute(
                select(Thread, Account.username)
                .outerjoin(Account, Account.id == Thread.assignee_id)
                .where(*conditions)
                .order_by(Thread.urgent.desc(), Thread.risk.desc(), Thread.queued_at.asc(), Thread.id.asc())
                .limit(limit)
                .offset(offset)
            ).all()
            ids = [t.id for t, _ in rows]
            cats: dict[int, list[str]] = {i: [] for i in ids}
            leading: dict[int, list[str]] = {}
            top: dict[int, tuple[str, float]] = {}
            if ids:
                for thread_id, category in session.execute(
                    select(ThreadCategory.thread_id, ThreadCategory.category).where(
                        ThreadCategory.thread_id.in_(ids)
                    )
                ):
                    cats[thread_id].append(category)
                # One page of assessments (ids and scores, no text) is cheap to read and tells which
                # signs drove each thread.
                for thread_id, assessment_json in session.execute(
                    select(AssessmentRecord.thread_id, AssessmentRecord.assessment_json).where(
                        AssessmentRecord.thread_id.in_(ids), AssessmentRecord.superseded_at.is_(None)
                    )
                ):
                    leading[thread_id] = leading_categories(Assessment.model_validate_json(assessment_json))
                for thread_id, sender, risk in session.execute(
                    select(ThreadSender.thread_id, ThreadSender.sender, ThreadSender.risk).where(
                        ThreadSender.thread_id.in_(ids), ThreadSender.rank == 0
                    )
                ):
                    top[thread_id] = (sender, risk)
            out = [
                QueueRow(
                    thread_id=t.id,
                    conversation_id=t.conversation_id,
                    platform=t.platform,
                    status=t.status,
                    urgent=t.urgent,
                    risk=t.risk,
                    model_label=t.model_label,
                    model_version=t.model_version,
                    message_count=t.message_count,
                    categories=taxonomy_order(cats[t.id]),
                    assignee=name,
                    assignee_id=t.assignee_id,
                    queued_at=t.queued_at,
                    leading_categories=leading.get(t.id, []),
                    top_sender=top[t.id][0] if t.id in top else None,
                    top_sender_risk=top[t.id][1] if t.id in top else None,
                )
                for t, name in rows
            ]
            return QueuePage(out, int(total), offset, limit)

    def facets(self) -> Facets:
        with self.reading() as session:
            platforms = session.execute(
                select(Thread.platform)
                .where(Thread.flagged.is_(True), Thread.platform.is_not(None))
                .distinct()
            ).scalars()
            versions = session.execute(
                select(Thread.model_version).where(Thread.flagged.is_(True)).distinct()
            ).scalars()
            return Facets(
                sorted(p for p in platforms if p), sorted(versions, reverse=True), list(RISK_CATEGORIES)
            )
