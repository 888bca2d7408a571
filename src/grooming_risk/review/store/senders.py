"""Sender profiles: one participant across every stored thread they take part in.

Rows come from each thread's current assessment (`Assessment.senders`, written by ingest). A
sender's combined risk is 1 - prod(1 - r) over their threads with r >= the profile floor, each r
counted at most 0.999 (inference/sender_profiles.py, shared with the `senders` command and the HTTP
service): the chance that at least one of those conversations is what the model thinks, if they
were independent. The floor keeps a long tail of harmless chats from adding up to a high figure.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from collections.abc import Iterable

from sqlalchemy import case, func, select

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.taxonomy import taxonomy_order
from grooming_risk.inference.sender_profiles import PROFILE_FLOOR, log_survival
from grooming_risk.review.errors import NotFoundError
from grooming_risk.review.models import Account, Decision, DecisionKind, Thread, ThreadSender
from grooming_risk.review.store.base import StoreBase, decision_view
from grooming_risk.review.store.views import (
    SenderDecision,
    SenderPage,
    SenderProfile,
    SenderSummary,
    SenderThread,
)

COMBINED_RISK_FLOOR = PROFILE_FLOOR


def sender_key(sender: str) -> str:
    """The lookup key of a sender id (ids are free text of any length)."""
    return hashlib.sha256(sender.encode("utf-8")).hexdigest()


def log_complement(risk: float) -> float:
    """ln(1 - risk) if the risk counts towards a combined risk, else 0 (stored per row, summed in SQL)."""
    return log_survival(risk)


def combined_risk(risks: Iterable[float]) -> float:
    return combined_from_log(sum(log_complement(r) for r in risks))


def combined_from_log(total: float) -> float:
    return max(0.0, min(1.0, 1.0 - math.exp(total)))


def sender_rows(thread_id: int, assessment_id: int, assessment: Assessment) -> list[ThreadSender]:
    """The `thread_senders` rows for a thread's current assessment (a repeated sender: first kept)."""
    rows: list[ThreadSender] = []
    seen: set[str] = set()
    for rank, item in enumerate(assessment.senders):
        key = sender_key(item.sender)
        if key in seen:
            continue
        seen.add(key)
        rows.append(
            ThreadSender(
                thread_id=thread_id,
                sender_sha256=key,
                sender=item.sender,
                assessment_id=assessment_id,
                rank=rank,
                role=item.role,
                risk=item.risk,
                log_complement=log_complement(item.risk),
                messages=item.messages,
                categories_json=json.dumps(taxonomy_order(set(item.categories))),
                first_sent_at=item.first_sent_at,
                last_sent_at=item.last_sent_at,
                is_suspected=rank == 0 and assessment.flagged,
            )
        )
    return rows


class SendersStore(StoreBase):
    def sender_profile(self, sender: str) -> SenderProfile:
        """Everything stored about one sender; NotFoundError if no current assessment names them."""
        with self.reading() as session:
            rows = session.execute(
                select(ThreadSender, Thread)
                .join(Thread, Thread.id == ThreadSender.thread_id)
                .where(ThreadSender.sender_sha256 == sender_key(sender))
            ).all()
            if not rows:
                # The id is not echoed: it is user-controlled and may be kilobytes long.
                raise NotFoundError("no stored thread has this sender")
            ids = [t.id for _, t in rows]
            decided = session.execute(
                select(Decision, Account.username)
                .join(Account, Account.id == Decision.reviewer_id)
                .where(Decision.thread_id.in_(ids))
                .order_by(Decision.decided_at.desc(), Decision.id.desc())
            ).all()
        conversation_of = {t.id: t.conversation_id for _, t in rows}
        decisions = [
            SenderDecision(d.thread_id, conversation_of[d.thread_id], decision_view(d, name))
            for d, name in decided
        ]
        latest: dict[int, DecisionKind] = {}
        for item in decisions:
            latest.setdefault(item.thread_id, item.decision.decision)
        threads = sorted(
            (
                SenderThread(
                    thread_id=t.id,
                    conversation_id=t.conversation_id,
                    platform=t.platform,
                    status=t.status,
                    thread_risk=t.risk,
                    model_label=t.model_label,
                    urgent=t.urgent,
                    role=s.role,
                    risk=s.risk,
                    is_suspected=s.is_suspected,
                    messages=s.messages,
                    categories=list(json.loads(s.categories_json)),
                    first_sent_at=s.first_sent_at,
                    last_sent_at=s.last_sent_at,
                    seen_at=s.first_sent_at or t.received_at,
                    latest_decision=latest.get(t.id),
                )
                for s, t in rows
            ),
            key=lambda item: (item.seen_at, item.thread_id),
        )
        counts = Counter(c for item in threads for c in item.categories)
        order = {c: i for i, c in enumerate(taxonomy_order(set(counts)))}
        categories = dict(sorted(counts.items(), key=lambda kv: (-kv[1], order[kv[0]])))
        firsts = [t.first_sent_at for t in threads if t.first_sent_at]
        lasts = [t.last_sent_at for t in threads if t.last_sent_at]
        return SenderProfile(
            sender=rows[0][0].sender,
            threads=threads,
            categories=categories,
            decisions=decisions,
            conversations=len(threads),
            suspected_in=sum(t.is_suspected for t in threads),
            max_risk=max(t.risk for t in threads),
            combined_risk=combined_risk(t.risk for t in threads),
            first_seen=min(firsts) if firsts else None,
            last_seen=max(lasts) if lasts else None,
        )

    def senders(self, *, limit: int = 50, offset: int = 0) -> SenderPage:
        """Every sender, by combined risk, then max risk, then id (highest first)."""
        log_sum = func.sum(ThreadSender.log_complement)
        max_risk = func.max(ThreadSender.risk)
        name = func.min(ThreadSender.sender)
        with self.reading() as session:
            total = session.execute(
                select(func.count(func.distinct(ThreadSender.sender_sha256)))
            ).scalar_one()
            rows = session.execute(
                select(
                    name,
                    func.count(),
                    func.sum(case((ThreadSender.is_suspected.is_(True), 1), else_=0)),
                    max_risk,
                    log_sum,
                    func.max(ThreadSender.last_sent_at),
                )
                .group_by(ThreadSender.sender_sha256)
                .order_by(log_sum.asc(), max_risk.desc(), name.asc())
                .limit(limit)
                .offset(offset)
            ).all()
        out = [
            SenderSummary(
                sender=sender,
                conversations=int(n),
                suspected_in=int(suspected or 0),
                max_risk=float(top),
                combined_risk=combined_from_log(float(total_log or 0.0)),
                last_seen=last,
            )
            for sender, n, suspected, top, total_log, last in rows
        ]
        return SenderPage(out, int(total), offset, limit)
