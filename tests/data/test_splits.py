"""Splits: no conversation and no person in two splits, labels stratified, deterministic."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from grooming_risk.cli.data_split import split
from grooming_risk.contract import Conversation
from grooming_risk.data.cards import DatasetCard, file_sha256, read_card, write_card
from grooming_risk.data.splits import (
    SPLIT_NAMES,
    SplitKey,
    check_leakage,
    group_conversations,
    parse_ratios,
    plan_splits,
    split_conversations,
    split_file,
)
from grooming_risk.io import read_conversations, write_records

LABELS = ("grooming", "sextortion", "benign")


def _conversation(
    cid: str, senders: list[str], label: str | None, participants: Sequence[str] = ()
) -> Conversation:
    return Conversation.model_validate(
        {
            "conversation_id": cid,
            "label": label,
            "participants": [{"id": p} for p in participants],
            "messages": [{"sender": s, "text": f"message {i}"} for i, s in enumerate(senders)],
        }
    )


def _corpus(n: int, *, adults: int | None, seed: int = 0) -> list[Conversation]:
    """`n` conversations, 20% grooming, 10% sextortion; each pairs a unique child with an adult.

    With `adults` set, adults come from a pool of that size, so senders repeat across
    conversations and groups form; with None every adult is unique.
    """
    rng = random.Random(seed)
    out = []
    for i in range(n):
        label = "grooming" if i % 10 < 2 else "sextortion" if i % 10 == 2 else "benign"
        adult = f"adult{rng.randrange(adults)}" if adults else f"adult-only-{i}"
        out.append(_conversation(f"conv{i}", [adult, f"child{i}", adult], label))
    return out


def _people(conversations: list[Conversation]) -> set[str]:
    return {m.sender for c in conversations for m in c.messages} | {
        p.id for c in conversations for p in c.participants
    }


def _assert_disjoint(splits: dict[str, list[Conversation]]) -> None:
    # Checked directly, not through check_leakage, so a bug there cannot hide one here.
    for a_index, a in enumerate(SPLIT_NAMES):
        for b in SPLIT_NAMES[a_index + 1 :]:
            assert not {c.conversation_id for c in splits[a]} & {c.conversation_id for c in splits[b]}
            assert not _people(splits[a]) & _people(splits[b]), (a, b)


def test_no_leakage_when_senders_repeat_across_conversations() -> None:
    corpus = _corpus(400, adults=150)
    splits = split_conversations(corpus, (0.8, 0.1, 0.1), seed=13)
    assert sum(len(s) for s in splits.values()) == 400
    assert all(splits[name] for name in SPLIT_NAMES)
    _assert_disjoint(splits)
    report = check_leakage(splits)
    assert report.ok
    assert report.to_dict()["shared_senders"] == 0


def test_participants_link_conversations_too() -> None:
    # "lurker" never sends a message but is listed in both: same person, same split.
    corpus = [
        _conversation(f"c{i}", [f"s{i}"], "benign", participants=["lurker"] if i < 2 else [])
        for i in range(20)
    ]
    splits = split_conversations(corpus, (0.5, 0.25, 0.25), seed=1)
    where = {c.conversation_id: name for name, convs in splits.items() for c in convs}
    assert where["c0"] == where["c1"]
    assert check_leakage(splits).ok


def test_repeated_conversation_id_stays_in_one_split() -> None:
    corpus = [_conversation(f"c{i}", [f"s{i}"], "benign") for i in range(30)]
    corpus.append(_conversation("c0", ["someone-else"], "benign"))
    splits = split_conversations(corpus, (0.4, 0.3, 0.3), seed=3)
    holding = [name for name, convs in splits.items() if any(c.conversation_id == "c0" for c in convs)]
    assert len(holding) == 1
    assert check_leakage(splits).ok


def test_check_leakage_detects_planted_leakage() -> None:
    a = _conversation("a", ["u1", "u2"], "benign")
    b = _conversation("b", ["u3", "u2"], "grooming")
    c = _conversation("c", ["u4"], "benign", participants=["u5"])
    d = _conversation("d", ["u6"], "benign", participants=["u5"])
    report = check_leakage({"train": [a, c], "val": [b, a], "test": [d]})
    assert not report.ok
    assert report.shared_conversation_ids == ("a",)
    assert report.shared_senders == ("u1", "u2", "u5")
    assert report.to_dict()["shared_conversations"] == 1
    assert check_leakage({"train": [a, c], "val": [], "test": [d.model_copy(update={"participants": []})]}).ok


def test_groups_are_connected_components() -> None:
    keys = [
        SplitKey("a", "benign", frozenset({"x", "y"})),
        SplitKey("b", "benign", frozenset({"z"})),
        SplitKey("c", "benign", frozenset({"y", "w"})),
        SplitKey("d", "benign", frozenset({"w"})),
        SplitKey("b", "benign", frozenset({"q"})),
    ]
    assert group_conversations(keys) == [[0, 2, 3], [1, 4]]


@pytest.mark.parametrize("adults", [None, 300])
def test_stratification_tracks_the_whole(adults: int | None) -> None:
    corpus = _corpus(1000, adults=adults, seed=5)
    ratios = (0.7, 0.15, 0.15)
    splits = split_conversations(corpus, ratios, seed=13)
    overall = Counter(c.label.value for c in corpus if c.label)
    for ratio, name in zip(ratios, SPLIT_NAMES, strict=True):
        share = len(splits[name]) / len(corpus)
        assert abs(share - ratio) < 0.02, (name, share)
        counts = Counter(c.label.value for c in splits[name] if c.label)
        for label in LABELS:
            mix = counts[label] / len(splits[name])
            assert abs(mix - overall[label] / len(corpus)) < 0.03, (name, label, mix)


def test_split_is_deterministic_and_seed_dependent() -> None:
    corpus = _corpus(300, adults=120)

    def ids(seed: int) -> dict[str, list[str]]:
        splits = split_conversations(corpus, seed=seed)
        return {name: [c.conversation_id for c in convs] for name, convs in splits.items()}

    assert ids(7) == ids(7)
    assert ids(7) != ids(8)


def test_order_within_a_split_follows_the_input() -> None:
    corpus = _corpus(100, adults=None)
    position = {c.conversation_id: i for i, c in enumerate(corpus)}
    for convs in split_conversations(corpus).values():
        indices = [position[c.conversation_id] for c in convs]
        assert indices == sorted(indices)


def test_one_giant_group_is_reported_and_still_does_not_leak() -> None:
    corpus = [
        _conversation(f"c{i}", ["everyone", f"kid{i}"], "benign" if i % 3 else "grooming") for i in range(50)
    ]
    corpus += [_conversation(f"x{i}", [f"solo{i}"], "benign") for i in range(5)]
    plan = plan_splits([SplitKey.of(c) for c in corpus], (0.8, 0.1, 0.1), seed=13)
    assert plan.largest_group == 50
    assert any("largest group" in w and "50 conversations" in w for w in plan.warnings)
    splits = split_conversations(corpus, (0.8, 0.1, 0.1), seed=13)
    assert check_leakage(splits).ok
    assert (
        len({name for name, convs in splits.items() if any(c.conversation_id.startswith("c") for c in convs)})
        == 1
    )


def test_unlabelled_conversations_are_split_too() -> None:
    corpus = [_conversation(f"c{i}", [f"s{i}"], None) for i in range(40)]
    splits = split_conversations(corpus, (0.5, 0.25, 0.25), seed=2)
    assert [len(splits[n]) for n in SPLIT_NAMES] == [20, 10, 10]


def test_empty_input() -> None:
    assert split_conversations([]) == {"train": [], "val": [], "test": []}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0.8,0.1", "expected 3 ratios"),
        ("0.8,0.1,0.2", "must sum to 1"),
        ("1.2,-0.1,-0.1", "non-negative"),
        ("0,0.5,0.5", "train ratio must be positive"),
        ("a,b,c", "three numbers"),
    ],
)
def test_bad_ratios(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ratios(text)


# ---------------------------------------------------------------- files


@pytest.fixture
def corpus_file(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    write_records(path, _corpus(200, adults=80))
    write_card(path, DatasetCard(name="corpus", source="synthetic"))
    return path


def test_split_file_writes_splits_cards_and_manifest(corpus_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "splits"
    manifest = split_file(corpus_file, out, ratios=(0.8, 0.1, 0.1), seed=13)
    on_disk = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert on_disk == manifest.model_dump(mode="json")
    assert on_disk["parent_sha256"] == file_sha256(corpus_file)
    assert on_disk["seed"] == 13
    assert on_disk["ratios"] == {"train": 0.8, "val": 0.1, "test": 0.1}
    assert on_disk["leakage"]["shared_conversations"] == 0
    assert on_disk["leakage"]["shared_senders"] == 0
    assert on_disk["leakage"]["ok"] is True

    written = {name: list(read_conversations(out / f"{name}.jsonl")) for name in SPLIT_NAMES}
    _assert_disjoint(written)
    assert sum(len(v) for v in written.values()) == 200
    for name in SPLIT_NAMES:
        info = on_disk["splits"][name]
        assert info["file"] == f"{name}.jsonl"
        assert info["sha256"] == file_sha256(out / info["file"])
        assert info["conversations"] == len(written[name])
        assert info["by_label"] == dict(
            sorted(Counter(c.label.value for c in written[name] if c.label).items())
        )
        card = read_card(out / info["file"])
        assert card is not None
        assert card.source == "split"
        assert card.seed == 13
        assert card.parameters["parent_sha256"] == on_disk["parent_sha256"]
        assert card.parameters["parent_source"] == "synthetic"
        assert card.counts.conversations == len(written[name])


def test_split_file_is_reproducible(corpus_file: Path, tmp_path: Path) -> None:
    first = split_file(corpus_file, tmp_path / "a", seed=4)
    second = split_file(corpus_file, tmp_path / "b", seed=4)
    assert {n: s.sha256 for n, s in first.splits.items()} == {n: s.sha256 for n, s in second.splits.items()}


@pytest.mark.parametrize(
    ("name", "fmt", "extension"), [("c.jsonl.gz", None, ".jsonl.gz"), ("c.jsonl", "parquet", ".parquet")]
)
def test_split_file_formats(tmp_path: Path, name: str, fmt: str | None, extension: str) -> None:
    source = tmp_path / name
    write_records(source, _corpus(30, adults=None))
    manifest = split_file(source, tmp_path / "out", fmt=fmt, ratios=(0.6, 0.2, 0.2))
    assert manifest.splits["train"].file == f"train{extension}"
    assert sum(len(list(read_conversations(tmp_path / "out" / f"{n}{extension}"))) for n in SPLIT_NAMES) == 30


def test_split_file_refuses_stdin(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="needs a file"):
        split_file("-", tmp_path)


def _cli() -> typer.Typer:
    app = typer.Typer()
    app.command("split")(split)
    app.command("noop")(lambda: None)  # two commands, so "split" stays a subcommand as in the real CLI
    return app


def test_split_cli(corpus_file: Path, tmp_path: Path) -> None:
    out = tmp_path / "cli"
    result = CliRunner().invoke(
        _cli(), ["split", str(corpus_file), "-o", str(out), "--ratios", "0.6,0.2,0.2", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "0 shared conversations, 0 shared senders" in result.stdout
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["seed"] == 3
    assert manifest["ratios"] == {"train": 0.6, "val": 0.2, "test": 0.2}


def test_split_cli_reports_giant_group(tmp_path: Path) -> None:
    source = tmp_path / "giant.jsonl"
    write_records(source, [_conversation(f"c{i}", ["hub", f"k{i}"], "benign") for i in range(20)])
    result = CliRunner().invoke(_cli(), ["split", str(source), "-o", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "warning: the largest group" in result.stderr
    manifest = json.loads((tmp_path / "o" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["largest_group"] == 20
    assert manifest["warnings"]


def test_split_cli_bad_input_is_one_line(tmp_path: Path) -> None:
    source = tmp_path / "bad.jsonl"
    source.write_text('{"conversation_id": "a", "messages": []}\n', encoding="utf-8")
    result = CliRunner().invoke(_cli(), ["split", str(source), "-o", str(tmp_path / "o")])
    assert result.exit_code == 1
    message = result.stderr.strip()
    assert "\n" not in message
    assert message.startswith(f"error: {source}:1: conversation 'a': field messages: ")
