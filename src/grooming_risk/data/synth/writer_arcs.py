"""Arcs built from the independent writers' banks, as beats: short runs of lines that belong together.

A beat is what must stay contiguous (an offender's sign, the child's reply, a push and a second
reply); what goes between beats is the caller's business: chatter from the writers' banks in a
generated conversation, or real messages when an arc is woven into a real chat (`synth.weave`).
The stage plan of a grooming arc is the template generator's (`arcs.grooming_stage_plan`), so
both kinds of data follow the same typical-but-jittered order and pace.

Roles are "offender" and "victim" for risky arcs, "A" and "B" for benign scenes and chatter.
Only offender lines carry categories.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass

from grooming_risk.contract.taxonomy import RiskCategory
from grooming_risk.data.synth.arcs import grooming_stage_plan
from grooming_risk.data.synth.slots import SlotContext
from grooming_risk.data.synth.template import render, tidy
from grooming_risk.data.synth.writers.bank import HardNegativeScene, WriterBank

C = RiskCategory
OFFENDER = "offender"
VICTIM = "victim"
_GLUE = (" ", ". ", ", ", " ... ")
_JOINS = (" ", ", ", ". ", " ... ", " - ", "! ")
# How often a line carries a second one: chatter runs thoughts together; a sign often comes
# wrapped in small talk, which is also what makes it hard to spot.
CHATTER_JOIN = 0.5
SIGN_WRAP = 0.3
# Sign-bearing requests a child tends to resist more.
_GUARDED = frozenset({C.IMAGE_REQUEST.value, C.MEETING_REQUEST.value, C.SECRECY.value})


@dataclass(frozen=True)
class Line:
    role: str
    text: str
    categories: tuple[str, ...] = ()


Beat = list[Line]


@dataclass(frozen=True)
class Voices:
    """Whose banks one conversation speaks with: the offender's (or A's) and the child's (or B's)."""

    first: WriterBank
    second: WriterBank

    @property
    def ids(self) -> list[str]:
        return list(dict.fromkeys((self.first.writer, self.second.writer)))


def _say(
    rng: random.Random,
    lines: Sequence[str],
    fill: SlotContext,
    joinable: Sequence[str] = (),
    join_rate: float = 0.0,
) -> str:
    """One line; sometimes a second one from `joinable` joined on, as people run thoughts together."""
    text = render(lines[int(rng.random() * len(lines))], rng, fill)
    if joinable and rng.random() < join_rate:
        second = render(joinable[int(rng.random() * len(joinable))], rng, fill)
        text = f"{text}{rng.choice(_JOINS)}{second}"
    return tidy(text)


def sign(rng: random.Random, bank: WriterBank, categories: Sequence[str], fill: SlotContext) -> Line:
    """One offender message showing each of `categories` (two signs are joined into one message)."""
    parts = [_say(rng, bank.risk[c], fill) for c in categories]
    text = rng.choice(_GLUE).join(parts)
    if rng.random() < SIGN_WRAP:
        talk = bank.chatter.reactions if rng.random() < 0.5 else bank.offender_plain.rapport
        small = _say(rng, talk, fill)
        text = (
            f"{small}{rng.choice(_JOINS)}{text}"
            if rng.random() < 0.5
            else f"{text}{rng.choice(_JOINS)}{small}"
        )
    return Line(OFFENDER, text, tuple(dict.fromkeys(categories)))


def reaction(rng: random.Random, compliance: float, category: str) -> str:
    c = compliance * (0.7 if category in _GUARDED else 1.0)
    return rng.choices(("comply", "hesitate", "refuse"), (c, 0.35, (1.0 - c) * 0.5))[0]


def reply(rng: random.Random, bank: WriterBank, category: str, how: str, fill: SlotContext) -> Line:
    return Line(VICTIM, _say(rng, bank.victim[category][how], fill, bank.chatter.reactions, 0.15))


def stage_beat(
    rng: random.Random, voices: Voices, stage: Sequence[str], fill: SlotContext, compliance: float
) -> Beat:
    """A sign, usually the child's answer, and after pushback sometimes a second push."""
    off, vic = voices.first, voices.second
    main = stage[0]
    beat = [sign(rng, off, stage, fill)]
    how = reaction(rng, compliance, main)
    if rng.random() < 0.9:
        beat.append(reply(rng, vic, main, how, fill))
    if how != "comply":
        move = rng.random()
        if move < 0.45:
            beat.append(sign(rng, off, [main], fill))
            beat.append(reply(rng, vic, main, reaction(rng, compliance, main), fill))
        elif move < 0.65:
            beat.append(sign(rng, off, [C.FLATTERY_TRUST.value], fill))
        elif move < 0.9:
            beat.append(Line(OFFENDER, _say(rng, off.offender_plain.rapport, fill)))
    return beat


def grooming_beats(
    rng: random.Random, voices: Voices, fill: SlotContext, max_stages: int, compliance: float
) -> list[Beat]:
    plan = grooming_stage_plan(rng, max(1, max_stages))
    return [stage_beat(rng, voices, stage, fill, compliance) for stage in plan]


def sextortion_beats(rng: random.Random, voices: Voices, fill: SlotContext, rounds: int) -> list[Beat]:
    """Fast rapport, a photo request (retried), then threats and demands while the child pushes back."""
    off, vic = voices.first, voices.second
    beats: list[Beat] = []
    if rng.random() < 0.8:
        beats.append(
            [
                sign(rng, off, [C.FLATTERY_TRUST.value], fill),
                reply(rng, vic, C.FLATTERY_TRUST.value, "comply" if rng.random() < 0.7 else "hesitate", fill),
            ]
        )
    if rng.random() < 0.5:
        beats.append(
            [
                sign(rng, off, [C.AGE_PROBING.value], fill),
                reply(rng, vic, C.AGE_PROBING.value, "comply", fill),
            ]
        )
    if rng.random() < 0.5:
        beats.append(
            [
                sign(rng, off, [C.PLATFORM_MIGRATION.value], fill),
                reply(
                    rng, vic, C.PLATFORM_MIGRATION.value, "comply" if rng.random() < 0.7 else "hesitate", fill
                ),
            ]
        )
    request: Beat = []
    for attempt in range(rng.randint(1, 3)):
        request.append(sign(rng, off, [C.IMAGE_REQUEST.value], fill))
        if rng.random() < 0.45 + 0.2 * attempt:
            request.append(reply(rng, vic, C.IMAGE_REQUEST.value, "comply", fill))
            break
        request.append(
            reply(rng, vic, C.IMAGE_REQUEST.value, "hesitate" if rng.random() < 0.6 else "refuse", fill)
        )
    beats.append(request)
    # The turn and the pressure rounds come fast: one beat, so nothing is woven in between.
    pressure: Beat = [sign(rng, off, [C.THREAT_COERCION.value], fill)]
    for _ in range(max(1, rounds)):
        move = rng.random()
        if move < 0.35:
            categories = [C.THREAT_COERCION.value]
        elif move < 0.7:
            categories = [C.FINANCIAL_DEMAND.value]
        else:
            categories = [C.THREAT_COERCION.value, C.FINANCIAL_DEMAND.value]
            rng.shuffle(categories)
        pressure.append(sign(rng, off, categories, fill))
        if rng.random() < 0.9:
            answer = categories[0]
            pressure.append(reply(rng, vic, answer, rng.choice(("hesitate", "refuse", "comply")), fill))
    beats.append(pressure)
    return beats


def scene_beats(rng: random.Random, scene: HardNegativeScene, fill: SlotContext) -> list[Beat]:
    """A benign scene, kept in order, cut into one to three runs (other talk may fall between)."""
    lines = [Line(role, tidy(render(text, rng, fill))) for role, text in scene.lines]
    cuts = sorted(rng.sample(range(1, len(lines)), min(len(lines) - 1, rng.randint(0, 2))))
    bounds = [0, *cuts, len(lines)]
    return [lines[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def chatter_beat(rng: random.Random, voices: Voices, fill: SlotContext) -> Beat:
    """A short bit of everyday talk between A and B (either may start)."""
    first, second = ("A", "B") if rng.random() < 0.5 else ("B", "A")
    chatter = {"A": voices.first.chatter, "B": voices.second.chatter}

    def line(who: str, kind: str, joined: str | None = None, rate: float = 0.0) -> Line:
        joinable = getattr(chatter[who], joined) if joined else ()
        return Line(who, _say(rng, getattr(chatter[who], kind), fill, joinable, rate))

    kind = rng.random()
    if kind < 0.55:
        beat = [
            line(first, "questions", "statements", CHATTER_JOIN / 2),
            line(second, "answers", "questions", CHATTER_JOIN),
        ]
        if rng.random() < 0.4:
            beat.append(line(first, "reactions"))
        return beat
    if kind < 0.9:
        beat = [line(first, "statements", "statements", CHATTER_JOIN)]
        if rng.random() < 0.7:
            beat.append(line(second, "reactions"))
        return beat
    return [line(first, "reactions")]


def greeting_beat(rng: random.Random, voices: Voices, fill: SlotContext) -> Beat:
    beat = [Line("A", _say(rng, voices.first.chatter.greetings, fill))]
    if rng.random() < 0.8:
        beat.append(Line("B", _say(rng, voices.second.chatter.greetings, fill)))
    return beat


def farewell_beat(rng: random.Random, voices: Voices, fill: SlotContext) -> Beat:
    speaker, bank = ("A", voices.first) if rng.random() < 0.5 else ("B", voices.second)
    return [Line(speaker, _say(rng, bank.chatter.farewells, fill))]


def plain_offender_line(rng: random.Random, voices: Voices, fill: SlotContext, first: bool) -> Line:
    lines = voices.first.offender_plain.first_contact if first else voices.first.offender_plain.rapport
    return Line(OFFENDER, _say(rng, lines, fill))
