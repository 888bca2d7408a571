"""Batch scoring never loses a valid record: bad lines cost only themselves, output lands whole."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from grooming_risk.cli.main import app
from tests.conftest import toy_conversations

VALID = [c.model_dump_json() for c in toy_conversations(copies=3)]  # unique ids
DEEP = "[" * 100_000 + "]" * 100_000
BAD_LINES = {
    "utf8": b"\xff\xfe\xfa not text",
    "deep": DEEP.encode(),
    "json": b'{"conversation_id": "x", "messages": [',
    "array": b"[1, 2, 3]",
    "contract": json.dumps({"conversation_id": "no-messages", "messages": []}).encode(),
    "limit": json.dumps(
        {"conversation_id": "too-long", "messages": [{"sender": "a", "text": "x" * 5000}]}
    ).encode(),
}


def _score(source: Path, out: Path, model: Path, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["score", str(source), "-o", str(out), "-m", str(model), "--no-progress", "--skip-invalid", *extra],
    )
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def _ids(path: Path) -> list[str]:
    return [json.loads(line)["conversation_id"] for line in path.read_text(encoding="utf-8").splitlines()]


def test_an_undecodable_and_a_deeply_nested_line_cost_only_themselves(
    tiny_artifact: Path, tmp_path: Path
) -> None:
    source, out, errors = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    lines = [v.encode() for v in VALID]
    lines.insert(5, BAD_LINES["utf8"])
    lines.insert(9, BAD_LINES["deep"])
    source.write_bytes(b"\n".join(lines) + b"\n")
    code, output = _score(source, out, tiny_artifact, "--errors", str(errors))
    assert code == 0, output
    assert _ids(out) == [json.loads(v)["conversation_id"] for v in VALID]
    problems = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [(p["line"], p["problem"]) for p in problems] == [
        (6, "not valid UTF-8 (byte 1 of the line)"),
        (10, "JSON nested too deeply to read"),
    ]
    assert not (tmp_path / "out.jsonl.partial").exists()


def test_a_bom_is_accepted_and_a_repeated_id_is_reported(tiny_artifact: Path, tmp_path: Path) -> None:
    source, out, errors = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "errors.jsonl"
    source.write_bytes(b"\xef\xbb\xbf" + "\n".join([*VALID[:3], VALID[1]]).encode() + b"\n")
    code, output = _score(source, out, tiny_artifact, "--errors", str(errors))
    assert code == 0, output
    assert _ids(out) == [json.loads(v)["conversation_id"] for v in VALID[:3]]
    [problem] = [json.loads(line) for line in errors.read_text().splitlines()]
    assert problem["line"] == 4
    assert problem["field"] == "conversation_id"
    assert problem["problem"] == "duplicate of line 2"
    assert problem["conversation_id"] == json.loads(VALID[1])["conversation_id"]


def test_an_unknown_output_format_is_a_one_line_error(tiny_artifact: Path, tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(VALID) + "\n", encoding="utf-8")
    result = CliRunner().invoke(
        app, ["score", str(source), "-o", str(tmp_path / "out.csv"), "-m", str(tiny_artifact)]
    )
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if line.strip()]) <= 2
    assert "cannot tell the format" in result.output


def test_resume_continues_an_interrupted_run_without_duplicates(tiny_artifact: Path, tmp_path: Path) -> None:
    source, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    source.write_text("\n".join(VALID) + "\n", encoding="utf-8")
    code, _ = _score(source, tmp_path / "whole.jsonl", tiny_artifact)
    assert code == 0
    whole = (tmp_path / "whole.jsonl").read_text(encoding="utf-8").splitlines()
    # An interrupted run: four assessments written, the fifth torn half-way.
    partial = tmp_path / "out.jsonl.partial"
    partial.write_text("\n".join(whole[:4]) + "\n" + whole[4][:30], encoding="utf-8")
    code, output = _score(source, out, tiny_artifact, "--resume")
    assert code == 0, output
    assert "4 kept from the interrupted run" in output
    assert _ids(out) == [json.loads(v)["conversation_id"] for v in VALID]
    assert out.read_text(encoding="utf-8").splitlines() == whole
    assert not partial.exists()


@st.composite
def mutated_files(draw: st.DrawFn) -> tuple[list[bytes], list[str]]:
    """A valid file with bad lines, blank lines, repeats and a BOM mixed in; and the ids to expect."""
    picks = draw(st.lists(st.integers(0, len(VALID) - 1), min_size=1, max_size=12))
    lines: list[bytes] = []
    expected: list[str] = []
    for i in picks:
        cid = json.loads(VALID[i])["conversation_id"]
        lines.append(VALID[i].encode())
        if cid not in expected:
            expected.append(cid)  # a repeat is reported, never scored twice
        for _ in range(draw(st.integers(0, 2))):
            lines.append(draw(st.sampled_from([*BAD_LINES.values(), b"", b"   "])))
    if draw(st.booleans()):
        lines[0] = b"\xef\xbb\xbf" + lines[0]
    return lines, expected


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(mutated_files())
def test_mutated_inputs_score_every_valid_record_exactly_once(
    tiny_artifact: Path, case: tuple[list[bytes], list[str]]
) -> None:
    lines, expected = case
    with tempfile.TemporaryDirectory() as tmp:
        source, out, errors = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl", Path(tmp) / "errors.jsonl"
        source.write_bytes(b"\n".join(lines) + b"\n")
        code, output = _score(source, out, tiny_artifact, "--errors", str(errors))
        assert code == 0, output
        assert "Traceback" not in output
        assert _ids(out) == expected
        for line in errors.read_text().splitlines():
            problem = json.loads(line)
            assert problem["line"] >= 1
            assert "not text" not in line  # reports never repeat the input


@pytest.fixture(autouse=True)
def _quiet_model_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROOMING_RISK_MODEL", raising=False)
