"""The chitchat importer: the package's dataset.json format -> benign real conversations, fixed split."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from grooming_risk.cli.data_import import import_app
from grooming_risk.data.blocklist import BLOCKED_TERMS
from grooming_risk.data.cards import read_card
from grooming_risk.data.importers.chitchat import (
    import_chitchat,
    original_id,
    package_dataset_path,
    real_chat_split,
    split_path,
)
from grooming_risk.io import InvalidRecordError, read_conversations

A = "720840be-e522-47ba-9e9f-143f66372673"
B = "549cc1d1-270e-4a53-b561-133a8d0086b4"


def _turn(sender: str, *texts: str, minute: int = 0) -> list[dict[str, str]]:
    return [
        {"text": t, "timestamp": f"2018-05-02T19:{minute:02d}:{i:02d}Z", "sender": sender}
        for i, t in enumerate(texts)
    ]


def _conversation(*turns: list[dict[str, str]]) -> dict[str, Any]:
    return {
        "messages": list(turns),
        "ratings": {"witty": 3},
        "start": "2018-05-02T19:00:00Z",
        "prompt": "What is your favourite book?",
    }


def _corpus() -> dict[str, Any]:
    # Ids chosen for their SHA-256 first hex digit: 0/1/2 -> test, 3 -> val, else train.
    return {
        "conv-17": _conversation(_turn(A, "hello", "how are you?"), _turn(B, "good thanks", minute=1)),
        "conv-2": _conversation(_turn(A, "anyone there?")),  # one person, one message: kept
        "conv-14": _conversation(_turn(B, "hi"), _turn(A, "hey", minute=2)),
        "conv-1": _conversation(_turn(A, "what do you study?"), _turn(B, "biology", "and you?", minute=3)),
        "conv-32": _conversation(_turn(B, "i love hiking"), _turn(A, "me too", minute=4)),
        "conv-0": _conversation(_turn(A, f"this has {BLOCKED_TERMS[6]} in it"), _turn(B, "ok", minute=5)),
    }


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(_corpus()), encoding="utf-8")
    return path


def test_split_rule_is_the_first_hex_digit_of_the_ids_sha256() -> None:
    assert [real_chat_split(k) for k in ("conv-17", "conv-2", "conv-14")] == ["test"] * 3
    assert real_chat_split("conv-1") == "val"
    assert [real_chat_split(k) for k in ("conv-32", "conv-0", "conv-13")] == ["train"] * 3


def test_split_path_keeps_the_extension() -> None:
    assert split_path("data/real/chitchat.jsonl", "val") == Path("data/real/chitchat.val.jsonl")
    assert split_path("x/c.jsonl.gz", "test") == Path("x/c.test.jsonl.gz")


def test_import_flattens_turns_keeps_senders_times_and_splits(corpus_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "real" / "chitchat.jsonl"
    out.parent.mkdir()
    result = import_chitchat(out, source=corpus_file)
    every = {c.conversation_id: c for c in read_conversations(out)}
    assert sorted(every) == sorted(f"chitchat-{k}" for k in _corpus() if k != "conv-0")
    assert result.counts.dropped_blocklist == 1
    first = every["chitchat-conv-17"]
    assert [m.text for m in first.messages] == ["hello", "how are you?", "good thanks"]
    assert [m.sender for m in first.messages] == [A, A, B]
    assert [m.sent_at.isoformat() for m in first.messages if m.sent_at] == [
        "2018-05-02T19:00:00+00:00",
        "2018-05-02T19:00:01+00:00",
        "2018-05-02T19:01:00+00:00",
    ]
    assert all(c.label is not None and c.label.value == "benign" for c in every.values())
    assert all(c.language == "en" and c.platform for c in every.values())
    assert [p.id for p in first.participants] == [A, B]
    assert len(every["chitchat-conv-2"].messages) == 1

    parts = {
        s: {c.conversation_id for c in read_conversations(split_path(out, s))}
        for s in ("train", "val", "test")
    }
    assert parts["test"] == {"chitchat-conv-17", "chitchat-conv-2", "chitchat-conv-14"}
    assert parts["val"] == {"chitchat-conv-1"}
    assert parts["train"] == {"chitchat-conv-32"}
    assert all(real_chat_split(original_id(cid)) == s for s, ids in parts.items() for cid in ids)

    card = read_card(out)
    assert card is not None
    assert card.source == "chitchat"
    assert "MIT" in card.licence_note
    assert card.parameters["dropped_blocklist"] == 1
    assert card.parameters["kept_by_split"] == {"test": 3, "val": 1, "train": 1}
    test_card = read_card(split_path(out, "test"))
    assert test_card is not None
    assert test_card.parameters["split"] == "test"


def test_a_malformed_conversation_names_its_id_and_field(tmp_path: Path) -> None:
    corpus = _corpus()
    corpus["conv-9"] = {"messages": "not a list"}
    path = tmp_path / "dataset.json"
    path.write_text(json.dumps(corpus), encoding="utf-8")
    with pytest.raises(InvalidRecordError) as info:
        import_chitchat(tmp_path / "out.jsonl", source=path)
    assert "chitchat-conv-9" in str(info.value)
    assert "messages" in str(info.value)
    # Skipping reports it and keeps every valid neighbour.
    errors: list[Any] = []
    result = import_chitchat(tmp_path / "out2.jsonl", source=path, on_error=errors.append)
    assert len(errors) == 1
    assert result.counts.dropped_invalid == 1
    assert result.all.conversations == 5


def test_cli_import_reports_counts(corpus_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "chitchat.jsonl"
    result = CliRunner().invoke(import_app, ["chitchat", "-o", str(out), "--source", str(corpus_file)])
    assert result.exit_code == 0, result.output
    assert "dropped 1 with a blocklisted term" in result.output
    assert "test: 3 conversations" in result.output
    assert "hello" not in result.output


def test_the_installed_package_ships_the_corpus() -> None:
    path = package_dataset_path()
    assert path.name == "dataset.json"
    assert path.stat().st_size > 1_000_000
