"""`ReviewStore`: every read and write the web app and the CLI make on the review database.

Each method is one transaction and returns plain frozen dataclasses, never ORM objects, so callers
cannot touch the database behind the store's back. Writes that change a thread lock its row first
(SELECT ... FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite) and append their audit entry in the
same transaction: a change is committed together with its audit entry, or neither is.

Workflow rules (enforced here, not in the web handlers):
- a reviewer works a thread by claiming it; a thread held by someone else cannot be claimed, revealed
  or decided unless the actor is a lead (or admin), who can take it over or assign it;
- reviewers decide open threads (new, second review); leads can also re-decide escalated or decided
  ones; a second review must come from someone other than the reviewer who asked for it;
- message text is only returned by `reveal`, only to the thread's holder or a lead, and every reveal
  is audited.
"""

from __future__ import annotations

import hashlib
import json
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation
from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.review import audit, auth
from grooming_risk.review.audit import AuditAction
from grooming_risk.review.auth import AccountInfo, AuthError, RateLimit
from grooming_risk.review.db import make_engine, resolve_url, session_factories
from grooming_risk.review.errors import (
    ConflictError,
    InvalidInputError,
    NotFoundError,
    PermissionDeniedError,
)
from grooming_risk.review.models import (
    OPEN_STATUSES,
    Account,
    AssessmentRecord,
    AuditEntry,
    Decision,
    DecisionKind,
    Role,
    Thread,
    ThreadCategory,
    ThreadStatus,
)

MAX_NOTE_CHARS = 4000
QUEUE_STATUS_FILTERS = ("open", "new", "second_review", "escalated", "decided", "flagged", "mine")


def predicted_categories(assessment: Assessment) -> list[str]:
    """Warning signs an assessment reports: those the scorer decided present, and any named on an
    evidence message."""
    found = set(assessment.categories_present)
    for item in assessment.evidence:
        found.update(item.categories)
    known = [c for c in RISK_CATEGORIES if c in found]
    return known + sorted(found - set(known))


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    seconds = statistics.median(v.total_seconds() for v in values)
    return timedelta(seconds=seconds)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --- views returned to callers -------------------------------------------------------------------


@dataclass(frozen=True)
class QueueFilters:
    category: str | None = None
    platform: str | None = None
    model_version: str | None = None
    status: str = "open"

    def __post_init__(self) -> None:
        if self.status not in QUEUE_STATUS_FILTERS:
            raise InvalidInputError(
                f"status {self.status!r}: expected one of {', '.join(QUEUE_STATUS_FILTERS)}"
            )
        if self.category and self.category not in RISK_CATEGORIES:
            raise InvalidInputError(
                f"category {self.category!r}: expected one of {', '.join(RISK_CATEGORIES)}"
            )


@dataclass(frozen=True)
class QueueRow:
    thread_id: int
    conversation_id: str
    platform: str | None
    status: str
    urgent: bool
    risk: float
    model_label: str
    model_version: str
    message_count: int
    categories: list[str]
    assignee: str | None
    assignee_id: int | None
    queued_at: datetime | None


@dataclass(frozen=True)
class QueuePage:
    rows: list[QueueRow]
    total: int
    offset: int
    limit: int


@dataclass(frozen=True)
class Facets:
    platforms: list[str]
    model_versions: list[str]
    categories: list[str]


@dataclass(frozen=True)
class MessageMeta:
    """Everything about a message except its text."""

    index: int
    sender: str
    sent_at: datetime | None
    length: int
    risk: float | None
    delta: float | None
    evidence_score: float | None
    evidence_categories: list[str]
    is_first_alert: bool

    @property
    def is_evidence(self) -> bool:
        return self.evidence_score is not None


@dataclass(frozen=True)
class DecisionView:
    id: int
    decision: DecisionKind
    categories: list[str]
    note: str
    reviewer_id: int
    reviewer: str
    decided_at: datetime
    assessment_id: int


@dataclass(frozen=True)
class AssessmentSummary:
    id: int
    model_version: str
    risk: float
    label: str
    flagged: bool
    received_at: datetime
    superseded_at: datetime | None


@dataclass(frozen=True)
class ThreadDetail:
    thread_id: int
    conversation_id: str
    platform: str | None
    language: str | None
    status: str
    assignee_id: int | None
    assignee: str | None
    claimed_at: datetime | None
    second_review_by: int | None
    queued_at: datetime | None
    assessment_id: int
    assessment: Assessment
    categories: list[str]
    messages: list[MessageMeta]
    participants: list[dict[str, Any]]
    decisions: list[DecisionView]
    history: list[AssessmentSummary]


@dataclass(frozen=True)
class RevealedMessage:
    index: int
    text: str


@dataclass(frozen=True)
class AuditView:
    id: int
    seq: int
    at: str
    actor_id: int | None
    actor: str | None
    action: str
    thread_id: int | None
    details: dict[str, Any]
    hash: str


@dataclass(frozen=True)
class ShareRow:
    key: str
    decided: int
    confirmed: int

    @property
    def share(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None


@dataclass(frozen=True)
class CategoryRow:
    category: str
    decided: int  # decided threads the model flagged with this category
    confirmed: int  # ... that the reviewer confirmed as risky
    category_kept: int  # ... where the reviewer kept this category

    @property
    def share(self) -> float | None:
        return self.confirmed / self.decided if self.decided else None

    @property
    def kept_share(self) -> float | None:
        return self.category_kept / self.decided if self.decided else None


@dataclass(frozen=True)
class LeadStats:
    queue_open: int
    queue_new: int
    queue_second_review: int
    queue_urgent: int
    queue_claimed: int
    escalated: int
    decided: int
    not_flagged: int
    decisions_7d: int
    median_time_to_decision: timedelta | None
    oldest_open: datetime | None
    overall: ShareRow
    by_model_version: list[ShareRow] = field(default_factory=list)
    by_category: list[CategoryRow] = field(default_factory=list)


@dataclass(frozen=True)
class LoginResult:
    status: str  # "ok" | "bad" | "locked"
    account: AccountInfo | None = None
    token: str | None = None
    csrf: str | None = None


@dataclass(frozen=True)
class CaseMaterial:
    """Everything an escalation package holds, read in one transaction."""

    thread: dict[str, Any]
    conversation: dict[str, Any]
    assessment: dict[str, Any]
    assessment_id: int
    history: list[dict[str, Any]]
    decisions: list[DecisionView]
    audit: list[AuditView]


# --- the store -----------------------------------------------------------------------------------


class ReviewStore:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] | None = None) -> None:
        self.engine = engine
        self._read, self._write = session_factories(engine)
        self.clock = clock or (lambda: datetime.now(UTC))

    @classmethod
    def open(cls, url: str | None = None, *, check_schema: bool = True) -> ReviewStore:
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

    # --- accounts --------------------------------------------------------------------------------

    def add_account(self, username: str, role: str, password: str, *, replace: bool = False) -> AccountInfo:
        name = auth.normalize_username(username)
        parsed_role = auth.parse_role(role)
        auth.check_password_strength(password)
        password_hash = auth.hash_password(password)
        with self.writing() as session:
            existing = session.execute(select(Account).where(Account.username == name)).scalar_one_or_none()
            if existing is not None and not replace:
                raise AuthError(f"user {name!r} already exists; use --update to change its role or password")
            if existing is None:
                account = Account(
                    username=name, role=parsed_role.value, password_hash=password_hash, created_at=self.now()
                )
                session.add(account)
                session.flush()
                action = AuditAction.ACCOUNT_CREATED
            else:
                account = existing
                account.role = parsed_role.value
                account.password_hash = password_hash
                account.active = True
                action = AuditAction.ACCOUNT_UPDATED
            audit.append(
                session,
                action=action,
                actor_id=None,
                details={"account_id": account.id, "role": account.role},
            )
            return AccountInfo.of(account)

    def account(self, account_id: int) -> AccountInfo | None:
        with self.reading() as session:
            account = session.get(Account, account_id)
            return AccountInfo.of(account) if account else None

    def account_by_name(self, username: str) -> AccountInfo | None:
        with self.reading() as session:
            account = session.execute(
                select(Account).where(Account.username == username.strip().lower())
            ).scalar_one_or_none()
            return AccountInfo.of(account) if account else None

    def accounts(self) -> list[AccountInfo]:
        with self.reading() as session:
            return [
                AccountInfo.of(a)
                for a in session.execute(select(Account).order_by(Account.username)).scalars()
            ]

    # --- login sessions --------------------------------------------------------------------------

    def login(self, username: str, password: str, ip: str, limit: RateLimit, ttl: timedelta) -> LoginResult:
        key = username.strip().lower()[:64]
        now = self.now()
        with self.writing() as session:
            if auth.is_locked_out(session, key, ip, now, limit):
                return LoginResult("locked")
            account = auth.authenticate(session, username, password)
            if account is None:
                auth.record_failure(session, key, ip, now, limit)
                return LoginResult("bad")
            auth.clear_failures(session, key, ip)
            token, csrf = auth.new_session(session, account.id, now, ttl)
            audit.append(session, action=AuditAction.LOGIN, actor_id=account.id, at=now)
            return LoginResult("ok", AccountInfo.of(account), token, csrf)

    def session_account(self, token: str) -> tuple[AccountInfo, str] | None:
        with self.reading() as session:
            return auth.session_account(session, token, self.now())

    def logout(self, token: str) -> None:
        with self.writing() as session:
            auth.end_session(session, token)

    # --- queue -----------------------------------------------------------------------------------

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
            cats: dict[int, list[str]] = defaultdict(list)
            if ids:
                for thread_id, category in session.execute(
                    select(ThreadCategory.thread_id, ThreadCategory.category).where(
                        ThreadCategory.thread_id.in_(ids)
                    )
                ):
                    cats[thread_id].append(category)
            order = {c: i for i, c in enumerate(RISK_CATEGORIES)}
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
                    categories=sorted(cats[t.id], key=lambda c: order.get(c, 99)),
                    assignee=name,
                    assignee_id=t.assignee_id,
                    queued_at=t.queued_at,
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

    # --- one thread ------------------------------------------------------------------------------

    def find_thread(self, ref: str) -> int | None:
        """A thread id from a conversation id, or from a numeric thread id."""
        with self.reading() as session:
            found = session.execute(
                select(Thread.id).where(Thread.conversation_id == ref)
            ).scalar_one_or_none()
            if found is None and ref.isdigit():
                found = session.execute(select(Thread.id).where(Thread.id == int(ref))).scalar_one_or_none()
            return found

    @staticmethod
    def _current(session: Session, thread_id: int) -> AssessmentRecord:
        record = session.execute(
            select(AssessmentRecord)
            .where(AssessmentRecord.thread_id == thread_id, AssessmentRecord.superseded_at.is_(None))
            .order_by(AssessmentRecord.id.desc())
        ).scalar()
        if record is None:
            raise NotFoundError(f"thread {thread_id}: no current assessment")
        return record

    @staticmethod
    def _thread(session: Session, thread_id: int, *, lock: bool = False) -> Thread:
        query = select(Thread).where(Thread.id == thread_id)
        if lock:
            query = query.with_for_update()
        thread = session.execute(query).scalar_one_or_none()
        if thread is None:
            raise NotFoundError(f"thread {thread_id} not found")
        return thread

    @staticmethod
    def _decision_views(session: Session, thread_id: int) -> list[DecisionView]:
        rows = session.execute(
            select(Decision, Account.username)
            .join(Account, Account.id == Decision.reviewer_id)
            .where(Decision.thread_id == thread_id)
            .order_by(Decision.decided_at, Decision.id)
        ).all()
        return [
            DecisionView(
                id=d.id,
                decision=DecisionKind(d.decision),
                categories=list(json.loads(d.categories_json)),
                note=d.note,
                reviewer_id=d.reviewer_id,
                reviewer=name,
                decided_at=d.decided_at,
                assessment_id=d.assessment_id,
            )
            for d, name in rows
        ]

    def thread(self, thread_id: int) -> ThreadDetail:
        """The thread as the reviewer sees it before revealing anything: no message text."""
        with self.reading() as session:
            thread = self._thread(session, thread_id)
            record = self._current(session, thread_id)
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
                decisions=self._decision_views(session, thread_id),
                history=history,
            )

    # --- claims ----------------------------------------------------------------------------------

    @staticmethod
    def _require_workable(thread: Thread, actor: AccountInfo) -> None:
        if not actor.active:
            raise PermissionDeniedError("account is disabled")
        if thread.status == ThreadStatus.NOT_FLAGGED:
            raise ConflictError(f"thread {thread.id} was not flagged; it is not in the review queue")
        if thread.status not in OPEN_STATUSES and not actor.can(Role.LEAD):
            raise ConflictError(f"thread {thread.id} is {thread.status}; only a lead can reopen it")

    def claim(self, thread_id: int, actor: AccountInfo, *, take_over: bool = False) -> None:
        with self.writing() as session:
            thread = self._thread(session, thread_id, lock=True)
            self._require_workable(thread, actor)
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
            thread = self._thread(session, thread_id, lock=True)
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
            thread = self._thread(session, thread_id, lock=True)
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
            thread = self._thread(session, thread_id, lock=True)
            if not actor.active:
                raise PermissionDeniedError("account is disabled")
            if thread.assignee_id != actor.id and not actor.can(Role.LEAD):
                raise PermissionDeniedError(f"claim thread {thread_id} before revealing its messages")
            record = self._current(session, thread_id)
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

    # --- decisions -------------------------------------------------------------------------------

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
            thread = self._thread(session, thread_id, lock=True)
            self._require_workable(thread, actor)
            if thread.assignee_id not in (None, actor.id) and not actor.can(Role.LEAD):
                raise ConflictError(f"thread {thread_id} is claimed by someone else")
            if (
                thread.status == ThreadStatus.SECOND_REVIEW
                and thread.second_review_by == actor.id
                and not actor.can(Role.LEAD)
            ):
                raise PermissionDeniedError("a second review must come from a different reviewer")
            record = self._current(session, thread_id)
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

    # --- audit -----------------------------------------------------------------------------------

    @staticmethod
    def _audit_views(session: Session, query: Any) -> list[AuditView]:
        rows = session.execute(query).all()
        return [
            AuditView(
                e.id, e.seq, e.at, e.actor_id, name, e.action, e.thread_id, json.loads(e.details_json), e.hash
            )
            for e, name in rows
        ]

    def audit_log(
        self, *, thread_id: int | None = None, limit: int = 100, offset: int = 0, newest_first: bool = True
    ) -> list[AuditView]:
        query = select(AuditEntry, Account.username).outerjoin(Account, Account.id == AuditEntry.actor_id)
        if thread_id is not None:
            query = query.where(AuditEntry.thread_id == thread_id)
        query = query.order_by(AuditEntry.seq.desc() if newest_first else AuditEntry.seq.asc())
        with self.reading() as session:
            return self._audit_views(session, query.limit(limit).offset(offset))

    def audit_count(self) -> int:
        with self.reading() as session:
            return int(session.execute(select(func.count()).select_from(AuditEntry)).scalar_one())

    def verify_audit(self) -> audit.VerifyResult:
        with self.reading() as session:
            return audit.verify(session)

    # --- exports ---------------------------------------------------------------------------------

    def case_material(self, thread_id: int) -> CaseMaterial:
        with self.reading() as session:
            thread = self._thread(session, thread_id)
            record = self._current(session, thread_id)
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
            audit_rows = self._audit_views(
                session,
                select(AuditEntry, Account.username)
                .outerjoin(Account, Account.id == AuditEntry.actor_id)
                .where(AuditEntry.thread_id == thread_id)
                .order_by(AuditEntry.seq),
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
                decisions=self._decision_views(session, thread_id),
                audit=audit_rows,
            )

    def record_export(
        self, action: AuditAction, actor_id: int | None, thread_id: int | None, details: dict[str, Any]
    ) -> None:
        with self.writing() as session:
            audit.append(session, action=action, actor_id=actor_id, thread_id=thread_id, details=details)

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
                    decisions = self._decision_views(session, thread.id)
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

    # --- lead dashboard --------------------------------------------------------------------------

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
