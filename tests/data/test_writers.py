"""Many writers, four languages, unseen-writer validation and weaving into real chats."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from grooming_risk.contract.conversation import Conversation
from grooming_risk.data.blocklist import find_terms, scan_conversations
from grooming_risk.data.stats import compute_stats
from grooming_risk.data.synth import SynthConfig, generate
from grooming_risk.data.synth.slots import SlotContext
from grooming_risk.data.synth.weave import weave
from grooming_risk.data.synth.writer_arcs import OFFENDER, VICTIM, Voices, grooming_beats, sextortion_beats
from grooming_risk.data.synth.writers import (
    LANGUAGES,
    ORIGINAL_WRITER,
    VALIDATION_WRITERS,
    load_writers,
    select_writers,
)


def _carrier(cid: str, n: int, rng: random.Random) -> Conversation:
    start = datetime(2018, 5, 2, 19, tzinfo=UTC)
    senders = ("real_a", "real_b")
    return Conversation.model_validate(
        {
            "conversation_id": cid,
            "label": "benign",
            "language": "en",
            "platform": "direct_message",
            "messages": [
                {
                    "sender": senders[int(i % 3 == 2)],
                    "text": f"real message {cid} {i} about hiking",
                    "sent_at": start + timedelta(seconds=30 * i + rng.randint(0, 20)),
                }
                for i in range(n)
            ],
        }
    )


def test_at_least_six_english_writers_and_two_per_other_language() -> None:
    banks = load_writers()
    by_language = Counter(b.language for b in banks.values())
    assert by_language["en"] >= 6
    for language in ("es", "fr", "de"):
        assert by_language[language] >= 2, language
    assert all(b.writer.startswith(b.language + "_") for b in banks.values())


def test_every_writer_bank_is_clean_in_all_four_languages() -> None:
    hits = []
    for writer, bank in load_writers().items():
        for where, lines in bank.all_lines().items():
            for i, text in enumerate(lines):
                hits.extend((writer, where, i, term) for term, _ in find_terms(text))
    assert hits == []


def test_validation_writers_cover_every_language_and_never_train() -> None:
    for language in LANGUAGES:
        train = set(select_writers("train", language))
        val = set(select_writers("validation", language))
        assert val, language
        assert train, language
        assert not train & val
        assert val <= VALIDATION_WRITERS
    assert ORIGINAL_WRITER in select_writers("train", "en")
    with pytest.raises(ValueError, match="unknown writer"):
        select_writers("en_w99")


@pytest.fixture(scope="module")
def carriers() -> list[Conversation]:
    rng = random.Random(5)
    return [_carrier(f"chitchat-c{i}", rng.randint(4, 40), rng) for i in range(60)]


@pytest.fixture(scope="module")
def train_corpus(carriers: list[Conversation]) -> list[Conversation]:
    return list(generate(600, seed=3, config=SynthConfig(language="mix", writers="train"), carriers=carriers))


@pytest.fixture(scope="module")
def val_corpus(carriers: list[Conversation]) -> list[Conversation]:
    return list(
        generate(300, seed=4, config=SynthConfig(language="mix", writers="validation"), carriers=carriers)
    )


def test_writer_hold_out_no_writer_in_both_training_and_validation(
    train_corpus: list[Conversation], val_corpus: list[Conversation]
) -> None:
    train_writers = {w for c in train_corpus for w in c.writers}
    val_writers = {w for c in val_corpus for w in c.writers}
    assert all(c.writers for c in train_corpus + val_corpus)
    assert not train_writers & val_writers
    assert val_writers <= VALIDATION_WRITERS
    assert ORIGINAL_WRITER in train_writers
    assert len(train_writers) >= 7


def test_every_record_has_its_language_and_all_four_appear(train_corpus: list[Conversation]) -> None:
    languages = Counter(c.language for c in train_corpus)
    assert set(languages) == {"en", "es", "fr", "de"}
    for c in train_corpus:
        banks = load_writers()
        assert all(w == ORIGINAL_WRITER or banks[w].language == c.language for w in c.writers)


@pytest.mark.parametrize("language", ["es", "fr", "de"])
def test_generated_corpora_in_each_language_are_clean_and_labelled(language: str) -> None:
    corpus = list(generate(400, seed=11, config=SynthConfig(language=language)))
    assert scan_conversations(corpus) == []
    assert {c.language for c in corpus} == {language}
    labels = Counter(c.label.value for c in corpus if c.label)
    assert labels["grooming"]
    assert labels["sextortion"]
    assert labels["benign"]
    for c in corpus:
        first = next((i for i, m in enumerate(c.messages) if m.categories), None)
        assert c.first_risk_index == (first if c.is_risky else None)


def test_woven_conversations_keep_every_real_message_in_order(
    train_corpus: list[Conversation], carriers: list[Conversation]
) -> None:
    by_sender_texts = {tuple(m.text for m in c.messages): c for c in carriers}
    woven = [c for c in train_corpus if c.conversation_id.startswith("wov-")]
    assert len(woven) >= 50
    real_texts = {m.text for c in carriers for m in c.messages}
    for conv in woven:
        real = tuple(m.text for m in conv.messages if m.text in real_texts)
        carrier = by_sender_texts[real]  # the whole carrier, in order, nothing dropped
        inserted = [m for m in conv.messages if m.text not in real_texts]
        assert len(conv.messages) == len(carrier.messages) + len(inserted)
        assert {m.sender for m in conv.messages} == set(carrier.senders())
        times = [m.sent_at for m in conv.messages if m.sent_at is not None]
        assert times == sorted(times)
        # Categories only on inserted lines, and only the offender's.
        assert all(not m.categories for m in conv.messages if m.text in real_texts)
        if conv.is_risky:
            first = next(i for i, m in enumerate(conv.messages) if m.categories)
            assert conv.first_risk_index == first
            assert len({m.sender for m in conv.messages if m.categories}) == 1
        else:
            assert conv.hard_negative
            assert conv.first_risk_index is None
            assert not any(m.categories for m in conv.messages)


def test_weave_places_beats_in_order_with_indexes_and_categories() -> None:
    rng = random.Random(9)
    carrier = _carrier("chitchat-w", 12, rng)
    bank = load_writers()["en_w1"]
    fill = SlotContext(rng, {})
    beats = grooming_beats(rng, Voices(bank, bank), fill, 4, 0.5) + sextortion_beats(
        rng, Voices(bank, bank), fill, 2
    )
    roles = {OFFENDER: "real_a", VICTIM: "real_b"}
    messages, first = weave(carrier, beats, rng, roles=roles, onset=0.5)
    lines = [line for beat in beats for line in beat]
    assert len(messages) == 12 + len(lines)
    assert [m["text"] for m in messages if m["text"].startswith("real message")] == [
        m.text for m in carrier.messages
    ]
    inserted = [m for m in messages if not m["text"].startswith("real message")]
    assert [m["text"] for m in inserted] == [line.text for line in lines]
    assert [tuple(m["categories"]) for m in inserted] == [line.categories for line in lines]
    assert all(m["sender"] == roles[line.role] for m, line in zip(inserted, lines, strict=True))
    assert first == next(i for i, m in enumerate(messages) if m["categories"])
    # onset=0.5: nothing is inserted before the sixth real message.
    assert all(not m["categories"] for m in messages[:6])


def test_stats_report_languages_writers_and_their_overlap(train_corpus: list[Conversation]) -> None:
    stats = compute_stats(train_corpus)
    assert set(stats.by_language) == {"en", "es", "fr", "de"}
    assert stats.by_writer[ORIGINAL_WRITER] > 0
    assert len(stats.by_writer) >= 7
    pairs = {(o.a, o.b) for o in stats.writer_ngram_overlap}
    assert ("en_w1", "en_w2") in pairs
    assert all(o.a[:2] == o.b[:2] and 0 <= o.share <= 1 for o in stats.writer_ngram_overlap)


def test_a_bank_with_an_unknown_slot_or_missing_category_is_refused() -> None:
    from grooming_risk.data.synth.writers import WriterBank

    raw = load_writers()["en_w1"].model_dump(mode="json")
    raw["risk"]["secrecy"] = ["keep it between us {phone}"]
    with pytest.raises(ValueError, match="unknown slot"):
        WriterBank.model_validate(raw)
    raw = load_writers()["en_w1"].model_dump(mode="json")
    del raw["risk"]["isolation"]
    with pytest.raises(ValueError, match="missing categories"):
        WriterBank.model_validate(raw)
