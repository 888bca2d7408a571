"""The audit log: every sensitive action is recorded, chained, tamper-evident and free of text."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from grooming_risk.review import audit
from grooming_risk.review.auth import AccountInfo
from grooming_risk.review.store import ReviewStore
from tests.review.factories import ALL_TEXT


def _work(store: ReviewStore, people: dict[str, AccountInfo], ids: dict[str, int]) -> None:
    store.claim(ids["groom"], people["alice"])
    store.reveal(ids["groom"], people["alice"], [2, 5])
    store.reveal(ids["groom"], people["alice"], None)
    store.decide(ids["groom"], people["alice"], "confirmed_grooming", ["age_probing"], "note text")
    store.assign(ids["sext"], people["lena"], "bob")


def _drop_append_only_triggers(store: ReviewStore) -> None:
    # What someone with DDL rights could do; the hash chain must still catch the edit.
    with store.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER audit_log_no_change ON audit_log"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))


def test_actions_are_recorded_and_the_chain_verifies(
    store: ReviewStore, people: dict[str, AccountInfo], seeded: dict[str, int]
) -> None:
    _work(store, people, seeded)
    actions = [e.action for e in store.audit_log(newest_first=False)]
    assert actions.count("ingest") == 3
    assert actions[-6:] == ["ingest", "claim", "reveal", "reveal", "decide", "assign"][-6:]
    result = store.verify_audit()
    assert result.ok
    assert result.checked == len(actions)
    reveal = [e for e in store.audit_log() if e.action == "reveal"]
    assert reveal[1].details["indices"] == [2, 5]
    assert reveal[0].details == {
        "assessment_id": reveal[0].details["assessment_id"],
        "all": True,
        "count": 10,
    }


def test_audit_entries_never_contain_message_text_or_notes(
    store: ReviewStore, people: dict[str, AccountInfo], seeded: dict[str, int]
) -> None:
    _work(store, people, seeded)
    with store.engine.connect() as connection:
        dumped = " ".join(str(row) for row in connection.execute(text("SELECT * FROM audit_log")))
    checked = [line for line in [*ALL_TEXT, "note text"] if len(line) > 6]  # "13" occurs in hashes
    assert len(checked) > 10
    for line in checked:
        assert line not in dumped


def test_database_refuses_updates_to_the_audit_log(
    store: ReviewStore, people: dict[str, AccountInfo], seeded: dict[str, int]
) -> None:
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET action = 'ingest' WHERE seq = 1"))
    with pytest.raises(DBAPIError, match="append-only"), store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE seq = 1"))


def test_tampering_via_sql_is_caught_at_the_altered_entry(
    store: ReviewStore, people: dict[str, AccountInfo], seeded: dict[str, int]
) -> None:
    _work(store, people, seeded)
    target = next(e for e in store.audit_log() if e.action == "decide")
    _drop_append_only_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(
            text("UPDATE audit_log SET details_json = :d WHERE id = :id"),
            {"d": '{"decision":"not_risky"}', "id": target.id},
        )
    result = store.verify_audit()
    assert not result.ok
    assert result.broken_entry_id == target.id
    assert "altered" in (result.problem or "")


def test_deleting_entries_is_caught(
    store: ReviewStore, people: dict[str, AccountInfo], seeded: dict[str, int]
) -> None:
    _work(store, people, seeded)
    entries = store.audit_log(newest_first=False)
    _drop_append_only_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": entries[3].id})
    result = store.verify_audit()
    assert not result.ok
    assert result.broken_entry_id == entries[4].id


def test_removing_the_newest_entry_is_caught_by_the_head(
    store: ReviewStore, people: dict[str, AccountInfo], seeded: dict[str, int]
) -> None:
    _work(store, people, seeded)
    newest = store.audit_log(limit=1)[0]
    _drop_append_only_triggers(store)
    with store.engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": newest.id})
    result = store.verify_audit()
    assert not result.ok
    assert "audit_head" in (result.problem or "")


def test_append_refuses_free_text_and_floats(store: ReviewStore) -> None:
    with store.writing() as session:
        with pytest.raises(ValueError, match="not text"):
            audit.append(session, action="reveal", actor_id=1, details={"text": "x" * 500})
        with pytest.raises(ValueError, match="float"):
            audit.append(session, action="reveal", actor_id=1, details={"risk": 0.5})


def test_chain_hash_is_sha256_of_previous_hash_and_canonical_entry() -> None:
    import hashlib

    body = audit.entry_body(1, "2025-01-01T00:00:00.000000Z", 7, "claim", 3, {"b": 1, "a": [2]})
    expected = hashlib.sha256(
        (
            "0"
            * 64
            + '{"action":"claim","actor_id":7,"at":"2025-01-01T00:00:00.000000Z","details":{"a":[2],"b":1},'
            '"seq":1,"thread_id":3}'
        ).encode()
    ).hexdigest()
    assert audit.chain_hash("0" * 64, body) == expected
