"""Conversations <-> Hugging Face datasets: round trips keep None, empty and nested fields."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

datasets = pytest.importorskip("datasets")

from grooming_risk.contract import Conversation, Message, Participant  # noqa: E402
from grooming_risk.io import InvalidRecordError, RecordError, write_records  # noqa: E402
from grooming_risk.io.hf import (  # noqa: E402
    conversation_features,
    file_to_hf_dataset,
    from_hf_dataset,
    to_hf_dataset,
)


def _three() -> list[Conversation]:
    return [
        Conversation.model_validate(
            {
                "conversation_id": "a",
                "platform": "game-chat",
                "language": "en",
                "label": "grooming",
                "first_risk_index": 1,
                "participants": [{"id": "kid", "declared_age": 12}, {"id": "adult"}],
                "messages": [
                    {"sender": "adult", "text": "nice build", "sent_at": "2024-05-01T10:00:00.123456Z"},
                    {
                        "sender": "adult",
                        "text": "how old are you? dont tell your mum",
                        "sent_at": 1714557660,
                        "categories": ["age_probing", "secrecy"],
                    },
                    {"sender": "kid", "text": ""},
                ],
            }
        ),
        Conversation.model_validate(
            {
                "conversation_id": "b",
                "label": "benign",
                "hard_negative": True,
                "messages": [{"sender": "x", "text": "see you at practice"}],
            }
        ),
        # Nothing optional at all: every nullable column must still round-trip as None / empty.
        Conversation.model_validate({"conversation_id": "c", "messages": [{"sender": "y", "text": "ok"}]}),
    ]


def test_round_trip_keeps_every_field() -> None:
    conversations = _three()
    dataset = to_hf_dataset(conversations)
    assert dataset.num_rows == 3
    assert dataset.features == conversation_features()
    assert list(from_hf_dataset(dataset)) == conversations


def test_nulls_stay_null() -> None:
    row = to_hf_dataset(_three())[2]
    assert row["label"] is None
    assert row["platform"] is None
    assert row["first_risk_index"] is None
    assert row["participants"] == []
    assert row["messages"][0]["sent_at"] is None
    assert row["messages"][0]["categories"] == []


def test_timestamps_are_a_utc_timestamp_column() -> None:
    dataset = to_hf_dataset(_three())
    assert (
        str(dataset.data.schema.field("messages").type.value_type.field("sent_at").type)
        == "timestamp[us, tz=UTC]"
    )
    first = dataset[0]["messages"][0]["sent_at"]
    assert first == datetime(2024, 5, 1, 10, 0, 0, 123456, tzinfo=UTC)


def test_features_cover_the_contract() -> None:
    # A field added to the contract must be added here too, or it would be dropped silently.
    features = conversation_features()
    assert set(features) == set(Conversation.model_fields)
    message_features = features["messages"]
    inner = message_features.feature if hasattr(message_features, "feature") else message_features[0]
    assert set(inner) == set(Message.model_fields)
    participant_features = features["participants"]
    inner = (
        participant_features.feature if hasattr(participant_features, "feature") else participant_features[0]
    )
    assert set(inner) == set(Participant.model_fields)


def test_empty_input_gives_an_empty_typed_dataset() -> None:
    dataset = to_hf_dataset([])
    assert dataset.num_rows == 0
    assert dataset.features == conversation_features()


def test_setfit_style_small_dataset_with_extra_columns() -> None:
    dataset = datasets.Dataset.from_dict(
        {
            "conversation_id": ["d1", "d2", "d3"],
            "messages": [
                [{"sender": "u", "text": "hi"}],
                [{"sender": "u", "text": "hey"}, {"sender": "v", "text": "yo"}],
                [{"sender": "w", "text": "sup"}],
            ],
            "label": ["benign", None, "sextortion"],
            "text": ["hi", "hey yo", "sup"],  # a flattened column a trainer might add: ignored
        }
    )
    got = list(from_hf_dataset(dataset))
    assert [c.conversation_id for c in got] == ["d1", "d2", "d3"]
    assert [c.label.value if c.label else None for c in got] == ["benign", None, "sextortion"]
    assert got[1].senders() == ["u", "v"]


def test_formatted_dataset_is_read_as_python() -> None:
    dataset = to_hf_dataset(_three()).with_format("numpy")
    assert [c.conversation_id for c in from_hf_dataset(dataset)] == ["a", "b", "c"]


def test_iterable_dataset() -> None:
    dataset = to_hf_dataset(_three()).to_iterable_dataset()
    assert list(from_hf_dataset(dataset)) == _three()


def test_bad_row_names_row_and_field() -> None:
    dataset = datasets.Dataset.from_dict(
        {
            "conversation_id": ["ok", "bad"],
            "messages": [[{"sender": "u", "text": "hi"}], [{"sender": "", "text": "private words"}]],
        }
    )
    with pytest.raises(InvalidRecordError) as caught:
        list(from_hf_dataset(dataset))
    assert str(caught.value).startswith(
        "<datasets.Dataset>:2: conversation 'bad': field messages[0].sender: "
    )
    assert "private" not in str(caught.value)

    errors: list[RecordError] = []
    assert [c.conversation_id for c in from_hf_dataset(dataset, on_error=errors.append)] == ["ok"]
    assert [(e.line, e.field) for e in errors] == [(2, "messages[0].sender")]


def test_file_to_hf_dataset_streams_through_the_cache(tmp_path: Path) -> None:
    source = tmp_path / "three.jsonl.gz"
    write_records(source, _three())
    dataset = file_to_hf_dataset(source, cache_dir=tmp_path / "cache")
    assert dataset.features == conversation_features()
    assert list(from_hf_dataset(dataset)) == _three()
    assert any((tmp_path / "cache").rglob("*.arrow"))


def test_file_to_hf_dataset_sees_an_edited_file(tmp_path: Path) -> None:
    source = tmp_path / "data.jsonl"
    write_records(source, _three())
    assert file_to_hf_dataset(source, cache_dir=tmp_path / "cache").num_rows == 3
    write_records(source, _three()[:1])
    assert file_to_hf_dataset(source, cache_dir=tmp_path / "cache").num_rows == 1
