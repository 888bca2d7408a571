"""The synthetic generator: schema, determinism, label mix, risk positions, people, diversity, CLI."""

from __future__ import annotations

import gzip
import json
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from grooming_risk.cli.synth import synth
from grooming_risk.contract.conversation import Conversation
from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.data.cards import read_card
from grooming_risk.data.stats import compute_stats, message_key
from grooming_risk.data.synth import GENERATOR_VERSION, SynthConfig, generate, slots
from grooming_risk.data.synth.config import ONE_TO_ONE_PLATFORMS
from grooming_risk.io import read_conversations
from grooming_risk.text.normalize import normalize

CORPUS_SIZE = 1500
SENDER_ID = re.compile(r"^u_[0-9a-f]{8}$")
ZERO_WIDTH = ("\u200b", "\u200c", "\u200d", "\u2060", "\ufeff")
_LOOKALIKE = {"a": "4а", "e": "3е", "i": "1і", "o": "0о", "s": "5", "t": "7", "p": "р", "c": "с", "x": "х"}


def _disguised_app_pattern() -> re.Pattern[str]:
    """An app name written with separators, leetspeak, look-alike letters or zero-width characters."""
    gap = "[ .\\-_*\u200b\u200c\u200d\u2060\ufeff]?"
    alternatives = []
    for app in sorted({a.replace(" ", "") for a in slots.MIGRATION_APPS}, key=len, reverse=True):
        alternatives.append(gap.join(f"[{re.escape(c + _LOOKALIKE.get(c, ''))}]" for c in app))
    return re.compile("(?<![a-z0-9])(?:" + "|".join(alternatives) + ")(?![a-z0-9])", re.IGNORECASE)


DISGUISED_APP = _disguised_app_pattern()


def disguised_apps(text: str) -> list[str]:
    plain = {a.replace(" ", "") for a in slots.MIGRATION_APPS}
    return [m.group(0) for m in DISGUISED_APP.finditer(text) if m.group(0).lower() not in plain]


@pytest.fixture(scope="module")
def corpus() -> list[Conversation]:
    return list(generate(CORPUS_SIZE, seed=11))


@pytest.fixture(scope="module")
def clean_corpus() -> list[Conversation]:
    """No typing noise: distinct texts then count phrasings, not typos."""
    return list(generate(2000, seed=12, config=SynthConfig(noise=0.0)))


def _dump(conversations: list[Conversation]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in conversations]


# -- schema and determinism -------------------------------------------------------------------


def test_every_record_round_trips_through_the_contract(corpus: list[Conversation]) -> None:
    for conversation in corpus:
        again = Conversation.model_validate(conversation.model_dump(mode="json"))
        assert again == conversation
        assert conversation.language == "en"
        assert conversation.label is not None
        assert all(m.text for m in conversation.messages)
    ids = [c.conversation_id for c in corpus]
    assert len(set(ids)) == len(ids)


def test_same_seed_same_output_and_prefix_stable() -> None:
    first = _dump(list(generate(60, seed=3)))
    assert first == _dump(list(generate(60, seed=3)))
    # The first k conversations do not depend on n.
    assert first[:25] == _dump(list(generate(25, seed=3)))


def test_different_seed_different_output() -> None:
    a = _dump(list(generate(30, seed=1)))
    b = _dump(list(generate(30, seed=2)))
    assert a != b
    texts_a = {m["text"] for c in a for m in c["messages"]}
    texts_b = {m["text"] for c in b for m in c["messages"]}
    assert texts_a != texts_b


def test_determinism_does_not_depend_on_global_random_state() -> None:
    import random

    random.seed(1)
    a = _dump(list(generate(10, seed=9)))
    random.seed(2)
    random.random()
    assert a == _dump(list(generate(10, seed=9)))


def test_zero_conversations_and_bad_arguments() -> None:
    assert list(generate(0, seed=1)) == []
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        list(generate(-1, seed=1))
    with pytest.raises(ValueError, match="seed must be an integer"):
        list(generate(1, seed="x"))  # type: ignore[arg-type]


# -- labels and risk positions ----------------------------------------------------------------


def test_default_label_mix(corpus: list[Conversation]) -> None:
    counts = Counter(c.label.value for c in corpus if c.label)
    assert counts["grooming"] / CORPUS_SIZE == pytest.approx(0.35, abs=0.05)
    assert counts["sextortion"] / CORPUS_SIZE == pytest.approx(0.20, abs=0.05)
    assert counts["benign"] / CORPUS_SIZE == pytest.approx(0.45, abs=0.05)


def test_label_mix_is_configurable() -> None:
    only_grooming = list(generate(40, seed=5, config=SynthConfig(label_mix={"grooming": 1.0, "benign": 0.0})))
    assert {c.label.value for c in only_grooming if c.label} == {"grooming"}
    only_benign = list(generate(40, seed=5, config=SynthConfig(label_mix={"benign": 2.0})))
    assert {c.label.value for c in only_benign if c.label} == {"benign"}


def test_at_least_a_third_of_benign_are_hard_negatives(corpus: list[Conversation]) -> None:
    benign = [c for c in corpus if c.label and c.label.value == "benign"]
    hard = [c for c in benign if c.hard_negative]
    assert len(hard) / len(benign) >= 1 / 3
    assert not any(c.hard_negative for c in corpus if c.label and c.label.value != "benign")


def test_hard_negatives_share_surface_words_with_risk(corpus: list[Conversation]) -> None:
    cues = re.compile(
        r"secret|don'?t tell|how old|birthday|pic|photo|selfie|gift card|discord|snap|whatsapp|meet|address|"
        r"video call|delete|pay|scam|report|block|robux|skin|age|turning|proud|ride|pick you up|add me|call|owe|"
        r"lesson|[$£€]\d",
        re.IGNORECASE,
    )
    hard = [c for c in corpus if c.hard_negative]
    with_cue = [c for c in hard if any(cues.search(normalize(m.text).text) for m in c.messages)]
    assert len(with_cue) / len(hard) > 0.85


def test_first_risk_index_is_the_first_message_with_a_category(corpus: list[Conversation]) -> None:
    for conversation in corpus:
        flagged = [i for i, m in enumerate(conversation.messages) if m.categories]
        if conversation.is_risky:
            assert flagged, conversation.conversation_id
            assert conversation.first_risk_index == flagged[0], conversation.conversation_id
        else:
            assert flagged == [], conversation.conversation_id
            assert conversation.first_risk_index is None


def test_risk_onset_ranges_from_first_message_to_late(corpus: list[Conversation]) -> None:
    risky = [c for c in corpus if c.is_risky]
    onsets = [c.first_risk_index or 0 for c in risky]
    assert sum(o == 0 for o in onsets) >= 0.05 * len(risky)
    late = [c for c in risky if (c.first_risk_index or 0) >= len(c.messages) / 2]
    assert len(late) >= 0.05 * len(risky)


def test_every_category_occurs_and_messages_can_carry_several(corpus: list[Conversation]) -> None:
    seen = Counter(cat.value for c in corpus for m in c.messages for cat in m.categories)
    assert set(seen) == set(RISK_CATEGORIES)
    multi = sum(1 for c in corpus for m in c.messages if len(m.categories) > 1)
    assert multi > 0
    assert all(len(set(m.categories)) == len(m.categories) for c in corpus for m in c.messages)


def test_sextortion_arcs_threaten_and_demand_money(corpus: list[Conversation]) -> None:
    sextortion = [c for c in corpus if c.label and c.label.value == "sextortion"]
    for conversation in sextortion:
        cats = {cat.value for m in conversation.messages for cat in m.categories}
        assert "threat_coercion" in cats, conversation.conversation_id
    with_money = [
        c
        for c in sextortion
        if any(cat.value == "financial_demand" for m in c.messages for cat in m.categories)
    ]
    assert len(with_money) / len(sextortion) > 0.7
    grooming = [c for c in corpus if c.label and c.label.value == "grooming"]
    assert not any(
        cat.value == "financial_demand" for c in grooming for m in c.messages for cat in m.categories
    )


def test_grooming_stage_order_varies(corpus: list[Conversation]) -> None:
    orders = set()
    for conversation in corpus:
        if conversation.label and conversation.label.value == "grooming":
            order = tuple(dict.fromkeys(cat.value for m in conversation.messages for cat in m.categories))
            orders.add(order)
    assert len(orders) > 100


# -- people -----------------------------------------------------------------------------------


def test_participants_and_lengths_within_bounds(corpus: list[Conversation]) -> None:
    for conversation in corpus:
        assert 6 <= len(conversation.messages) <= 150
        ids = [p.id for p in conversation.participants]
        assert 2 <= len(ids) <= 6
        assert len(set(ids)) == len(ids)
        assert set(conversation.senders()) <= set(ids)
        assert len(conversation.senders()) >= 2
        if conversation.platform in ONE_TO_ONE_PLATFORMS:
            assert len(ids) == 2
    counts = Counter(len(c.participants) for c in corpus)
    assert set(counts) == {2, 3, 4, 5, 6}
    platforms = Counter(c.platform for c in corpus)
    assert set(platforms) == {"game_chat", "direct_message", "group_chat", "social_dm", "forum"}


def test_sender_ids_are_account_ids_not_names(corpus: list[Conversation]) -> None:
    for conversation in corpus:
        for participant in conversation.participants:
            assert SENDER_ID.match(participant.id), participant.id


def test_only_offenders_reappear_and_at_most_three_times(corpus: list[Conversation]) -> None:
    appearances: dict[str, list[Conversation]] = defaultdict(list)
    for conversation in corpus:
        for participant in conversation.participants:
            appearances[participant.id].append(conversation)
    repeated = {pid: convs for pid, convs in appearances.items() if len(convs) > 1}
    assert repeated, "some offender accounts should come back"
    assert len(repeated) < 0.1 * len(appearances)
    for pid, conversations in repeated.items():
        assert len(conversations) <= 3
        for conversation in conversations:
            assert conversation.is_risky
            assert any(m.sender == pid and m.categories for m in conversation.messages)


def test_signs_come_from_one_offender_and_the_victim_answers(corpus: list[Conversation]) -> None:
    risky = [c for c in corpus if c.is_risky]
    answered = 0
    for conversation in risky:
        offenders = {m.sender for m in conversation.messages if m.categories}
        assert len(offenders) == 1, conversation.conversation_id
        start = conversation.first_risk_index or 0
        if any(m.sender not in offenders for m in conversation.messages[start:]):
            answered += 1
    assert answered / len(risky) > 0.9


def test_declared_ages_and_timestamps_are_optional_and_ordered(corpus: list[Conversation]) -> None:
    ages = [p.declared_age for c in corpus for p in c.participants]
    assert any(a is None for a in ages)
    assert any(a is not None for a in ages)
    assert all(a is None or 10 <= a <= 80 for a in ages)
    timed = [c for c in corpus if c.messages[0].sent_at is not None]
    assert 0 < len(timed) < len(corpus)
    for conversation in timed:
        times = [m.sent_at for m in conversation.messages]
        assert all(t is not None for t in times)
        assert times == sorted(times)  # type: ignore[type-var]


def test_config_bounds_are_respected() -> None:
    config = SynthConfig(min_messages=10, max_messages=20, max_participants=2)
    for conversation in generate(150, seed=4, config=config):
        assert 10 <= len(conversation.messages) <= 20
        assert len(conversation.participants) == 2
        if conversation.is_risky:
            assert conversation.first_risk_index is not None


def test_group_only_platform_config() -> None:
    config = SynthConfig(min_participants=3, platforms=("group_chat", "direct_message"))
    for conversation in generate(80, seed=8, config=config):
        assert conversation.platform == "group_chat"
        assert 3 <= len(conversation.participants) <= 6


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"label_mix": {"spam": 1.0}}, "label_mix"),
        ({"label_mix": {"benign": -1.0}}, "label_mix"),
        ({"label_mix": {"benign": 0.0}}, "label_mix"),
        ({"hard_negative_share": 1.5}, "hard_negative_share"),
        ({"min_messages": 3}, "min_messages"),
        ({"min_messages": 20, "max_messages": 10}, "max_messages"),
        ({"min_participants": 1}, "min_participants"),
        ({"max_participants": 1}, "max_participants"),
        ({"platforms": ()}, "platforms"),
        ({"platforms": ("direct_message", "direct_message")}, "platforms"),
        ({"min_participants": 3, "platforms": ("direct_message",)}, "platforms"),
        ({"noise": -0.1}, "noise"),
        ({"timestamp_share": float("nan")}, "timestamp_share"),
    ],
)
def test_config_errors_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SynthConfig(**kwargs)  # type: ignore[arg-type]


def test_config_to_dict_is_json_ready() -> None:
    data = SynthConfig().to_dict()
    assert json.loads(json.dumps(data)) == data
    assert data["label_mix"] == {"benign": 0.45, "grooming": 0.35, "sextortion": 0.2}


# -- diversity and noise ----------------------------------------------------------------------


def test_hundreds_of_distinct_phrasings_per_category(clean_corpus: list[Conversation]) -> None:
    distinct: dict[str, set[str]] = defaultdict(set)
    for conversation in clean_corpus:
        for message in conversation.messages:
            for category in message.categories:
                distinct[category.value].add(message_key(message.text))
    for name in RISK_CATEGORIES:
        assert len(distinct[name]) >= 200, (name, len(distinct[name]))


def test_distinct_message_ratio_floor(corpus: list[Conversation], clean_corpus: list[Conversation]) -> None:
    # Measured with generator 1.0.0: ~0.53 (noisy, 1500 conversations) and ~0.46 (clean, 2000).
    assert compute_stats(corpus).distinct_message_ratio >= 0.42
    assert compute_stats(clean_corpus).distinct_message_ratio >= 0.38
    risk_texts = [message_key(m.text) for c in clean_corpus for m in c.messages if m.categories]
    assert len(set(risk_texts)) / len(risk_texts) >= 0.7


def test_obfuscation_and_noise_are_present(corpus: list[Conversation]) -> None:
    texts = [m.text for c in corpus for m in c.messages]
    migration = [
        m.text
        for c in corpus
        for m in c.messages
        if any(cat.value == "platform_migration" for cat in m.categories)
    ]
    disguised = [found for t in migration for found in disguised_apps(t)]
    assert len(disguised) / len(migration) >= 0.08
    forms = "\n".join(disguised)
    assert re.search(r"\b(?:[a-z] ){3,}[a-z]\b", forms, re.IGNORECASE)  # s n a p
    assert re.search(r"[a-z][.\-_*][a-z][.\-_*][a-z]", forms, re.IGNORECASE)  # t.e.l.e.g.r.a.m
    assert re.search(r"[a-z]\d|\d[a-z]", forms, re.IGNORECASE)  # sn4pch4t, d1sc0rd
    assert any(z in forms for z in ZERO_WIDTH)
    # The project's normaliser undoes most of them.
    assert sum(normalize(t).obfuscated for t in migration if disguised_apps(t)) > 0.8 * len(
        [t for t in migration if disguised_apps(t)]
    )
    # Friends disguise app names too now and then, so obfuscation alone does not give the label away,
    # and zero-width characters also turn up in ordinary words.
    benign = [m.text for c in corpus if not c.is_risky for m in c.messages]
    assert any(disguised_apps(t) for t in benign)
    assert any(z in t for t in benign for z in ZERO_WIDTH)
    joined = "\n".join(texts)
    lowercase_only = sum(1 for t in texts if t == t.lower())
    assert 0.3 < lowercase_only / len(texts) < 0.95
    assert any(ch in joined for ch in ("😂", "😭", "💀", "🙏"))
    assert re.search(r"\b(?:u|ur|pls|tmrw|rn|gonna|wanna)\b", joined)


def test_noise_and_obfuscation_can_be_turned_off() -> None:
    config = SynthConfig(noise=0.0, obfuscation_rate=0.0)
    texts = [m.text for c in generate(200, seed=6, config=config) for m in c.messages]
    assert not [t for t in texts if disguised_apps(t)]
    assert not [t for t in texts if any(z in t for z in ZERO_WIDTH)]
    noisy = [m.text for c in generate(200, seed=6) for m in c.messages]
    assert [t for t in noisy if disguised_apps(t)]


# -- CLI ----------------------------------------------------------------------------------------


def _app() -> typer.Typer:
    app = typer.Typer()
    app.command("synth")(synth)

    @app.command("noop")
    def noop() -> None:  # a second command keeps typer from collapsing the app into `synth`
        pass

    return app


@pytest.mark.parametrize("name", ["out.jsonl", "out.jsonl.gz", "out.parquet"])
def test_cli_writes_data_and_card(tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    result = CliRunner().invoke(_app(), ["synth", "-n", "40", "--seed", "5", "-o", str(out)])
    assert result.exit_code == 0, result.output
    conversations = list(read_conversations(out))
    assert len(conversations) == 40
    assert _dump(conversations) == _dump(list(generate(40, seed=5)))
    card = read_card(out)
    assert card is not None
    assert card.source == "synthetic"
    assert card.seed == 5
    assert card.generator_version == GENERATOR_VERSION
    assert card.parameters["n"] == 40
    assert card.counts.conversations == 40
    assert sum(card.counts.by_label.values()) == 40
    assert card.content_sha256


def test_cli_is_deterministic_byte_for_byte(tmp_path: Path) -> None:
    runner = CliRunner()
    for name in ("a.jsonl.gz", "b.jsonl.gz"):
        result = runner.invoke(
            _app(), ["synth", "-n", "25", "--seed", "9", "-o", str(tmp_path / name), "--no-card"]
        )
        assert result.exit_code == 0, result.output
    a = gzip.decompress((tmp_path / "a.jsonl.gz").read_bytes())
    b = gzip.decompress((tmp_path / "b.jsonl.gz").read_bytes())
    assert a == b
    assert not (tmp_path / "a.jsonl.gz.card.json").exists()


def test_cli_options_reach_the_config(tmp_path: Path) -> None:
    out = tmp_path / "g.jsonl"
    args = ["synth", "-n", "30", "-o", str(out), "--benign", "0", "--sextortion", "0", "--max-messages", "12"]
    result = CliRunner().invoke(_app(), args)
    assert result.exit_code == 0, result.output
    conversations = list(read_conversations(out))
    assert {c.label.value for c in conversations if c.label} == {"grooming"}
    assert max(len(c.messages) for c in conversations) <= 12


def test_cli_rejects_bad_config_and_file_names(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_mix = runner.invoke(
        _app(),
        [
            "synth",
            "-n",
            "5",
            "-o",
            str(tmp_path / "x.jsonl"),
            "--benign",
            "0",
            "--grooming",
            "0",
            "--sextortion",
            "0",
        ],
    )
    assert bad_mix.exit_code == 2
    assert "label_mix" in bad_mix.output
    bad_name = runner.invoke(_app(), ["synth", "-n", "5", "-o", str(tmp_path / "x.txt")])
    assert bad_name.exit_code == 2
    assert "cannot tell the format" in bad_name.output
    bad_platforms = runner.invoke(
        _app(),
        ["synth", "-n", "5", "-o", str(tmp_path / "y.jsonl"), "--platforms", "direct_message,direct_message"],
    )
    assert bad_platforms.exit_code == 2
    assert "platforms" in bad_platforms.output
