"""Phrasing pools: a held-out-phrasing set shares almost no wording with a training corpus."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from grooming_risk.cli.synth import synth
from grooming_risk.contract.conversation import Conversation
from grooming_risk.data.cards import read_card
from grooming_risk.data.synth import SynthConfig, generate
from grooming_risk.data.synth.phrases import CATEGORY_BANKS, chatter
from grooming_risk.data.synth.pool import PhrasePool, is_heldout
from grooming_risk.io import read_conversations

# The phrase pools split the original template banks (writer en_w0); the other writers have a
# hold-out of their own (whole writers, see test_writers.py).
TEMPLATES = "en_w0"


def _messages(conversations: list[Conversation]) -> set[str]:
    return {m.text for c in conversations for m in c.messages}


def _overlap(reference: set[str], other: set[str]) -> float:
    """Share of `other`'s distinct messages that also occur in `reference`."""
    return len(reference & other) / len(other)


def test_all_pool_draws_exactly_like_plain_indexing() -> None:
    templates = tuple(f"line {i}" for i in range(17))
    a, b = random.Random(3), random.Random(3)
    for _ in range(200):
        assert PhrasePool("all").pick(templates, a) == templates[int(b.random() * len(templates))]


def test_train_and_heldout_split_every_long_list_without_overlap() -> None:
    lists = [bank.cores for bank in CATEGORY_BANKS.values()] + [chatter.GREETINGS, chatter.REACTIONS]
    train, heldout = PhrasePool("train"), PhrasePool("heldout")
    for templates in lists:
        assert len(templates) >= 5
        t, h = set(train.options(templates)), set(heldout.options(templates))
        assert t
        assert h
        assert not t & h
        assert t | h == set(templates)
        assert all(is_heldout(x, 0.25) for x in h)


def test_a_list_on_one_side_stays_whole() -> None:
    [only] = ("just one line",)
    assert PhrasePool("train").options((only,)) == (only,)
    assert PhrasePool("heldout").options((only,)) == (only,)


def test_heldout_corpus_shares_far_less_wording_than_another_seed() -> None:
    train = _messages(list(generate(500, seed=1, config=SynthConfig(phrase_pool="train", writers=TEMPLATES))))
    heldout = _messages(
        list(generate(500, seed=2, config=SynthConfig(phrase_pool="heldout", writers=TEMPLATES)))
    )
    same_pool = _messages(
        list(generate(500, seed=2, config=SynthConfig(phrase_pool="train", writers=TEMPLATES)))
    )
    # Short replies ("ok", "lol") exist in every pool; everything with wording in it should not.
    assert _overlap(train, heldout) < 0.5 * _overlap(train, same_pool)


def test_risk_signs_in_a_heldout_corpus_use_heldout_cores() -> None:
    heldout = list(generate(300, seed=4, config=SynthConfig(phrase_pool="heldout")))
    assert sum(c.is_risky for c in heldout) > 100
    train = list(generate(300, seed=4, config=SynthConfig(phrase_pool="train")))
    signs = {m.text for c in heldout for m in c.messages if m.categories}
    train_signs = {m.text for c in train for m in c.messages if m.categories}
    assert len(signs & train_signs) < 0.05 * len(signs)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"phrase_pool": "test"}, "phrase_pool"), ({"heldout_phrase_share": 1.0}, "heldout_phrase_share")],
)
def test_pool_config_errors_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        SynthConfig(**kwargs)  # type: ignore[arg-type]


def test_cli_phrase_pool_reaches_data_and_card(tmp_path: Path) -> None:
    app = typer.Typer()
    app.command()(synth)
    app.command("noop")(lambda: None)
    out = tmp_path / "h.jsonl"
    result = CliRunner().invoke(
        app, ["synth", "-n", "20", "--seed", "8", "--phrase-pool", "heldout", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    expected = list(generate(20, seed=8, config=SynthConfig(phrase_pool="heldout")))
    assert [c.model_dump(mode="json") for c in read_conversations(out)] == [
        c.model_dump(mode="json") for c in expected
    ]
    card = read_card(out)
    assert card is not None
    assert card.parameters["phrase_pool"] == "heldout"
    bad = CliRunner().invoke(
        app, ["synth", "-n", "2", "--phrase-pool", "test", "-o", str(tmp_path / "x.jsonl")]
    )
    assert bad.exit_code == 2
    assert "phrase_pool" in bad.output
