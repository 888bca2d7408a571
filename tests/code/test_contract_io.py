"""The contract and the io readers/writers: bad records give one-line errors, formats round-trip."""

from __future__ import annotations

import gzip
import io
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from grooming_risk.contract import Conversation, Limits, Message
from grooming_risk.io import InvalidRecordError, RecordError, read_conversations, write_records
from grooming_risk.io.readers import iter_with_errors

SECRET = "hush-this-text-must-not-leak"


def _conv(cid: str = "c1", **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "conversation_id": cid,
        "messages": [{"sender": "a", "text": "hi"}, {"sender": "b", "text": "hello"}],
    }
    record.update(extra)
    return record


def _write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _first_error(path: Path, limits: Limits = Limits()) -> RecordError:
    with pytest.raises(InvalidRecordError) as caught:
        list(read_conversations(path, limits=limits))
    message = str(caught.value)
    assert "\n" not in message
    assert SECRET not in message
    return caught.value.error


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = _write_lines(
        tmp_path / "in.jsonl", [json.dumps(_conv()), '{"conversation_id": "c2", "messages": [']
    )
    error = _first_error(path)
    assert error.line == 2
    assert str(error).startswith(f"{path}:2: ")
    assert "invalid JSON" in error.problem


def test_non_object_line_is_an_error(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "in.jsonl", ["[1, 2]"])
    error = _first_error(path)
    assert (error.line, error.field) == (1, None)
    assert "expected a JSON object" in error.problem


def test_missing_field_names_the_field(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "in.jsonl", [json.dumps(_conv()), json.dumps({"conversation_id": "c2"})])
    error = _first_error(path)
    assert (error.line, error.conversation_id, error.field) == (2, "c2", "messages")
    assert error.problem == "is required but missing"


def test_missing_message_field_names_its_path(tmp_path: Path) -> None:
    record = _conv()
    del record["messages"][1]["sender"]
    error = _first_error(_write_lines(tmp_path / "in.jsonl", [json.dumps(record)]))
    assert error.field == "messages[1].sender"
    assert (
        str(error)
        == f"{tmp_path / 'in.jsonl'}:1: conversation 'c1': field messages[1].sender: is required but missing"
    )


def test_wrong_type_names_the_field(tmp_path: Path) -> None:
    record = _conv()
    record["messages"][0]["text"] = 42
    error = _first_error(_write_lines(tmp_path / "in.jsonl", [json.dumps(record)]))
    assert (error.line, error.field) == (1, "messages[0].text")


def test_wrong_label_names_the_field(tmp_path: Path) -> None:
    error = _first_error(_write_lines(tmp_path / "in.jsonl", [json.dumps(_conv(label="Groomingish"))]))
    assert error.field == "label"


def test_over_long_text_is_an_error_not_a_truncation(tmp_path: Path) -> None:
    record = _conv()
    record["messages"][1]["text"] = SECRET * 3
    error = _first_error(
        _write_lines(tmp_path / "in.jsonl", [json.dumps(record)]), Limits(max_message_chars=10)
    )
    assert error.field == "messages[1].text"
    assert "more than the limit of 10" in error.problem


def test_too_many_messages_is_an_error(tmp_path: Path) -> None:
    record = _conv()
    record["messages"] = [{"sender": "a", "text": SECRET}] * 4
    error = _first_error(_write_lines(tmp_path / "in.jsonl", [json.dumps(record)]), Limits(max_messages=3))
    assert (error.field, error.problem) == ("messages", "4 messages, more than the limit of 3")


def test_first_risk_index_past_the_end_is_an_error(tmp_path: Path) -> None:
    error = _first_error(_write_lines(tmp_path / "in.jsonl", [json.dumps(_conv(first_risk_index=2))]))
    assert "past the last message" in error.problem


def test_on_error_reports_every_problem_and_keeps_the_good_records(tmp_path: Path) -> None:
    bad = _conv("bad")
    bad["messages"][0]["text"] = 1
    bad["messages"][1]["sender"] = ""
    path = _write_lines(
        tmp_path / "in.jsonl",
        [json.dumps(_conv("c1")), "not json", json.dumps(bad), "", json.dumps(_conv("c4"))],
    )
    errors: list[RecordError] = []
    got = [c.conversation_id for c in read_conversations(path, on_error=errors.append)]
    assert got == ["c1", "c4"]
    assert [(e.line, e.field) for e in errors] == [
        (2, None),
        (3, "messages[0].text"),
        (3, "messages[1].sender"),
    ]
    assert errors[1].to_dict()["conversation_id"] == "bad"


def test_iter_with_errors_accounts_for_every_line(tmp_path: Path) -> None:
    path = _write_lines(tmp_path / "in.jsonl", [json.dumps(_conv("c1")), "{", json.dumps(_conv("c3"))])
    results = list(iter_with_errors(path))
    assert [line for line, _ in results] == [1, 2, 3]
    assert isinstance(results[0][1], Conversation)
    assert isinstance(results[1][1], list)


def test_unknown_keys_are_ignored(tmp_path: Path) -> None:
    record = _conv(exported_by="other-system", score=0.3)
    record["messages"][0]["reactions"] = ["thumbs"]
    (conversation,) = read_conversations(_write_lines(tmp_path / "in.jsonl", [json.dumps(record)]))
    assert conversation.conversation_id == "c1"
    assert "exported_by" not in conversation.model_dump()


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="no such file"):
        list(read_conversations(tmp_path / "absent.jsonl"))


def test_unknown_extension_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot tell the format"):
        list(read_conversations(tmp_path / "data.txt"))


def _rich() -> list[Conversation]:
    return [
        Conversation.model_validate(
            {
                "conversation_id": "r1",
                "platform": "game-chat",
                "language": "en",
                "label": "grooming",
                "first_risk_index": 1,
                "participants": [{"id": "u1", "declared_age": 13}, {"id": "u2"}],
                "messages": [
                    {"sender": "u2", "text": "gg", "sent_at": "2024-05-01T10:00:00Z"},
                    {
                        "sender": "u2",
                        "text": "how old r u",
                        "sent_at": 1714557660,
                        "categories": ["age_probing"],
                    },
                    {"sender": "u1", "text": ""},
                ],
            }
        ),
        Conversation.model_validate(_conv("r2", label="benign", hard_negative=True)),
        Conversation.model_validate(_conv("r3")),
    ]


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.parquet"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    records = _rich()
    assert write_records(tmp_path / name, records) == 3
    assert list(read_conversations(tmp_path / name)) == records


def test_gzip_output_is_really_gzip(tmp_path: Path) -> None:
    write_records(tmp_path / "out.jsonl.gz", _rich())
    with gzip.open(tmp_path / "out.jsonl.gz", "rt", encoding="utf-8") as handle:
        assert json.loads(handle.readline())["conversation_id"] == "r1"


def test_empty_parquet_round_trip(tmp_path: Path) -> None:
    assert write_records(tmp_path / "empty.parquet", []) == 0
    assert list(read_conversations(tmp_path / "empty.parquet")) == []


def test_parquet_row_numbers_in_errors(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = [_conv("p1"), {"conversation_id": "p2", "messages": []}]
    pq.write_table(pa.Table.from_pylist(rows), tmp_path / "in.parquet")
    error = _first_error(tmp_path / "in.parquet")
    assert (error.line, error.conversation_id, error.field) == (2, "p2", "messages")


def test_parquet_accepts_values_first_seen_after_the_first_row_group(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import grooming_risk.io.writers as writers

    monkeypatch.setattr(writers, "PARQUET_ROWS_PER_GROUP", 2)
    records = [Conversation.model_validate(_conv(f"n{i}")) for i in range(2)]
    records.append(_rich()[0])
    write_records(tmp_path / "out.parquet", records)
    assert list(read_conversations(tmp_path / "out.parquet")) == records


def test_stdin_is_read_with_dash(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (json.dumps(_conv("s1")) + "\n" + json.dumps(_conv("s2")) + "\n").encode("utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    assert [c.conversation_id for c in read_conversations("-")] == ["s1", "s2"]


def test_stdin_errors_name_the_line(monkeypatch: pytest.MonkeyPatch) -> None:
    data = (json.dumps(_conv("s1")) + "\n{\n").encode("utf-8")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    with pytest.raises(InvalidRecordError, match=r"^-:2: "):
        list(read_conversations("-"))


def test_stdout_is_written_with_dash(capsys: pytest.CaptureFixture[str]) -> None:
    write_records("-", _rich()[1:])
    lines = capsys.readouterr().out.splitlines()
    assert [json.loads(line)["conversation_id"] for line in lines] == ["r2", "r3"]


def test_parquet_to_stdout_is_refused() -> None:
    with pytest.raises(ValueError, match="Parquet cannot be written to stdout"):
        write_records("-", [], fmt="parquet")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1714557600, datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        (1714557600.5, datetime(2024, 5, 1, 10, 0, 0, 500000, tzinfo=UTC)),
        ("1714557600", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00Z", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        ("2024-05-01T12:00:00+02:00", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
        ("2024-05-01T10:00:00", datetime(2024, 5, 1, 10, 0, tzinfo=UTC)),
    ],
)
def test_sent_at_epoch_and_iso(value: Any, expected: datetime) -> None:
    sent_at = Message(sender="a", text="x", sent_at=value).sent_at
    assert sent_at == expected
    assert sent_at is not None
    assert sent_at.utcoffset() is not None


def test_offset_is_kept_as_an_instant() -> None:
    sent_at = Message(sender="a", text="x", sent_at="2024-05-01T12:00:00+02:00").sent_at
    assert sent_at is not None
    assert sent_at.utcoffset() == timedelta(hours=2)
    assert sent_at.astimezone(UTC).hour == 10


@pytest.mark.parametrize("value", [True, "yesterday", float("nan")])
def test_bad_sent_at_is_a_field_error(tmp_path: Path, value: Any) -> None:
    record = _conv()
    record["messages"][0]["sent_at"] = value
    error = _first_error(_write_lines(tmp_path / "in.jsonl", [json.dumps(record)]))
    assert error.field == "messages[0].sent_at"


def test_out_of_range_epoch_is_a_field_error(tmp_path: Path) -> None:
    record = _conv()
    record["messages"][0]["sent_at"] = 1e20
    error = _first_error(_write_lines(tmp_path / "in.jsonl", [json.dumps(record)]))
    assert error.field == "messages[0].sent_at"


def test_senders_in_order_of_first_appearance() -> None:
    conversation = Conversation.model_validate(
        {
            "conversation_id": "c",
            "messages": [
                {"sender": "b", "text": ""},
                {"sender": "a", "text": ""},
                {"sender": "b", "text": ""},
            ],
        }
    )
    assert conversation.senders() == ["b", "a"]


def test_limits_reject_nonsense() -> None:
    with pytest.raises(ValueError, match="max_messages must be >= 1"):
        Limits(max_messages=0)


def test_assessments_round_trip_through_parquet(tmp_path: Path) -> None:
    from grooming_risk.contract.assessment import Assessment, Evidence
    from grooming_risk.contract.taxonomy import RISK_CATEGORIES
    from grooming_risk.io.readers import iter_raw_records
    from grooming_risk.io.writers import write_records

    cats = dict.fromkeys(RISK_CATEGORIES, 0.1)
    records = [
        Assessment(
            conversation_id="a",
            risk=0.1,
            label="benign",
            flagged=False,
            urgent=False,
            categories=cats,
            model_version="v",
        ),
        Assessment(
            conversation_id="b",
            risk=0.9,
            label="grooming",
            flagged=True,
            urgent=True,
            categories=cats,
            first_alert_index=2,
            evidence=[Evidence(index=2, score=0.5, categories=["secrecy"])],
            model_version="v",
            risk_by_message=[0.1, 0.2, 0.9],
        ),
    ]
    path = tmp_path / "a.parquet"
    write_records(path, records)
    back = [Assessment.model_validate(obj) for _, obj in iter_raw_records(path)]
    assert back == records


def test_gzip_output_is_reproducible(tmp_path: Path) -> None:
    import time

    from grooming_risk.data.cards import file_sha256
    from grooming_risk.io.writers import write_records

    rows = [{"conversation_id": "x", "messages": [{"sender": "a", "text": "hi"}]}]
    write_records(tmp_path / "one.jsonl.gz", rows)
    time.sleep(1.1)  # gzip headers carry a timestamp at one-second resolution
    write_records(tmp_path / "two.jsonl.gz", rows)
    assert file_sha256(tmp_path / "one.jsonl.gz") == file_sha256(tmp_path / "two.jsonl.gz")
