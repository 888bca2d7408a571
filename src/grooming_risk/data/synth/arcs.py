"""Conversation arcs: the order in which things are said, for each label.

A grooming arc runs through stages (age probing, flattery, secrecy, isolation, gifts, moving
app, image and meeting requests) in a loosely typical but varying order and pace, threaded with
ordinary chatter; risk can start at the first message or late. A sextortion arc is fast: quick
rapport (often a fake peer), an early image request, then threats and a money demand with a
deadline while the victim pushes back. Benign conversations are chatter or a hard-negative
scenario. Only the offender's sign-bearing messages carry categories.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from grooming_risk.contract.taxonomy import RiskCategory
from grooming_risk.data.synth.noise import Style, apply_style
from grooming_risk.data.synth.phrases import CATEGORY_BANKS, chatter, offender, victim
from grooming_risk.data.synth.phrases.hard_negatives import Scenario
from grooming_risk.data.synth.pool import ALL, PhrasePool
from grooming_risk.data.synth.slots import SlotContext
from grooming_risk.data.synth.template import render

if TYPE_CHECKING:
    from grooming_risk.data.synth.weave import RealChatter

C = RiskCategory

# The loosely typical order of grooming stages; each conversation jitters it.
GROOMING_STAGES: tuple[str, ...] = (
    C.AGE_PROBING.value,
    C.FLATTERY_TRUST.value,
    C.GIFTS_OFFERS.value,
    C.SECRECY.value,
    C.ISOLATION.value,
    C.PLATFORM_MIGRATION.value,
    C.IMAGE_REQUEST.value,
    C.MEETING_REQUEST.value,
)


@dataclass
class Person:
    id: str
    name: str
    role: str
    adult: bool
    declared_age: int | None
    style: Style
    compliance: float = 0.5


@dataclass(frozen=True)
class Turn:
    speaker: Person
    text: str
    categories: tuple[str, ...] = ()


def split_budget(rng: random.Random, total: int, parts: int, unevenness: float = 1.0) -> list[int]:
    """Split `total` messages into `parts` non-negative gaps; higher unevenness bunches them."""
    if parts <= 0:
        return []
    if total <= 0:
        return [0] * parts
    weights = [rng.random() ** unevenness + 1e-9 for _ in range(parts)]
    scale = total / sum(weights)
    out = [int(w * scale) for w in weights]
    for _ in range(total - sum(out)):
        out[int(rng.random() * parts)] += 1
    return out


class Script:
    """Builds the turns of one conversation; renders templates and applies each speaker's style."""

    def __init__(
        self,
        rng: random.Random,
        risky_fill: SlotContext,
        plain_fill: SlotContext,
        platform: str,
        topics: Sequence[chatter.Topic],
        pool: PhrasePool = ALL,
    ) -> None:
        self.rng = rng
        self.pool = pool
        self.risky_fill = risky_fill
        self.plain_fill = plain_fill
        self.platform = platform
        self.topics = list(topics)
        self.turns: list[Turn] = []
        # Real chat snippets for ordinary talk (set by the generator when it has carriers).
        self.real_chatter: RealChatter | None = None
        self.real_share = 0.0

    def __len__(self) -> int:
        return len(self.turns)

    # -- single messages --------------------------------------------------------------------
    def add(self, speaker: Person, text: str, categories: Sequence[str] = ()) -> None:
        self.turns.append(Turn(speaker, apply_style(text, speaker.style, self.rng), tuple(categories)))

    def say(
        self,
        speaker: Person,
        templates: Sequence[str],
        categories: Sequence[str] = (),
        *,
        risky: bool = False,
    ) -> None:
        fill = self.risky_fill if risky else self.plain_fill
        self.add(speaker, render(self.pool.pick(templates, self.rng), self.rng, fill), categories)

    def chat(self, speaker: Person, templates: Sequence[str], joinable: Sequence[str] = ()) -> None:
        """An ordinary line, sometimes with a filler word around it or a second clause joined on."""
        rng = self.rng
        text = render(self.pool.pick(templates, rng), rng, self.plain_fill)
        if joinable and rng.random() < 0.12:
            second = render(self.pool.pick(joinable, rng), rng, self.plain_fill)
            text = f"{text}{rng.choice((' ', ', ', '. ', ' and ', ' ... ', ' - '))}{second}"
        if rng.random() < 0.25:
            opener = rng.choice(chatter.CHATTER_OPENERS)
            if not text.lower().startswith(opener.split()[-1]):
                text = f"{opener} {text}"
        if rng.random() < 0.2:
            tail = rng.choice(chatter.CHATTER_TAILS)
            if not text.lower().endswith(tail.split()[0]):
                text = f"{text} {tail}"
        self.add(speaker, text)

    def sign(self, speaker: Person, categories: Sequence[str], opener: str | None = None) -> None:
        """One offender message showing one or more warning signs."""
        parts = [CATEGORY_BANKS[c].render(self.rng, self.risky_fill, self.pool) for c in categories]
        glue = self.rng.choice((" ", ". ", ", ", " and ", " ... "))
        text = glue.join(parts)
        if opener:
            text = f"{opener} {text}"
        self.add(speaker, text, list(dict.fromkeys(categories)))

    # -- chatter ----------------------------------------------------------------------------
    def _pair(self, people: Sequence[Person], focus: tuple[Person, Person] | None) -> tuple[Person, Person]:
        if focus is not None and (len(people) == 2 or self.rng.random() < 0.7):
            a, b = focus
            return (a, b) if self.rng.random() < 0.5 else (b, a)
        a, b = self.rng.sample(list(people), 2)
        return a, b

    def _topic(self) -> chatter.Topic:
        # Stay on the conversation's first topics most of the time, as people do.
        if self.rng.random() < 0.8:
            return self.topics[int(self.rng.random() ** 2 * len(self.topics))]
        return self.rng.choice(chatter.TOPICS)

    def exchange(
        self, people: Sequence[Person], room: int, focus: tuple[Person, Person] | None = None
    ) -> int:
        """One short bit of ordinary talk; returns how many messages it added (1 to 4, <= room when room >= 1)."""
        rng = self.rng
        a, b = self._pair(people, focus)
        before = len(self.turns)
        if self.real_chatter is not None and rng.random() < self.real_share:
            for who, text in self.real_chatter.snippet(max(1, room)):
                self.turns.append(Turn((a, b)[who], text))
            return len(self.turns) - before
        kind = rng.random()
        if self.platform == "game_chat" and kind < 0.15:
            self.say(a, chatter.GAME_CALLS)
            if room > 1 and rng.random() < 0.5:
                self.say(b, chatter.GAME_CALLS + chatter.REACTIONS)
            return len(self.turns) - before
        if self.platform == "forum" and kind < 0.2:
            self.say(a, chatter.FORUM_LINES)
            if room > 1 and rng.random() < 0.6:
                self.say(b, chatter.FORUM_LINES)
            return len(self.turns) - before
        topic = self._topic()
        if kind < 0.6:
            self.chat(a, topic.questions)
            if room > 1:
                self.chat(b, topic.answers if rng.random() < 0.75 else chatter.REACTIONS, topic.statements)
                if room > 2 and rng.random() < 0.45:
                    self.chat(a, chatter.REACTIONS if rng.random() < 0.6 else topic.statements)
                    if room > 3 and rng.random() < 0.3:
                        self.chat(b, topic.statements, topic.questions)
        elif kind < 0.9:
            self.chat(a, topic.statements, topic.questions)
            if room > 1 and rng.random() < 0.65:
                self.chat(b, chatter.REACTIONS if rng.random() < 0.7 else topic.statements)
        elif kind < 0.97:
            self.chat(a, chatter.REACTIONS)
        else:
            self.say(a, chatter.IMAGE_PLACEHOLDERS)
            if room > 1:
                self.chat(b, chatter.REACTIONS)
        return len(self.turns) - before

    def chatter(
        self, people: Sequence[Person], budget: int, focus: tuple[Person, Person] | None = None
    ) -> None:
        added = 0
        while added < budget:
            added += self.exchange(people, budget - added, focus)

    def greeting(self, a: Person, b: Person) -> None:
        self.say(a, chatter.GREETINGS)
        if self.rng.random() < 0.8:
            self.say(b, chatter.GREETING_REPLIES)


# ---------------------------------------------------------------------------------------------
# Grooming


def _victim_reaction(rng: random.Random, person: Person, category: str) -> str:
    c = person.compliance
    if category in (C.IMAGE_REQUEST.value, C.MEETING_REQUEST.value, C.SECRECY.value):
        c *= 0.7
    weights = (c, 0.35, (1.0 - c) * 0.5, 0.2)
    return rng.choices((victim.COMPLY, victim.HESITATE, victim.REFUSE, victim.DEFLECT), weights)[0]


def _victim_reply(script: Script, person: Person, category: str, reaction: str) -> None:
    bank = victim.REPLIES.get(category)
    if reaction == victim.DEFLECT or bank is None:
        script.say(person, victim.DEFLECT_LINES)
        return
    script.say(person, bank[reaction])
    if script.rng.random() < 0.12:
        script.say(person, victim.DEFLECT_LINES if reaction != victim.COMPLY else chatter.REACTIONS)


def grooming_stage_plan(rng: random.Random, max_stages: int) -> list[list[str]]:
    """Stages in jittered typical order; sometimes two signs share one message, some repeat."""
    count = max(1, min(max_stages, rng.choice((2, 3, 3, 4, 4, 5, 5, 6, 7, 8))))
    chosen = rng.sample(GROOMING_STAGES, min(count, len(GROOMING_STAGES)))
    ordered = sorted(chosen, key=lambda c: GROOMING_STAGES.index(c) + rng.gauss(0.0, 1.8))
    if len(ordered) < max_stages and rng.random() < 0.3:
        repeat = rng.choice(
            (C.FLATTERY_TRUST.value, C.SECRECY.value, C.PLATFORM_MIGRATION.value, C.IMAGE_REQUEST.value)
        )
        ordered.insert(rng.randint(1, len(ordered)), repeat)
    if len(ordered) < max_stages and rng.random() < 0.06:
        ordered.append(C.THREAT_COERCION.value)
    plan: list[list[str]] = []
    i = 0
    while i < len(ordered):
        stage = [ordered[i]]
        if i + 1 < len(ordered) and ordered[i + 1] != ordered[i] and rng.random() < 0.15:
            stage.append(ordered[i + 1])
            i += 1
        plan.append(stage)
        i += 1
    return plan


def grooming_stage(
    script: Script, people: Sequence[Person], off: Person, vic: Person, stage: list[str]
) -> None:
    rng = script.rng
    script.sign(off, stage)
    if len(people) > 2 and rng.random() < 0.15:
        bystander = rng.choice([p for p in people if p is not off and p is not vic])
        script.say(bystander, chatter.BYSTANDER_REACTIONS)
    main = stage[0]
    reaction = _victim_reaction(rng, vic, main)
    if rng.random() < 0.9:
        _victim_reply(script, vic, main, reaction)
    if reaction in (victim.HESITATE, victim.REFUSE):
        move = rng.random()
        if move < 0.5:
            script.sign(off, [main], opener=rng.choice(offender.PRESSURE_OPENERS))
            _victim_reply(script, vic, main, _victim_reaction(rng, vic, main))
        elif move < 0.7:
            script.sign(off, [C.FLATTERY_TRUST.value])
        elif move < 0.95:
            script.say(off, offender.BACKOFF)


def grooming(
    script: Script, people: Sequence[Person], off: Person, vic: Person, length: int, onset: int
) -> None:
    rng = script.rng
    focus = (off, vic)
    if onset > 0:
        if rng.random() < 0.7:
            script.say(off, offender.FIRST_CONTACT)
        else:
            script.greeting(vic if rng.random() < 0.5 else rng.choice(list(people)), off)
        while len(script) < onset:
            if rng.random() < 0.25:
                script.say(off, offender.RAPPORT)
            else:
                script.exchange(people, onset - len(script), focus)
    remaining = max(1, length - len(script))
    plan = grooming_stage_plan(rng, max(1, remaining // 3))
    spare = max(0, remaining - 3 * len(plan))
    gaps = split_budget(rng, spare, len(plan), unevenness=rng.choice((0.5, 1.0, 2.0, 4.0)))
    for stage, gap in zip(plan, gaps, strict=True):
        grooming_stage(script, people, off, vic, stage)
        done = 0
        while done < gap:
            if rng.random() < 0.2:
                script.say(off, offender.RAPPORT)
                done += 1
            else:
                done += script.exchange(people, gap - done, focus)
    if rng.random() < 0.3:
        script.say(rng.choice((off, vic)), chatter.FAREWELLS)


# ---------------------------------------------------------------------------------------------
# Sextortion


def sextortion_arc(script: Script, people: Sequence[Person], off: Person, vic: Person, budget: int) -> None:
    """The fast part: rapport signs, image request, the turn, threats and demands with pushback."""
    rng = script.rng
    start = len(script)
    # Fast rapport: flattery and often age probing within the first few messages.
    if rng.random() < 0.8:
        script.sign(off, [C.FLATTERY_TRUST.value])
        if rng.random() < 0.7:
            _victim_reply(
                script, vic, C.FLATTERY_TRUST.value, victim.COMPLY if rng.random() < 0.7 else victim.HESITATE
            )
    if rng.random() < 0.5:
        script.sign(off, [C.AGE_PROBING.value])
        script.say(vic, victim.REPLIES[C.AGE_PROBING.value][victim.COMPLY])
        if rng.random() < 0.5:
            script.say(off, offender.FAKE_PEER)
    if rng.random() < 0.5:
        script.sign(off, [C.PLATFORM_MIGRATION.value])
        reaction = victim.COMPLY if rng.random() < 0.7 else victim.HESITATE
        _victim_reply(script, vic, C.PLATFORM_MIGRATION.value, reaction)
        if reaction == victim.HESITATE and rng.random() < 0.6:
            script.sign(off, [C.PLATFORM_MIGRATION.value], opener=rng.choice(offender.PRESSURE_OPENERS))
            script.say(vic, victim.REPLIES[C.PLATFORM_MIGRATION.value][victim.COMPLY])
    # Early image request, retried until the victim gives in or clearly refuses.
    complied = False
    for attempt in range(rng.randint(1, 3)):
        categories = [C.IMAGE_REQUEST.value]
        if attempt == 0 and rng.random() < 0.2:
            categories.append(C.GIFTS_OFFERS.value)
        script.sign(off, categories, opener=rng.choice(offender.PRESSURE_OPENERS) if attempt else None)
        if rng.random() < 0.45 + 0.2 * attempt:
            script.say(vic, victim.REPLIES[C.IMAGE_REQUEST.value][victim.COMPLY])
            if rng.random() < 0.5:
                script.say(vic, chatter.IMAGE_PLACEHOLDERS)
            complied = True
            break
        reaction = victim.HESITATE if rng.random() < 0.6 else victim.REFUSE
        script.say(vic, victim.REPLIES[C.IMAGE_REQUEST.value][reaction])
    if complied and rng.random() < 0.5:
        script.say(off, offender.RAPPORT)
    # The turn.
    script.say(off, offender.SEXTORTION_TURN, [C.THREAT_COERCION.value], risky=True)
    rounds_left = max(1, (budget - (len(script) - start)) // 2)
    paid = False
    for _ in range(min(rounds_left, rng.randint(2, 12))):
        move = rng.random()
        if move < 0.3:
            script.sign(off, [C.THREAT_COERCION.value])
        elif move < 0.6:
            script.sign(off, [C.FINANCIAL_DEMAND.value])
        elif move < 0.85:
            script.sign(
                off,
                [C.THREAT_COERCION.value, C.FINANCIAL_DEMAND.value]
                if rng.random() < 0.5
                else [C.FINANCIAL_DEMAND.value, C.THREAT_COERCION.value],
            )
        else:
            script.say(off, offender.COUNTDOWN, [C.THREAT_COERCION.value], risky=True)
        if rng.random() < 0.1:
            continue  # the victim goes quiet; the offender keeps pushing
        answer = rng.random()
        if answer < 0.35:
            script.say(vic, victim.PLEAD)
        elif answer < 0.6:
            script.say(vic, victim.NO_MONEY)
        elif answer < 0.8:
            script.say(vic, victim.BARGAIN)
        elif answer < 0.9 and not paid:
            script.say(vic, victim.PAY)
            paid = True
        else:
            script.say(vic, victim.STAND_UP)
            if rng.random() < 0.6:
                if rng.random() < 0.7:
                    script.sign(off, [C.THREAT_COERCION.value])
                return
    if rng.random() < 0.3:
        script.say(vic, victim.STAND_UP if rng.random() < 0.5 else victim.PLEAD)


def sextortion(
    script: Script, people: Sequence[Person], off: Person, vic: Person, length: int, early: bool
) -> None:
    rng = script.rng
    arc = Script(rng, script.risky_fill, script.plain_fill, script.platform, script.topics, script.pool)
    budget = min(max(6, length), rng.randint(10, 60))
    sextortion_arc(arc, people, off, vic, budget)
    prefix = 0 if early and rng.random() < 0.3 else max(0, length - len(arc))
    if early:
        prefix = min(prefix, rng.randint(0, 6))
    if prefix > 0:
        script.say(off, offender.FIRST_CONTACT)
        if prefix > 1 and rng.random() < 0.7:
            script.say(off, offender.FAKE_PEER)
        while len(script) < prefix:
            if rng.random() < 0.3:
                script.say(off, offender.RAPPORT)
            else:
                script.exchange(people, prefix - len(script), (off, vic))
    script.turns.extend(arc.turns)


# ---------------------------------------------------------------------------------------------
# Benign


def benign_chatter(script: Script, people: Sequence[Person], length: int) -> None:
    rng = script.rng
    a, b = rng.sample(list(people), 2)
    if script.platform == "forum":
        script.say(a, chatter.FORUM_LINES)
    elif rng.random() < 0.6:
        script.greeting(a, b)
    focus = (a, b) if len(people) > 2 and rng.random() < 0.5 else None
    script.chatter(people, length - len(script) - 1, focus)
    if rng.random() < 0.5:
        script.say(rng.choice(list(people)), chatter.FAREWELLS)
    else:
        script.exchange(people, 1)


def hard_negative(
    script: Script, scenario: Scenario, cast: dict[str, Person], people: Sequence[Person], length: int
) -> None:
    rng = script.rng
    steps = [step for step in scenario.steps if rng.random() < step.p]
    if rng.random() < 0.3:
        first, second = rng.sample(list(cast.values()), 2) if len(cast) > 1 else (people[0], people[1])
        script.greeting(first, second)
    spare = max(0, length - len(script) - len(steps))
    gaps = split_budget(rng, spare, len(steps) + 1, unevenness=rng.choice((0.5, 1.0, 2.0)))
    script.chatter(people, gaps[0])
    for step, gap in zip(steps, gaps[1:], strict=True):
        script.say(cast[step.role], step.lines)
        script.chatter(people, gap)
