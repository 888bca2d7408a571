"""Checks on the hand-written sets: evaluation (eval_v1.jsonl, English; eval_v2_multilingual.jsonl,
Spanish, French and German), training (train_v1.jsonl) and validation (val_v1.jsonl).

The set measures whether a model learned risk or learned the synthetic generator, so its shape
(size, risky share, hard negatives) and its annotation rules are pinned here.
"""

from __future__ import annotations

import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path

import pytest

from grooming_risk.contract.conversation import Conversation
from grooming_risk.data.blocklist import find_terms
from grooming_risk.io import RecordError, read_conversations

ROOT = Path(__file__).resolve().parents[2]
EVAL_SETS = {
    "v1": ROOT / "data" / "handwritten" / "eval_v1.jsonl",
    "v2": ROOT / "data" / "handwritten" / "eval_v2_multilingual.jsonl",
    # Written the same way, by other writers, for training and validation (never for evaluation).
    "train": ROOT / "data" / "handwritten" / "train_v1.jsonl",
    "val": ROOT / "data" / "handwritten" / "val_v1.jsonl",
    "train2": ROOT / "data" / "handwritten" / "train_v2.jsonl",
    "train3": ROOT / "data" / "handwritten" / "train_v3.jsonl",
    "val2": ROOT / "data" / "handwritten" / "val_v2.jsonl",
}
BUILDER = ROOT / "data" / "handwritten" / "build_eval.py"
# Minimum shape of each set: conversations, grooming, sextortion.
SHAPE = {
    "v1": (80, 15, 10),
    "v2": (60, 9, 6),
    "train": (140, 30, 20),
    "val": (85, 18, 12),
    "train2": (85, 18, 12),
    "train3": (100, 18, 12),
    "val2": (115, 25, 18),
}
TRAINING, VALIDATION = ("train", "train2", "train3"), ("val", "val2")

# Spelled out here rather than imported so that this test keeps guarding the data on its own.
BLOCKLIST = re.compile(
    r"\b(sexy?|sexual|naked|nudes?|porn|horny|boobs|breasts|penis|vagina|genitals|orgasm|masturbat"
    r"|erotic|lingerie|undress|topless)\b",
    re.IGNORECASE,
)


@pytest.fixture(scope="module", params=sorted(EVAL_SETS))
def eval_set(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def conversations(eval_set: str) -> list[Conversation]:
    errors: list[RecordError] = []
    loaded = list(read_conversations(EVAL_SETS[eval_set], on_error=errors.append))
    assert errors == [], [str(e) for e in errors]
    return loaded


def _risky(conversations: list[Conversation]) -> list[Conversation]:
    return [c for c in conversations if c.is_risky]


def _benign(conversations: list[Conversation]) -> list[Conversation]:
    return [c for c in conversations if c.is_risky is False]


def test_every_conversation_is_labelled(conversations: list[Conversation]) -> None:
    assert all(c.label is not None for c in conversations)


def test_size(conversations: list[Conversation], eval_set: str) -> None:
    assert len(conversations) >= SHAPE[eval_set][0]


def test_multilingual_set_has_twenty_per_language_with_risk_and_hard_negatives() -> None:
    by_language: dict[str, list[Conversation]] = {}
    for conv in read_conversations(EVAL_SETS["v2"]):
        by_language.setdefault(conv.language or "?", []).append(conv)
    assert sorted(by_language) == ["de", "es", "fr"]
    for language, convs in by_language.items():
        risky = [c for c in convs if c.is_risky]
        hard = [c for c in convs if c.hard_negative]
        assert len(convs) >= 20, language
        assert 0.3 <= len(risky) / len(convs) <= 0.5, language
        assert len(hard) >= 6, language


def test_ids_are_unique(conversations: list[Conversation]) -> None:
    counts = Counter(c.conversation_id for c in conversations)
    assert [cid for cid, n in counts.items() if n > 1] == []


def test_risky_share(conversations: list[Conversation]) -> None:
    share = len(_risky(conversations)) / len(conversations)
    assert 0.3 <= share <= 0.5, share


def test_both_risky_labels_are_present(conversations: list[Conversation], eval_set: str) -> None:
    labels = Counter(str(c.label) for c in _risky(conversations))
    assert labels["grooming"] >= SHAPE[eval_set][1]
    assert labels["sextortion"] >= SHAPE[eval_set][2]


def test_hard_negatives_are_at_least_a_third_of_benign(conversations: list[Conversation]) -> None:
    benign = _benign(conversations)
    hard = [c for c in benign if c.hard_negative]
    assert len(hard) * 3 >= len(benign), (len(hard), len(benign))


def test_only_benign_conversations_are_hard_negatives(conversations: list[Conversation]) -> None:
    assert [c.conversation_id for c in _risky(conversations) if c.hard_negative] == []


def test_risky_first_risk_index_is_first_categorised_message(conversations: list[Conversation]) -> None:
    wrong = []
    for conv in _risky(conversations):
        first = next((i for i, m in enumerate(conv.messages) if m.categories), None)
        if first is None or conv.first_risk_index != first:
            wrong.append(conv.conversation_id)
    assert wrong == []


def test_benign_have_no_categories_and_no_risk_index(conversations: list[Conversation]) -> None:
    wrong = [
        c.conversation_id
        for c in _benign(conversations)
        if c.first_risk_index is not None or any(m.categories for m in c.messages)
    ]
    assert wrong == []


def test_timestamps_are_present_and_in_order(conversations: list[Conversation]) -> None:
    wrong = []
    for conv in conversations:
        times = [m.sent_at for m in conv.messages if m.sent_at is not None]
        if len(times) != len(conv.messages) or times != sorted(times):
            wrong.append(conv.conversation_id)
    assert wrong == []


def test_senders_are_declared_participants(conversations: list[Conversation]) -> None:
    wrong = []
    for conv in conversations:
        declared = {p.id for p in conv.participants}
        if not set(conv.senders()) <= declared:
            wrong.append(conv.conversation_id)
    assert wrong == []


def test_no_blocklisted_terms(conversations: list[Conversation]) -> None:
    hits = []
    for conv in conversations:
        fields = [conv.platform or "", *(p.id for p in conv.participants)]
        fields += [m.text for m in conv.messages]
        for text in fields:
            match = BLOCKLIST.search(unicodedata.normalize("NFKC", text))
            if match:
                # The id and the matched word only: never the surrounding conversation text.
                hits.append((conv.conversation_id, match.group(0).lower()))
            # The project's own scanner too: all four languages, disguised spellings included.
            hits.extend((conv.conversation_id, term) for term, _ in find_terms(text))
    assert hits == []


def test_jsonl_matches_its_hand_written_sources() -> None:
    result = subprocess.run(
        [sys.executable, str(BUILDER), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_training_validation_and_evaluation_sets_share_no_line_and_no_participant() -> None:
    """Independent writers: a line or a username in two sets would mean one writer saw another's work."""
    sets = {name: list(read_conversations(path)) for name, path in EVAL_SETS.items()}
    texts = {
        name: {m.text for c in convs for m in c.messages if len(m.text) > 25} for name, convs in sets.items()
    }
    users = {name: {p.id for c in convs for p in c.participants} for name, convs in sets.items()}
    # Counted, not listed, so that a failure never prints conversation content.
    names = sorted(sets)
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            assert len(texts[first] & texts[second]) == 0, (first, second)
    for trained in TRAINING:
        for validated in VALIDATION:
            assert len(users[trained] & users[validated]) == 0, (trained, validated)
