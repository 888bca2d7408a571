"""The audit log: append-only and hash-chained, so that an edit, a deletion or a truncation shows.

Each entry's hash is sha256(previous entry's hash + canonical JSON of the entry), where the entry is
{seq, at, actor_id, action, thread_id, details} and canonical JSON has sorted keys and no spaces.
`audit_head` holds the last seq and hash; appending locks that row first, so concurrent writers form
one chain, and verification compares the head with the last entry, so deleting the newest entries is
caught too. The database also refuses UPDATE/DELETE on the table (triggers, see the migration).

Entries never hold conversation text: only ids, message indices, account ids, decision names,
category names, counts and hashes. `append` refuses long free-text strings to keep it that way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from grooming_risk.review.models import GENESIS_HASH, AuditEntry, AuditHead

# Long enough for sha256 hex, file names, category lists; too short to smuggle a message into.
MAX_DETAIL_STRING = 128
VERIFY_BATCH = 1000


class AuditAction(StrEnum):
    INGEST = "ingest"
    CLAIM = "claim"
    RELEASE = "release"
    ASSIGN = "assign"
    REVEAL = "reveal"
    DECIDE = "decide"
    EXPORT_CASE = "export_case"
    EXPORT_LABELS = "export_labels"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    ACCOUNT_CREATED = "account_created"
    ACCOUNT_UPDATED = "account_updated"


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def entry_body(
    seq: int, at: str, actor_id: int | None, action: str, thread_id: int | None, details: dict[str, Any]
) -> dict[str, Any]:
    return {
        "seq": seq,
        "at": at,
        "actor_id": actor_id,
        "action": action,
        "thread_id": thread_id,
        "details": details,
    }


def chain_hash(prev_hash: str, body: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(body)).encode("utf-8")).hexdigest()


def _check_details(value: Any, path: str = "details") -> None:
    if isinstance(value, str):
        if len(value) > MAX_DETAIL_STRING:
            raise ValueError(
                f"audit {path}: string of {len(value)} characters; audit entries hold ids, not text"
            )
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_details(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _check_details(item, f"{path}[{i}]")
    elif not (value is None or isinstance(value, bool | int)):
        # Floats are left out on purpose: their text form is the one thing that could differ
        # between the JSON we hash and the JSON we read back.
        raise ValueError(
            f"audit {path}: {type(value).__name__} is not allowed (use int, bool, str, list, dict)"
        )


def timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def append(
    session: Session,
    *,
    action: AuditAction | str,
    actor_id: int | None,
    thread_id: int | None = None,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    """Add one entry inside the caller's transaction (it is committed, or not, with the change it records)."""
    details = dict(details or {})
    _check_details(details)
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one()
    seq = head.seq + 1
    stamp = timestamp(at or datetime.now(UTC))
    body = entry_body(seq, stamp, actor_id, str(action), thread_id, details)
    digest = chain_hash(head.hash, body)
    entry = AuditEntry(
        seq=seq,
        at=stamp,
        actor_id=actor_id,
        action=str(action),
        thread_id=thread_id,
        details_json=canonical_json(details),
        prev_hash=head.hash,
        hash=digest,
    )
    session.add(entry)
    head.seq = seq
    head.hash = digest
    session.flush()
    return entry


@dataclass(frozen=True)
class VerifyResult:
    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    broken_entry_id: int | None = None
    broken_seq: int | None = None
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"OK: {self.checked} audit entries, chain intact; head seq {self.head_seq} hash {self.head_hash}"
        where = f"entry id {self.broken_entry_id} (seq {self.broken_seq})" if self.broken_entry_id else "head"
        return f"BROKEN at {where}: {self.problem} ({self.checked} entries checked before it)"


def _entry_problem(entry: AuditEntry, expected_seq: int, prev_hash: str) -> str | None:
    if entry.seq != expected_seq:
        return f"sequence jumps from {expected_seq - 1} to {entry.seq} (entries deleted)"
    if entry.prev_hash != prev_hash:
        return "prev_hash does not match the previous entry's hash"
    try:
        details = json.loads(entry.details_json)
    except json.JSONDecodeError:
        return "details are not valid JSON"
    body = entry_body(entry.seq, entry.at, entry.actor_id, entry.action, entry.thread_id, details)
    if chain_hash(prev_hash, body) != entry.hash:
        return "hash does not match the entry's contents (entry altered)"
    return None


def verify(session: Session) -> VerifyResult:
    """Walk the chain in seq order and report the first entry that does not link or hash correctly."""
    head = session.execute(select(AuditHead).where(AuditHead.id == 1)).scalar_one_or_none()
    if head is None:
        return VerifyResult(False, 0, 0, "", problem="audit_head row is missing")
    prev_hash = GENESIS_HASH
    expected_seq = 1
    checked = 0
    last_id = 0
    while True:
        batch = (
            session.execute(
                select(AuditEntry)
                .where(AuditEntry.seq >= expected_seq)
                .order_by(AuditEntry.seq)
                .limit(VERIFY_BATCH)
            )
            .scalars()
            .all()
        )
        if not batch:
            break
        for entry in batch:
            problem = _entry_problem(entry, expected_seq, prev_hash)
            if problem is not None:
                return VerifyResult(False, checked, head.seq, head.hash, entry.id, entry.seq, problem)
            prev_hash = entry.hash
            expected_seq += 1
            checked += 1
            last_id = entry.id
        session.expunge_all()
    if head.seq != checked or head.hash != prev_hash:
        return VerifyResult(
            False,
            checked,
            head.seq,
            head.hash,
            last_id or None,
            checked or None,
            f"audit_head says seq {head.seq} but the chain ends at seq {checked} (entries removed or head altered)",
        )
    return VerifyResult(True, checked, head.seq, head.hash)
