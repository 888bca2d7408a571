"""The store's plumbing: engine, read/write transactions, the clock, and row loaders every part uses."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, Self

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from grooming_risk.review.db import make_engine, resolve_url, session_factories
from grooming_risk.review.errors import NotFoundError
from grooming_risk.review.models import Account, AssessmentRecord, AuditEntry, Decision, DecisionKind, Thread
from grooming_risk.review.store.views import AuditView, DecisionView

# Row ids are INTEGER columns (32-bit on PostgreSQL): a larger number names no row, and binding one
# can overflow the driver, so callers check against this before asking.
MAX_ROW_ID = 2**31 - 1


class StoreBase:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._read, self._write = session_factories(engine)
        self.clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def open(cls, url: str | None = None, *, check_schema: bool = True) -> Self:
        """Open the store at `url`; by default refuse a database that is missing or not migrated."""
        from grooming_risk.review.migrations import check_current

        engine = make_engine(resolve_url(url))
        if check_schema:
            try:
                check_current(engine)
            except BaseException:
                engine.dispose()
                raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def now(self) -> datetime:
        return self.clock()

    def write_session(self) -> Session:
        """A bare write session for callers that manage their own transactions (batch ingest)."""
        return self._write()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._read() as session, session.begin():
            yield session

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One write transaction: committed when the block ends, rolled back if it raises."""
        with self._write() as session, session.begin():
            yield session


# --- row loaders shared by the store's parts ------------------------------------------------------


def load_thread(session: Session, thread_id: int, *, lock: bool = False) -> Thread:
    query = select(Thread).where(Thread.id == thread_id)
    if lock:
        query = query.with_for_update()
    thread = session.execute(query).scalar_one_or_none()
    if thread is None:
        raise NotFoundError(f"thread {thread_id} not found")
    return thread


def current_record(session: Session, thread_id: int) -> AssessmentRecord:
    record = session.execute(
        select(AssessmentRecord)
        .where(AssessmentRecord.thread_id == thread_id, AssessmentRecord.superseded_at.is_(None))
        .order_by(AssessmentRecord.id.desc())
    ).scalar()
    if record is None:
        raise NotFoundError(f"thread {thread_id}: no current assessment")
    return record


def decision_views(session: Session, thread_id: int) -> list[DecisionView]:
    rows = session.execute(
        select(Decision, Account.username)
        .join(Account, Account.id == Decision.reviewer_id)
        .where(Decision.thread_id == thread_id)
        .order_by(Decision.decided_at, Decision.id)
    ).all()
    return [decision_view(d, name) for d, name in rows]


def decision_view(d: Decision, reviewer: str) -> DecisionView:
    """A stored decision as pages show it, with the reviewer's username."""
    return DecisionView(
        id=d.id,
        decision=DecisionKind(d.decision),
        categories=list(json.loads(d.categories_json)),
        note=d.note,
        reviewer_id=d.reviewer_id,
        reviewer=reviewer,
        decided_at=d.decided_at,
        assessment_id=d.assessment_id,
    )


def audit_views(session: Session, query: Any) -> list[AuditView]:
    """`query` selects (AuditEntry, Account.username) pairs."""
    rows = session.execute(query).all()
    return [
        AuditView(
            e.id, e.seq, e.at, e.actor_id, name, e.action, e.thread_id, json.loads(e.details_json), e.hash
        )
        for e, name in rows
    ]


def audit_query() -> Any:
    return select(AuditEntry, Account.username).outerjoin(Account, Account.id == AuditEntry.actor_id)
