"""No sexual content, ever: scan large generated corpora and every phrase bank against the blocklist.

The scanner is first shown to catch planted terms in the disguises the generator itself uses, so
a clean result cannot be a scanner that matches nothing.
"""

from __future__ import annotations

import pytest

from grooming_risk.contract.conversation import Conversation
from grooming_risk.data.blocklist import (
    BLOCKED_TERMS,
    BLOCKED_TERMS_BY_LANGUAGE,
    BLOCKLIST_LANGUAGES,
    SUGGESTIVE_PHRASES,
    SUGGESTIVE_PHRASES_BY_LANGUAGE,
    BlocklistHit,
    find_terms,
    is_clean,
    scan_conversations,
    scan_texts,
)
from grooming_risk.data.synth import SynthConfig, generate, slots
from grooming_risk.data.synth.phrases import all_templates
from grooming_risk.data.synth.template import expand_all
from grooming_risk.data.synth.writers import load_writers

CORPUS_SEEDS = (101, 202, 303)
PER_SEED = 1000


def _planted(word: str) -> list[str]:
    """The word as a generator or a user might disguise it."""
    spaced = " ".join(word)
    zero_width = word[:1] + "\u200b" + word[1:]
    leet = word.replace("e", "3").replace("o", "0").replace("i", "1")
    return [
        f"this has {word} in it",
        f"THIS HAS {word.upper()}!",
        f"so {spaced} lol",
        f"look {zero_width} ok",
        f"see {leet} here",
        f"{word.capitalize()}.",
    ]


@pytest.mark.parametrize(
    "term", ["sex", "sexy", "naked", "nudes", "porn", "lingerie", "topless", "undressed", "masturbating"]
)
def test_scanner_catches_planted_terms_in_every_disguise(term: str) -> None:
    for text in _planted(term):
        assert not is_clean(text), ascii(text)
        assert find_terms(text)


def test_scanner_catches_suggestive_phrases_and_respects_word_boundaries() -> None:
    for phrase in SUGGESTIVE_PHRASES:
        assert not is_clean(f"hey {phrase.upper()} ?"), phrase
    # Whole words only: ordinary words containing a blocked string are fine.
    for text in (
        "sussex is far",
        "essex",
        "the breaststroke race",
        "middlesex",
        "bedtime is 9",
        "sextortion scam warning",
    ):
        assert find_terms(text) == [], text


def test_every_listed_term_is_matched() -> None:
    for term in BLOCKED_TERMS:
        word = term.rstrip("*") + ("ion" if term.endswith("*") else "")
        assert find_terms(f"x {word} y"), term


@pytest.mark.parametrize("language", BLOCKLIST_LANGUAGES)
def test_every_language_term_and_phrase_is_matched(language: str) -> None:
    assert set(BLOCKLIST_LANGUAGES) == {"en", "es", "fr", "de"}
    for term in BLOCKED_TERMS_BY_LANGUAGE[language]:
        word = term.rstrip("*") + ("ion" if term.endswith("*") else "")
        assert find_terms(f"x {word} y"), (language, term)
        assert find_terms(f"X {word.upper()}!"), (language, term)
    for phrase in SUGGESTIVE_PHRASES_BY_LANGUAGE[language]:
        assert find_terms(f"hey {phrase} ?"), (language, phrase)


@pytest.mark.parametrize(
    "text",
    [
        "nuestro equipo ganó, qué guay",
        "on se voit avenue des Champs demain",
        "die neue Folge war super",
        "sechs Uhr beim Training",
        "je suis nul en maths",
        "vamos al parque con los perros",
    ],
)
def test_ordinary_words_in_other_languages_are_not_blocked(text: str) -> None:
    assert find_terms(text) == [], text


def test_scan_texts_reports_positions_and_not_the_text() -> None:
    texts = ["all good here", "a nude in here", "fine", "n a k e d"]
    hits = scan_texts(texts)
    assert [(h.index, h.term) for h in hits] == [(1, "nude"), (3, "naked")]
    assert "a nude in here" not in str(hits[0])
    assert str(hits[0]) == "text 1: blocked term 'nude' (raw text)"


def test_scan_conversations_locates_a_planted_message() -> None:
    conversations = list(generate(5, seed=1))
    planted = conversations[2].model_copy(deep=True)
    planted.messages[3].text = "s\u200bexy"
    hits = scan_conversations([conversations[0], conversations[1], planted, *conversations[3:]])
    assert hits == [
        BlocklistHit(
            term="sexy",
            form="normalized",
            index=hits[0].index,
            conversation_id=planted.conversation_id,
            message_index=3,
        )
    ]
    assert "conversation" in str(hits[0])


def test_phrase_banks_and_slot_values_are_clean() -> None:
    texts: list[str] = []
    for lines in all_templates().values():
        for line in lines:
            texts.extend(expand_all(line, limit=5000))
    for name in dir(slots):
        value = getattr(slots, name)
        if name.isupper() and isinstance(value, tuple):
            texts.extend(str(v) for v in value)
    # Every independent writer's bank, in all four languages.
    for bank in load_writers().values():
        for lines in bank.all_lines().values():
            texts.extend(lines)
    assert len(texts) > 20_000
    hits = scan_texts(texts)
    assert not hits, [f"{h}: {texts[h.index]!r}" for h in hits[:20]]


@pytest.fixture(scope="module")
def large_corpus() -> list[Conversation]:
    conversations: list[Conversation] = []
    for seed in CORPUS_SEEDS:
        conversations.extend(generate(PER_SEED, seed=seed))
    # Heavy noise makes the most typos and disguises, where a forbidden word could appear by accident.
    conversations.extend(generate(500, seed=404, config=SynthConfig(noise=3.0, obfuscation_rate=1.0)))
    # Spanish, French and German too, with the heaviest typing noise.
    conversations.extend(generate(1000, seed=505, config=SynthConfig(language="mix", noise=3.0)))
    return conversations


@pytest.mark.slow
def test_large_generated_corpus_is_clean(large_corpus: list[Conversation]) -> None:
    assert len(large_corpus) == len(CORPUS_SEEDS) * PER_SEED + 1500
    assert {c.language for c in large_corpus} == {"en", "es", "fr", "de"}
    assert sum(len(c.messages) for c in large_corpus) > 100_000
    hits = scan_conversations(large_corpus)
    assert not hits, [str(h) for h in hits[:20]]
