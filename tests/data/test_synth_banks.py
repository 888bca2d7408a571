"""Phrase banks and the pieces the generator is built from: grammar, slots, noise, obfuscation."""

from __future__ import annotations

import random

import pytest

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.data.synth import slots
from grooming_risk.data.synth.arcs import split_budget
from grooming_risk.data.synth.noise import QUIET, Style, apply_style, obfuscate
from grooming_risk.data.synth.phrases import CATEGORY_BANKS, all_templates
from grooming_risk.data.synth.phrases.hard_negatives import ROLE_SLOTS, SCENARIOS
from grooming_risk.data.synth.template import (
    TemplateError,
    count_variants,
    expand_all,
    parse,
    render,
    slot_names,
)
from grooming_risk.text.normalize import normalize

FIXED_ONLY_SLOTS = {*ROLE_SLOTS, "target"}


def test_every_category_has_a_bank_with_hundreds_of_core_phrasings() -> None:
    assert set(CATEGORY_BANKS) == set(RISK_CATEGORIES)
    for category, bank in CATEGORY_BANKS.items():
        assert bank.category == category
        assert len(bank.cores) >= 30, category
        assert len(set(bank.cores)) == len(bank.cores), f"duplicate core in {category}"
        # Before slots are filled and before openers and tails multiply them.
        assert bank.core_variants() >= 200, (category, bank.core_variants())


def test_every_template_parses_and_uses_known_slots() -> None:
    templates = all_templates()
    assert len(templates) > 100
    total = 0
    for where, lines in templates.items():
        for line in lines:
            parse(line)
            unknown = slot_names(line) - set(slots.BANKS) - FIXED_ONLY_SLOTS
            assert not unknown, (where, line, unknown)
            total += 1
    assert total > 1000


def test_hard_negative_scenarios_are_many_and_use_their_roles() -> None:
    assert len(SCENARIOS) >= 20
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)
    for scenario in SCENARIOS:
        assert len(scenario.roles) >= 2
        assert {step.role for step in scenario.steps} <= set(scenario.roles), scenario.name
        assert set(scenario.roles) <= set(ROLE_SLOTS), scenario.name


def test_grammar_alternatives_slots_and_counts() -> None:
    assert count_variants("how old [are you|r u] [again|btw|]") == 6
    assert count_variants("[a|[b|c] d]") == 3
    assert sorted(expand_all("[hi|hey] {name}[!|]")) == sorted(
        ["hi {name}!", "hi {name}", "hey {name}!", "hey {name}"]
    )
    rng = random.Random(0)
    seen = {render("[a|b|c] {x}", rng, lambda name: name.upper()) for _ in range(200)}
    assert seen == {"a X", "b X", "c X"}
    assert render("so [|really] nice [,|] ok", random.Random(1), str) in {
        "so nice, ok",
        "so really nice, ok",
        "so nice ok",
        "so really nice ok",
    }


@pytest.mark.parametrize("bad", ["[open", "close]", "a|b", "{unclosed", "{Bad Name}", "stray }"])
def test_grammar_errors_quote_the_template(bad: str) -> None:
    with pytest.raises(TemplateError, match="template"):
        parse(bad)


def test_slot_context_keeps_fixed_values_and_draws_the_rest() -> None:
    rng = random.Random(3)
    ctx = slots.SlotContext(rng, {"victim": "Ana"})
    assert {ctx("victim") for _ in range(20)} == {"Ana"}
    assert len({ctx("game") for _ in range(200)}) > 10
    with pytest.raises(KeyError, match="nope"):
        ctx("nope")
    shouting = ctx.with_decorator(lambda name, value: value.upper())
    assert shouting("victim") == "ANA"
    ctx.fixed["app"] = "kik"
    assert shouting("app") == "KIK"  # the decorated view shares the fixed values


def test_obfuscation_disguises_and_normalisation_often_recovers() -> None:
    rng = random.Random(5)
    disguised = [obfuscate(app, rng) for app in slots.MIGRATION_APPS for _ in range(20)]
    plain = {app.replace(" ", "") for app in slots.MIGRATION_APPS}
    assert not [d for d in disguised if d in plain]
    recovered = sum(normalize(d).text.lower().replace(" ", "") in plain for d in disguised)
    assert recovered / len(disguised) > 0.5
    # Irregular separators ("k.ik", "fa.cetime") slip past the normaliser; most forms do not.
    flagged = sum(normalize(f"add me on {d}").obfuscated for d in disguised)
    assert flagged / len(disguised) > 0.85


def test_styles_change_text_but_quiet_only_capitalises() -> None:
    rng = random.Random(8)
    text = "are you going to the park tomorrow because i want to come"
    assert apply_style(text, QUIET, rng) == text[0].upper() + text[1:]
    styled = {apply_style(text, Style.draw(rng), rng) for _ in range(300)}
    assert len(styled) > 50
    assert any(" u " in s or "tmrw" in s or "cuz" in s or "gonna" in s for s in styled)


def test_split_budget_sums_and_varies() -> None:
    rng = random.Random(2)
    for total, parts in [(0, 3), (10, 1), (37, 5), (3, 8)]:
        out = split_budget(rng, total, parts, unevenness=2.0)
        assert len(out) == parts
        assert sum(out) == total
        assert min(out) >= 0
    assert split_budget(rng, 5, 0) == []
