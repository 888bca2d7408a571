"""Dataset statistics: percentiles, message keys, n-grams, counts, overlap and the `data stats` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from grooming_risk.cli.data_stats import stats
from grooming_risk.contract.conversation import Conversation
from grooming_risk.data.stats import (
    StatsAccumulator,
    compute_stats,
    message_key,
    overlap,
    overlap_of,
    percentiles,
    word_ngrams,
)
from grooming_risk.io import write_records


def _conv(cid: str, label: str, lines: list[tuple[str, str, list[str]]], **extra: object) -> Conversation:
    first = next((i for i, (_, _, c) in enumerate(lines) if c), None)
    return Conversation.model_validate(
        {
            "conversation_id": cid,
            "label": label,
            "messages": [{"sender": s, "text": t, "categories": c} for s, t, c in lines],
            "first_risk_index": first,
            **extra,
        }
    )


@pytest.fixture
def small() -> list[Conversation]:
    return [
        _conv(
            "a",
            "benign",
            [("u1", "Hey!!", []), ("u2", "hey", []), ("u1", "see you at the park", [])],
            platform="game_chat",
        ),
        _conv(
            "b",
            "grooming",
            [
                ("u3", "hi", []),
                ("u4", "how old are you", ["age_probing"]),
                ("u4", "dont tell anyone, add me on s n a p", ["secrecy", "platform_migration"]),
                ("u3", "see you at the park", []),
            ],
            platform="direct_message",
            participants=[{"id": "u3"}, {"id": "u4"}, {"id": "u5"}],
        ),
        _conv("c", "benign", [("u6", "ok", []), ("u7", "ok", [])], hard_negative=True),
    ]


def test_percentiles_match_numpy() -> None:
    values = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
    got = percentiles(values)
    for q in (0, 5, 25, 50, 75, 95, 100):
        assert got[f"p{q}"] == pytest.approx(float(np.percentile(values, q)), abs=1e-3)
    assert percentiles([7]) == {f"p{q}": 7.0 for q in (0, 5, 25, 50, 75, 95, 100)}
    assert percentiles([]) == {}
    assert percentiles([1, 2], qs=(50,)) == {"p50": 1.5}
    with pytest.raises(ValueError, match="between 0 and 100"):
        percentiles([1], qs=(101,))


def test_message_key_folds_case_punctuation_and_disguises_but_not_words() -> None:
    assert message_key("Hey!!") == message_key("hey") == "hey"
    assert message_key("add me on s n a p") == message_key("Add me on SNAP.") == "add me on snap"
    assert message_key("sn\u200bap me") == "snap me"
    assert message_key("hey there") != message_key("hey their")


def test_word_ngrams() -> None:
    assert word_ngrams("The cat sat on the mat", 4) == [
        ("the", "cat", "sat", "on"),
        ("cat", "sat", "on", "the"),
        ("sat", "on", "the", "mat"),
    ]
    assert word_ngrams("too short", 4) == []
    with pytest.raises(ValueError, match=">= 1"):
        word_ngrams("x", 0)


def test_compute_stats_counts_by_hand(small: list[Conversation]) -> None:
    s = compute_stats(small)
    assert s.conversations == 3
    assert s.messages == 9
    assert s.senders == 6
    assert s.hard_negatives == 1
    assert s.by_label == {"benign": 2, "grooming": 1}
    assert s.by_platform == {"direct_message": 1, "game_chat": 1, "unknown": 1}
    assert s.by_category == {"age_probing": 1, "platform_migration": 1, "secrecy": 1}
    assert s.conversations_by_category == {"age_probing": 1, "platform_migration": 1, "secrecy": 1}
    # Participant lists win over senders: conversation b declares three people.
    assert s.participants == {"2": 2, "3": 1}
    # Distinct keys: hey, see you at the park, hi, how old are you, dont tell anyone add me on snap, ok.
    assert s.distinct_messages == 6
    assert s.distinct_message_ratio == round(6 / 9, 4)
    assert s.obfuscated_messages == 1
    assert s.conversation_messages == percentiles([3, 4, 2])
    assert s.first_risk_index == {f"p{q}": 1.0 for q in (0, 5, 25, 50, 75, 95, 100)}
    assert s.message_chars["p0"] == 2.0
    assert s.with_timestamps == 0


def test_empty_dataset() -> None:
    s = compute_stats([])
    assert s.conversations == 0
    assert s.distinct_message_ratio == 0.0
    assert s.message_chars == {}


def test_overlap_by_hand(small: list[Conversation]) -> None:
    other = [
        _conv(
            "x",
            "benign",
            [("u1", "see you at the park", []), ("u9", "see you at the mall", []), ("u9", "bye", [])],
        ),
    ]
    result = overlap(small, other, n=4)
    # OTHER's 4-grams: see you at the, you at the park, you at the mall -> 3 distinct, 2 in FILE.
    assert result.other_ngrams == 3
    assert result.shared_ngrams == 2
    assert result.ngram_share == round(2 / 3, 4)
    # OTHER's messages: 3 distinct, one ("see you at the park") in FILE.
    assert result.other_messages == 3
    assert result.shared_messages == 1
    assert result.message_share == round(1 / 3, 4)
    assert result.shared_senders == 1
    assert overlap(small, small).ngram_share == 1.0


def test_overlap_needs_matching_ngram_sizes(small: list[Conversation]) -> None:
    a = StatsAccumulator(ngram=4)
    b = StatsAccumulator(ngram=3)
    with pytest.raises(ValueError, match="same n-gram size"):
        overlap_of(a, b)
    with pytest.raises(ValueError, match="same n-gram size"):
        overlap_of(StatsAccumulator(), StatsAccumulator())
    with pytest.raises(ValueError, match=">= 1"):
        StatsAccumulator(ngram=0)


# -- CLI ----------------------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    data_app = typer.Typer()
    data_app.command("stats")(stats)
    app.add_typer(data_app, name="data")
    return app


def test_cli_json(tmp_path: Path, small: list[Conversation]) -> None:
    path = tmp_path / "small.jsonl"
    write_records(path, small)
    result = CliRunner().invoke(_app(), ["data", "stats", str(path), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["file"] == str(path)
    assert payload["stats"] == compute_stats(small).model_dump(mode="json")
    assert "overlap" not in payload


def test_cli_compare_json_and_tables(tmp_path: Path, small: list[Conversation]) -> None:
    a = tmp_path / "a.jsonl.gz"
    b = tmp_path / "b.parquet"
    write_records(a, small)
    write_records(b, small[:1])
    runner = CliRunner()
    result = runner.invoke(_app(), ["data", "stats", str(a), "--compare", str(b), "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["overlap"]["message_share"] == 1.0
    assert payload["compare"]["stats"]["conversations"] == 1
    pretty = runner.invoke(_app(), ["data", "stats", str(a), "--compare", str(b), "--no-progress"])
    assert pretty.exit_code == 0, pretty.output
    for text in ("distinct-message ratio", "risk categories", "age_probing", "overlap", "4-grams", "p95"):
        assert text in pretty.stdout


def test_cli_reports_bad_records_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"conversation_id": "c1", "messages": []}\n', encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(_app(), ["data", "stats", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:1" in result.output
    assert "messages" in result.output
    missing = runner.invoke(_app(), ["data", "stats", str(tmp_path / "nope.jsonl")])
    assert missing.exit_code == 1
    assert "no such file" in missing.output
