"""The lead dashboard's figures: queue health and how often reviewers confirm the model's flags."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.review.models import (
    OPEN_STATUSES,
    AssessmentRecord,
    Decision,
    DecisionKind,
    Thread,
    ThreadStatus,
)
from grooming_risk.review.store.base import StoreBase
from grooming_risk.review.store.signs import predicted_categories
from grooming_risk.review.store.views import CategoryRow, LeadStats, ShareRow


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    seconds = statistics.median(v.total_seconds() for v in values)
    return timedelta(seconds=seconds)


class StatsStore(StoreBase):
    def lead_stats(self) -> LeadStats:
        """Queue health and how often reviewers confirm the model's flags (per model version, category).

        A thread's outcome is its latest decision other than "needs second review"; "escalate" counts
        as confirmed. Time to decision runs from when the thread entered the queue to its first such
        decision.
        """
        now = self.now()
        with self.reading() as session:
            counts = dict(
                session.execute(
                    select(Thread.status, func.count())
                    .where(Thread.flagged.is_(True))
                    .group_by(Thread.status)
                ).all()
            )
            open_filter = (Thread.flagged.is_(True), Thread.status.in_([s.value for s in OPEN_STATUSES]))
            urgent = session.execute(
                select(func.count()).select_from(Thread).where(*open_filter, Thread.urgent.is_(True))
            ).scalar_one()
            claimed = session.execute(
                select(func.count()).select_from(Thread).where(*open_filter, Thread.assignee_id.is_not(None))
            ).scalar_one()
            oldest = session.execute(select(func.min(Thread.queued_at)).where(*open_filter)).scalar_one()
            not_flagged = session.execute(
                select(func.count()).select_from(Thread).where(Thread.flagged.is_(False))
            ).scalar_one()
            rows = session.execute(
                select(
                    Decision.thread_id,
                    Decision.decision,
                    Decision.decided_at,
                    Decision.categories_json,
                    AssessmentRecord.model_version,
                    AssessmentRecord.assessment_json,
                    Thread.queued_at,
                )
                .join(AssessmentRecord, AssessmentRecord.id == Decision.assessment_id)
                .join(Thread, Thread.id == Decision.thread_id)
                .order_by(Decision.decided_at, Decision.id)
            ).all()
        first_final: dict[int, timedelta] = {}
        final: dict[int, Any] = {}
        decisions_7d = 0
        for row in rows:
            if row.decided_at >= now - timedelta(days=7):
                decisions_7d += 1
            if DecisionKind(row.decision).confirms_risk is None:
                continue
            final[row.thread_id] = row
            if row.thread_id not in first_final and row.queued_at is not None:
                first_final[row.thread_id] = row.decided_at - row.queued_at
        by_version: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        by_category: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
        for row in final.values():
            confirmed = bool(DecisionKind(row.decision).confirms_risk)
            by_version[row.model_version][0] += 1
            by_version[row.model_version][1] += int(confirmed)
            kept = set(json.loads(row.categories_json))
            for category in predicted_categories(Assessment.model_validate_json(row.assessment_json)):
                cell = by_category[category]
                cell[0] += 1
                cell[1] += int(confirmed)
                cell[2] += int(confirmed and category in kept)
        total_decided = sum(v[0] for v in by_version.values())
        total_confirmed = sum(v[1] for v in by_version.values())
        durations = sorted(first_final.values())
        return LeadStats(
            queue_open=int(counts.get(ThreadStatus.NEW, 0) + counts.get(ThreadStatus.SECOND_REVIEW, 0)),
            queue_new=int(counts.get(ThreadStatus.NEW, 0)),
            queue_second_review=int(counts.get(ThreadStatus.SECOND_REVIEW, 0)),
            queue_urgent=int(urgent),
            queue_claimed=int(claimed),
            escalated=int(counts.get(ThreadStatus.ESCALATED, 0)),
            decided=int(counts.get(ThreadStatus.DECIDED, 0)),
            not_flagged=int(not_flagged),
            decisions_7d=decisions_7d,
            median_time_to_decision=_median(durations),
            oldest_open=oldest,
            overall=ShareRow("all", total_decided, total_confirmed),
            by_model_version=[ShareRow(k, v[0], v[1]) for k, v in sorted(by_version.items(), reverse=True)],
            by_category=[CategoryRow(c, *by_category[c]) for c in RISK_CATEGORIES if c in by_category],
        )
