"""`grooming-risk review ...` commands, end to end on a SQLite file (and PostgreSQL where marked)."""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from typer.testing import CliRunner

from grooming_risk.cli.review import app
from tests.review.conftest import PASSWORD
from tests.review.factories import ALL_TEXT, benign_pair, grooming_pair, sextortion_pair

runner = CliRunner()


def invoke(*args: str, input: str | None = None) -> tuple[int, str]:
    result = runner.invoke(app, list(args), input=input)
    return result.exit_code, result.output


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    pairs = [grooming_pair(), sextortion_pair(), benign_pair()]
    conversations = tmp_path / "conversations.jsonl"
    assessments = tmp_path / "assessments.jsonl"
    conversations.write_text("".join(c.model_dump_json() + "\n" for c, _ in pairs), encoding="utf-8")
    assessments.write_text("".join(a.model_dump_json() + "\n" for _, a in pairs), encoding="utf-8")
    return assessments, conversations


def test_full_cli_cycle(db_url: str, files: tuple[Path, Path], tmp_path: Path) -> None:
    assessments, conversations = files
    code, out = invoke("init-db", "--db", db_url)
    assert code == 0
    assert "0001_initial" in out
    code, out = invoke("ingest", str(assessments), "--conversations", str(conversations), "--db", db_url)
    assert code == 0, out
    assert "3 new, 0 updated, 0 unchanged, 2 queued for review" in out
    code, out = invoke("ingest", str(assessments), "--conversations", str(conversations), "--db", db_url)
    assert code == 0
    assert "0 new, 0 updated, 3 unchanged" in out
    code, out = invoke(
        "add-user", "lena", "--role", "lead", "--password-stdin", "--db", db_url, input=PASSWORD + "\n"
    )
    assert code == 0
    assert "account lena" in out
    assert "role lead" in out
    code, out = invoke(
        "add-user", "lena", "--role", "lead", "--password-stdin", "--db", db_url, input=PASSWORD + "\n"
    )
    assert code == 2
    assert "already exists" in out

    case = tmp_path / "out" / "case.zip"
    code, out = invoke("export-case", "conv-sext-1", "-o", str(case), "--by", "lena", "--db", db_url)
    assert code == 0, out
    with zipfile.ZipFile(case) as archive:
        assert json.loads(archive.read("report.json"))["reporting_party"]["exported_by_account_id"] == 1
    code, out = invoke("export-case", "no-such-conversation", "-o", str(case), "--db", db_url)
    assert code == 2
    assert "no thread with conversation id" in out

    labels = tmp_path / "labels.jsonl"
    code, out = invoke("export-labels", "-o", str(labels), "--db", db_url)
    assert code == 0
    assert "0 conversations" in out
    assert Path(f"{labels}.card.json").exists()

    code, out = invoke("verify-audit", "--db", db_url)
    assert code == 0
    assert out.startswith("OK: ")
    for line in ALL_TEXT:
        if len(line) > 6:
            assert line not in out


def test_verify_audit_reports_the_tampered_entry(sqlite_url: str, files: tuple[Path, Path]) -> None:
    assessments, conversations = files
    invoke("init-db", "--db", sqlite_url)
    invoke("ingest", str(assessments), "--conversations", str(conversations), "--db", sqlite_url)
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        target = connection.execute(text("SELECT id FROM audit_log WHERE seq = 2")).scalar_one()
        connection.execute(text("UPDATE audit_log SET actor_id = 99 WHERE id = :id"), {"id": target})
    engine.dispose()
    code, out = invoke("verify-audit", "--db", sqlite_url)
    assert code == 1
    assert f"BROKEN at entry id {target} (seq 2)" in out


def test_clear_errors(tmp_path: Path, files: tuple[Path, Path]) -> None:
    assessments, conversations = files
    missing = tmp_path / "nope.db"
    code, out = invoke("verify-audit", "--db", str(missing))
    assert code == 2
    assert "no such review database" in out
    assert "init-db" in out
    assert not missing.exists()  # the check did not create an empty file

    empty = tmp_path / "empty.db"
    create_engine(f"sqlite:///{empty}").connect().close()
    empty.touch()
    code, out = invoke("verify-audit", "--db", str(empty))
    assert code == 2
    assert "not a review database" in out

    db = f"sqlite:///{tmp_path / 'r.db'}"
    invoke("init-db", "--db", db)
    code, out = invoke(
        "ingest", str(tmp_path / "missing.jsonl"), "--conversations", str(conversations), "--db", db
    )
    assert code == 2
    assert "missing.jsonl: no such file" in out

    bad = tmp_path / "bad.jsonl"
    lines = assessments.read_text().splitlines()
    bad.write_text("\n".join([lines[0], "{broken", lines[1].replace('"risk":0.97', '"risk":"high"')]) + "\n")
    code, out = invoke("ingest", str(bad), "--conversations", str(conversations), "--db", db)
    assert code == 1
    assert f"{bad}:2:" in out
    assert "invalid JSON" in out
    assert f"{bad}:3: conversation 'conv-sext-1': field risk" in out
    assert "1 new" in out

    code, out = invoke(
        "add-user", "x", "--role", "boss", "--password-stdin", "--db", db, input=PASSWORD + "\n"
    )
    assert code == 2
    assert "role 'boss'" in out
    code, out = invoke(
        "add-user", "xavier", "--role", "reviewer", "--password-stdin", "--db", db, input="short\n"
    )
    assert code == 2
    assert "at least 10" in out


def _head(db: str) -> tuple[int, str]:
    code, out = invoke("verify-audit", "--db", db)
    assert code == 0, out
    found = re.search(r"head seq (\d+) hash ([0-9a-f]{64})$", out.strip())
    assert found is not None, out
    return int(found.group(1)), found.group(2)


def test_verify_audit_checks_the_head_against_a_kept_hash(sqlite_url: str, files: tuple[Path, Path]) -> None:
    assessments, conversations = files
    code, out = invoke("init-db", "--db", sqlite_url)
    assert "applied 0001_initial, 0002_sender_profiles" in out
    assert "already current" in invoke("init-db", "--db", sqlite_url)[1]
    invoke("ingest", str(assessments), "--conversations", str(conversations), "--db", sqlite_url)
    seq, head = _head(sqlite_url)

    code, out = invoke("verify-audit", "--db", sqlite_url, "--expect-head", head.upper())
    assert code == 0
    assert out.strip().endswith("matches --expect-head")

    code, out = invoke("verify-audit", "--db", sqlite_url, "--expect-head", "ab" * 32)
    assert code == 1
    assert len(out.strip().splitlines()) == 1
    assert "not in the chain" in out

    code, out = invoke("verify-audit", "--db", sqlite_url, "--expect-head", "nothex")
    assert code == 2
    assert "64 hex digits" in out

    # The log grows: the kept hash is now an earlier entry, which the message says.
    invoke(
        "add-user", "lena", "--role", "lead", "--password-stdin", "--db", sqlite_url, input=PASSWORD + "\n"
    )
    code, out = invoke("verify-audit", "--db", sqlite_url, "--expect-head", head)
    assert code == 1
    assert f"entry seq {seq}" in out
    assert "grew" in out

    # A rebuilt chain that verifies on its own is caught only by the kept head.
    _, new_head = _head(sqlite_url)
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("DROP TRIGGER audit_log_no_update"))
        connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        connection.execute(text("DELETE FROM audit_log WHERE seq > :s"), {"s": seq})
        connection.execute(text("UPDATE audit_head SET seq = :s, hash = :h"), {"s": seq, "h": head})
    engine.dispose()
    assert invoke("verify-audit", "--db", sqlite_url)[0] == 0
    code, out = invoke("verify-audit", "--db", sqlite_url, "--expect-head", new_head)
    assert code == 1
    assert "not in the chain" in out

    # A broken chain fails whatever head is expected.
    engine = create_engine(sqlite_url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET actor_id = 99 WHERE seq = 1"))
    engine.dispose()
    code, out = invoke("verify-audit", "--db", sqlite_url, "--expect-head", head)
    assert code == 1
    assert out.startswith("BROKEN at entry")
