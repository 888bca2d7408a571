"""The synthetic conversation generator: `generate(n, seed, config)` yields labelled conversations.

Everything is drawn from one `random.Random(seed)`, in order, so the same seed and config give
the same conversations, and the first k of `generate(n, seed)` equal `generate(k, seed)`.
Sender ids are account-like (`u_8f3a2c1d`) and unique per person: splits group by sender, and a
small name pool would put the same "sender" in train and test. A few offender accounts come back
in two or three conversations, as real ones do.

Each conversation is spoken in one of three ways: from the original template banks (`arcs`,
writer en_w0), from the independent writers' banks in any of four languages (`writer_arcs`), or
woven into a real carrier chat (`weave`, English). `SynthConfig` sets the shares; every record
lists the writers it drew on, so validation can be held to writers training never read.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from grooming_risk.contract.conversation import Conversation
from grooming_risk.contract.taxonomy import Label
from grooming_risk.data.synth import arcs, slots
from grooming_risk.data.synth.arcs import Person, Script, Turn, split_budget
from grooming_risk.data.synth.config import ONE_TO_ONE_PLATFORMS, SynthConfig
from grooming_risk.data.synth.noise import QUIET, Style, apply_style, obfuscate
from grooming_risk.data.synth.phrases import chatter
from grooming_risk.data.synth.phrases.hard_negatives import (
    ADULT_ROLES,
    ROLE_SLOTS,
    SCENARIOS,
    SURPRISE_TARGETS,
    Scenario,
)
from grooming_risk.data.synth.pool import PhrasePool
from grooming_risk.data.synth.weave import CarrierDeck, RealChatter, carrier_roles, is_carrier, weave
from grooming_risk.data.synth.writer_arcs import (
    OFFENDER,
    VICTIM,
    Beat,
    Voices,
    chatter_beat,
    farewell_beat,
    greeting_beat,
    grooming_beats,
    plain_offender_line,
    scene_beats,
    sextortion_beats,
)
from grooming_risk.data.synth.writers import ORIGINAL_WRITER, load_writers, select_writers

GENERATOR_VERSION = "2.0.0"

OFFENDER_POOL = 5000
WRITTEN_MAX_MESSAGES = 40
SYNTHETIC_PREFIX = "syn-"
WOVEN_PREFIX = "wov-"
_EPOCH = datetime(2022, 1, 1, tzinfo=UTC)
_SPAN_DAYS = 3 * 365
# Hours of the day people chat, weighted towards after school and evenings.
_HOURS = tuple(range(24))
_HOUR_WEIGHTS = (2, 1, 1, 0.5, 0.3, 0.3, 0.5, 2, 3, 2, 2, 2, 3, 3, 3, 5, 7, 8, 9, 10, 10, 9, 7, 4)

_PLATFORM_WEIGHTS: dict[str, dict[str, float]] = {
    Label.GROOMING.value: {
        "game_chat": 0.4,
        "direct_message": 0.2,
        "social_dm": 0.2,
        "group_chat": 0.1,
        "forum": 0.1,
    },
    Label.SEXTORTION.value: {
        "social_dm": 0.5,
        "direct_message": 0.3,
        "game_chat": 0.15,
        "group_chat": 0.05,
        "forum": 0.02,
    },
    Label.BENIGN.value: {
        "game_chat": 0.25,
        "direct_message": 0.25,
        "social_dm": 0.2,
        "group_chat": 0.2,
        "forum": 0.1,
    },
}
_OTHER_PLATFORM_WEIGHT = 0.15
_APP_SLOTS = frozenset({"app", "app2"})


def generate(
    n: int, seed: int, config: SynthConfig | None = None, carriers: Sequence[Conversation] = ()
) -> Iterator[Conversation]:
    """Yield `n` validated synthetic conversations, deterministically for `seed` and `config`.

    `carriers` are real chats that risky and hard-negative English conversations may be woven into
    (a `config.woven_share` of them); only two-person chats of a few messages or more are used.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"n must be a non-negative integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ValueError(f"seed must be an integer, got {seed!r}")
    generator = _Generator(seed, config if config is not None else SynthConfig(), carriers)
    for index in range(n):
        yield generator.conversation(index)


class _Generator:
    def __init__(self, seed: int, config: SynthConfig, carriers: Sequence[Conversation] = ()) -> None:
        self.seed = seed
        self.config = config
        self.rng = random.Random(seed)
        self.used_ids: set[str] = set()
        # Offender accounts that may come back: (person, conversations so far). Bounded, so memory
        # stays flat on large runs; accounts drop out once used up or after OFFENDER_POOL newer ones.
        self.offenders: list[tuple[Person, list[int]]] = []
        self.labels, self.weights = config.label_weights()
        self.scenarios = self._eligible_scenarios()
        self.pool = PhrasePool(config.phrase_pool, config.heldout_phrase_share)
        self.languages = config.languages()
        self.language_weights = tuple(config.language_mix.get(lang, 0.0) for lang in self.languages)
        self.banks = load_writers()
        chosen = {lang: select_writers(config.writers, lang) for lang in self.languages}
        self.templates_allowed = ORIGINAL_WRITER in chosen.get("en", [])
        # Writers with a bank of their own (the template author has none), per language.
        self.writers = {lang: [w for w in ids if w in self.banks] for lang, ids in chosen.items()}
        eligible = [c for c in carriers if is_carrier(c)]
        self.carriers = CarrierDeck(eligible, self.rng)
        self.real_chatter = RealChatter(eligible, self.rng) if eligible else None

    # -- people -------------------------------------------------------------------------------
    def _new_id(self) -> str:
        while True:
            candidate = f"u_{self.rng.getrandbits(32):08x}"
            if candidate not in self.used_ids:
                self.used_ids.add(candidate)
                return candidate

    def _style(self, adult: bool) -> Style:
        if self.config.noise == 0:
            return QUIET
        return Style.draw(self.rng, self.config.noise, adult=adult)

    def _age(self, low: int, high: int) -> int | None:
        return self.rng.randint(low, high) if self.rng.random() < self.config.declared_age_share else None

    def _kid(self, role: str, platform: str) -> Person:
        rng = self.rng
        name = (
            slots.gamer_tag(rng)
            if platform == "game_chat" and rng.random() < 0.3
            else rng.choice(slots.FIRST_NAMES)
        )
        age = rng.randint(10, 16)
        declared = age if rng.random() < self.config.declared_age_share else None
        return Person(
            self._new_id(), name, role, False, declared, self._style(False), rng.uniform(0.15, 0.85)
        )

    def _offender(self, label: str, platform: str) -> Person:
        rng = self.rng
        if self.offenders and rng.random() < self.config.repeat_offender_share:
            index = int(rng.random() * len(self.offenders))
            person, uses = self.offenders[index]
            uses[0] += 1
            if uses[0] >= self.config.max_offender_conversations:
                self.offenders[index] = self.offenders[-1]
                self.offenders.pop()
            return person
        fake_peer = rng.random() < (0.7 if label == Label.SEXTORTION.value else 0.35)
        if platform in ("game_chat", "forum") or rng.random() < 0.4:
            name = slots.gamer_tag(rng)
        else:
            name = rng.choice(slots.FIRST_NAMES)
        declared = self._age(14, 17) if fake_peer else self._age(18, 45)
        person = Person(self._new_id(), name, "offender", not fake_peer, declared, self._style(False))
        if self.config.max_offender_conversations > 1:
            self.offenders.append((person, [1]))
            if len(self.offenders) > OFFENDER_POOL:
                del self.offenders[: OFFENDER_POOL // 5]
        return person

    # -- shape ----------------------------------------------------------------------------------
    def _platform(self, label: str) -> str:
        cfg = self.config
        weights = _PLATFORM_WEIGHTS[label]
        options = [p for p in cfg.platforms if not (cfg.min_participants > 2 and p in ONE_TO_ONE_PLATFORMS)]
        return self.rng.choices(options, [weights.get(p, _OTHER_PLATFORM_WEIGHT) for p in options])[0]

    def _participant_count(self, platform: str, group_bias: float) -> int:
        cfg = self.config
        if platform in ONE_TO_ONE_PLATFORMS:
            return 2
        low = max(3, cfg.min_participants)
        if low > cfg.max_participants:
            return 2
        if (
            platform == "group_chat"
            or cfg.min_participants > 2
            or self.rng.random() < cfg.group_share * group_bias
        ):
            return self.rng.randint(low, cfg.max_participants)
        return 2

    def _length(self) -> int:
        lo, hi = self.config.min_messages, self.config.max_messages
        u = self.rng.random()
        if u < 0.5:
            frac = self.rng.random() * 0.2
        elif u < 0.85:
            frac = 0.2 + self.rng.random() * 0.35
        else:
            frac = 0.55 + self.rng.random() * 0.45
        return lo + int(frac * (hi - lo))

    def _topics(self, platform: str) -> list[chatter.Topic]:
        topics = self.rng.sample(chatter.TOPICS, self.rng.randint(2, 4))
        if platform == "game_chat" and self.rng.random() < 0.8:
            games = chatter.TOPICS[0]
            topics = [games] + [t for t in topics if t is not games]
        return topics

    def _fills(self, fixed: dict[str, str]) -> tuple[slots.SlotContext, slots.SlotContext]:
        rng = self.rng
        risky_rate = self.config.obfuscation_rate
        plain_rate = risky_rate / 5

        def risky(name: str, value: str) -> str:
            return obfuscate(value, rng) if name in _APP_SLOTS and rng.random() < risky_rate else value

        def plain(name: str, value: str) -> str:
            return obfuscate(value, rng) if name in _APP_SLOTS and rng.random() < plain_rate else value

        base = slots.SlotContext(rng, fixed)
        return base.with_decorator(risky), base.with_decorator(plain)

    def _fixed_slots(self) -> dict[str, str]:
        rng = self.rng
        app = rng.choice(slots.MIGRATION_APPS)
        return {
            "app": app,
            "app2": rng.choice([a for a in slots.MIGRATION_APPS if a != app]),
            "game": rng.choice(slots.GAMES),
            "handle": slots.gamer_tag(rng),
            "amount": rng.choice(slots.AMOUNTS),
            "brand": rng.choice(slots.GIFT_BRANDS),
            "payapp": rng.choice(slots.PAY_APPS),
            "city": rng.choice(slots.CITIES),
            "fake_age": str(rng.randint(14, 17)),
        }

    # -- one conversation -------------------------------------------------------------------------
    def conversation(self, index: int) -> Conversation:
        rng = self.rng
        cfg = self.config
        language = (
            self.languages[0]
            if len(self.languages) == 1
            else rng.choices(self.languages, self.language_weights)[0]
        )
        label = rng.choices(self.labels, self.weights)[0]
        hard = label == Label.BENIGN.value and rng.random() < cfg.hard_negative_share
        writers = self.writers.get(language, [])
        if language == "en":
            if (
                self.carriers
                and writers
                and (hard or label != Label.BENIGN.value)
                and rng.random() < cfg.woven_share
            ):
                return self._woven(index, label, hard, writers)
            if self.templates_allowed and (
                not writers or cfg.min_participants > 2 or rng.random() >= cfg.writer_share
            ):
                return self._hard_negative(index) if hard else self._templated(index, label)
        return self._written(index, label, hard, language, writers)

    def _templated(self, index: int, label: str) -> Conversation:
        rng = self.rng
        platform = self._platform(label)
        length = self._length()
        fixed = self._fixed_slots()
        risky_fill, plain_fill = self._fills(fixed)
        script = self._script(risky_fill, plain_fill, platform)
        if label == Label.BENIGN.value:
            count = self._participant_count(platform, 1.2)
            people = [self._kid("friend", platform) for _ in range(count)]
            fixed.update(victim=people[1].name, me=people[0].name, v_age=str(rng.randint(11, 16)))
            arcs.benign_chatter(script, people, length)
        else:
            count = self._participant_count(platform, 0.6)
            off = self._offender(label, platform)
            vic = self._kid("victim", platform)
            bystanders = [self._kid("bystander", platform) for _ in range(count - 2)]
            people = [off, vic, *bystanders]
            v_age = vic.declared_age if vic.declared_age is not None else rng.randint(11, 16)
            fixed.update(victim=vic.name, me=off.name, v_age=str(v_age))
            if off.declared_age is not None and off.declared_age < 18:
                fixed["fake_age"] = str(off.declared_age)
            if label == Label.GROOMING.value:
                onset = 0 if rng.random() < 0.12 else int(length * 0.7 * rng.random() ** 1.3)
                arcs.grooming(script, people, off, vic, length, onset)
            else:
                arcs.sextortion(script, people, off, vic, length, early=rng.random() < 0.5)
        return self._assemble(index, label, platform, people, script, hard_negative=False)

    def _script(
        self,
        risky_fill: slots.SlotContext,
        plain_fill: slots.SlotContext,
        platform: str,
        language: str = "en",
    ) -> Script:
        script = Script(self.rng, risky_fill, plain_fill, platform, self._topics(platform), self.pool)
        if language == "en" and self.real_chatter is not None:
            script.real_chatter, script.real_share = self.real_chatter, self.config.real_chatter_share
        return script

    def _eligible_scenarios(self) -> list[Scenario]:
        cfg = self.config
        group_ok = any(p not in ONE_TO_ONE_PLATFORMS for p in cfg.platforms) and cfg.max_participants >= 3
        return [
            s for s in SCENARIOS if len(s.roles) <= cfg.max_participants and (len(s.roles) <= 2 or group_ok)
        ]

    def _hard_negative(self, index: int) -> Conversation:
        rng = self.rng
        cfg = self.config
        scenario = rng.choice(self.scenarios)
        needs_group = len(scenario.roles) > 2 or cfg.min_participants > 2
        allowed = [p for p in cfg.platforms if not (needs_group and p in ONE_TO_ONE_PLATFORMS)]
        preferred = [p for p in scenario.platforms if p in allowed]
        platform = rng.choice(preferred or allowed)
        count = max(len(scenario.roles), cfg.min_participants)
        if (
            platform not in ONE_TO_ONE_PLATFORMS
            and count < cfg.max_participants
            and (scenario.bystanders or platform == "group_chat")
            and rng.random() < 0.6
        ):
            count = rng.randint(count + 1, cfg.max_participants)

        fixed = self._fixed_slots()
        for role in ROLE_SLOTS:
            fixed[role] = rng.choice(slots.FIRST_NAMES)
        relative_word = rng.choice(slots.ADULT_RELATIVES)
        fixed.update(adult_relative=relative_word, target=rng.choice(SURPRISE_TARGETS))
        cast: dict[str, Person] = {}
        for role in scenario.roles:
            adult = role in ADULT_ROLES
            if adult:
                name = self._adult_name(role, relative_word)
                age_low, age_high = (55, 80) if role == "relative" else (22, 60)
                person = Person(
                    self._new_id(), name, role, True, self._age(age_low, age_high), self._style(True)
                )
            else:
                person = self._kid(role, platform)
            cast[role] = person
            fixed[role] = person.name
        adults_thread = all(role in ADULT_ROLES for role in scenario.roles)
        extras = []
        for _ in range(count - len(cast)):
            if adults_thread:
                extras.append(
                    Person(
                        self._new_id(),
                        rng.choice(slots.FIRST_NAMES),
                        "bystander",
                        True,
                        self._age(25, 60),
                        self._style(True),
                    )
                )
            else:
                extras.append(self._kid("bystander", platform))
        people = [*cast.values(), *extras]
        kids = [p for p in people if not p.adult]
        fixed.update(
            victim=(kids[0].name if kids else fixed["kid"]), me=people[0].name, v_age=str(rng.randint(11, 16))
        )
        _, plain_fill = self._fills(fixed)
        # Scenario lines are benign by construction, so they use the friends' obfuscation rate.
        script = self._script(plain_fill, plain_fill, platform)
        arcs.hard_negative(script, scenario, cast, people, self._length())
        return self._assemble(index, Label.BENIGN.value, platform, people, script, hard_negative=True)

    def _adult_name(self, role: str, relative_word: str) -> str:
        rng = self.rng
        if role == "coach":
            return f"Coach {rng.choice(slots.FIRST_NAMES)}"
        if role == "teacher":
            return f"{rng.choice(('Ms', 'Mr', 'Mrs', 'Miss'))} {rng.choice(slots.SURNAMES)}"
        if role == "relative":
            return relative_word.capitalize()
        return rng.choice(slots.FIRST_NAMES)

    # -- assembly -----------------------------------------------------------------------------
    def _fit_length(self, script: Script, people: Sequence[Person], risky: bool) -> list[Turn]:
        cfg = self.config
        turns = script.turns
        if len({t.speaker.id for t in turns}) < 2:
            speaker = turns[0].speaker if turns else people[0]
            other = next(p for p in people if p.id != speaker.id)
            script.say(other, chatter.REACTIONS)
            turns = script.turns
        if len(turns) > cfg.max_messages:
            first = next((i for i, t in enumerate(turns) if t.categories), None)
            start = 0
            if risky and first is not None and first >= cfg.max_messages:
                start = first - cfg.max_messages // 2
            turns = turns[start : start + cfg.max_messages]
        if len(turns) < cfg.min_messages:
            pad = Script(
                self.rng, script.plain_fill, script.plain_fill, script.platform, script.topics, script.pool
            )
            pad.real_chatter, pad.real_share = script.real_chatter, script.real_share
            a, b = (people[0], people[1]) if self.rng.random() < 0.5 else (people[1], people[0])
            pad.greeting(a, b)
            pad.chatter(people, cfg.min_messages - len(turns) - len(pad), (a, b))
            turns = pad.turns + turns if risky else turns + pad.turns
            turns = turns[: cfg.max_messages] if not risky else turns[-cfg.max_messages :]
        return turns

    def _timestamps(self, turns: Sequence[Turn], label: str) -> list[datetime | None]:
        rng = self.rng
        if rng.random() >= self.config.timestamp_share:
            return [None] * len(turns)
        day = _EPOCH + timedelta(days=rng.randrange(_SPAN_DAYS))
        hour = rng.choices(_HOURS, _HOUR_WEIGHTS)[0]
        t = day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))
        fast = label == Label.SEXTORTION.value
        breaks = 0.005 if fast else 0.03
        out: list[datetime | None] = []
        previous: Turn | None = None
        for turn in turns:
            if previous is not None:
                typing = len(turn.text) / rng.uniform(3.0, 7.0)
                reply = rng.lognormvariate(2.3 if previous.speaker is not turn.speaker else 1.2, 1.0)
                gap = typing + reply
                if rng.random() < breaks:
                    gap += rng.uniform(0.5, 40.0) * 3600  # a later session: hours or days
                t += timedelta(seconds=round(gap, 3))
            out.append(t)
            previous = turn
        return out

    def _assemble(
        self,
        index: int,
        label: str,
        platform: str,
        people: Sequence[Person],
        script: Script,
        *,
        hard_negative: bool,
        language: str = "en",
        writers: Sequence[str] = (ORIGINAL_WRITER,),
    ) -> Conversation:
        risky = label != Label.BENIGN.value
        turns = self._fit_length(script, people, risky)
        times = self._timestamps(turns, label)
        messages = [
            {"sender": t.speaker.id, "text": t.text, "categories": list(t.categories), "sent_at": ts}
            for t, ts in zip(turns, times, strict=True)
        ]
        first = next((i for i, t in enumerate(turns) if t.categories), None) if risky else None
        if risky and first is None:
            # An arc always emits a sign and trimming keeps it; reaching here is a generator bug.
            raise RuntimeError(f"synthetic {label} conversation {index} has no risk sign")
        order = {pid: i for i, pid in enumerate(dict.fromkeys(t.speaker.id for t in turns))}
        ranked = sorted(people, key=lambda p: order.get(p.id, len(order)))
        record: dict[str, Any] = {
            "conversation_id": f"{SYNTHETIC_PREFIX}{self.seed}-{index:07d}",
            "messages": messages,
            "platform": platform,
            "language": language,
            "participants": [{"id": p.id, "declared_age": p.declared_age} for p in ranked],
            "label": label,
            "first_risk_index": first,
            "hard_negative": hard_negative,
            "writers": list(writers),
        }
        return Conversation.model_validate(record)

    # -- the independent writers' banks ---------------------------------------------------------
    def _voices(self, writers: Sequence[str]) -> Voices:
        rng = self.rng
        return Voices(self.banks[rng.choice(writers)], self.banks[rng.choice(writers)])

    def _written(
        self, index: int, label: str, hard: bool, language: str, writers: Sequence[str]
    ) -> Conversation:
        """A two-person conversation spoken entirely from writers' banks (any language)."""
        rng = self.rng
        cfg = self.config
        voices = self._voices(writers)
        platform = self._platform(label)
        # One writer's chatter repeats over a long chat; these stay shorter (real carriers supply
        # the long conversations).
        length = min(self._length(), WRITTEN_MAX_MESSAGES)
        fixed = self._fixed_slots()
        risky_fill, plain_fill = self._fills(fixed)
        risky = label != Label.BENIGN.value
        if risky:
            first, second = self._offender(label, platform), self._kid("victim", platform)
        else:
            first, second = self._kid("friend", platform), self._kid("friend", platform)
        fixed.update(victim=second.name, me=first.name, name=rng.choice(slots.FIRST_NAMES))
        cast = {OFFENDER: first, VICTIM: second, "A": first, "B": second}
        script = self._script(risky_fill, plain_fill, platform, language)

        def put(beat: Beat) -> None:
            for line in beat:
                script.add(cast[line.role], line.text, line.categories)

        def talk(messages: int) -> None:
            done = 0
            while done < messages:
                if script.real_chatter is not None and rng.random() < script.real_share:
                    for who, text in script.real_chatter.snippet(messages - done):
                        script.turns.append(Turn((first, second)[who], text))
                        done += 1
                    continue
                beat = chatter_beat(rng, voices, plain_fill)
                put(beat)
                done += len(beat)

        if risky:
            if label == Label.GROOMING.value:
                onset = 0 if rng.random() < 0.12 else int(length * 0.7 * rng.random() ** 1.3)
                beats = grooming_beats(
                    rng, voices, risky_fill, max(1, (length - onset) // 3), second.compliance
                )
                gaps = split_budget(rng, max(0, length - onset - 3 * len(beats)), len(beats), 1.0)
            else:
                onset = 0 if rng.random() < 0.3 else rng.randint(1, 6)
                beats = sextortion_beats(rng, voices, risky_fill, rng.randint(2, 8))
                gaps = [rng.randint(0, 2) for _ in beats]
            if onset > 0:
                script.add(first, plain_offender_line(rng, voices, plain_fill, first=True).text)
                talk(onset - 1)
            for beat, gap in zip(beats, gaps, strict=True):
                put(beat)
                while gap > 0:
                    if rng.random() < 0.25:
                        put([plain_offender_line(rng, voices, plain_fill, first=False)])
                        gap -= 1
                    else:
                        before = len(script)
                        put(chatter_beat(rng, voices, plain_fill))
                        gap -= len(script) - before
        elif hard:
            scene = rng.choice(voices.first.hard_negatives)
            beats = scene_beats(rng, scene, plain_fill)
            if rng.random() < 0.5:
                put(greeting_beat(rng, voices, plain_fill))
            for beat, gap in zip(beats, split_budget(rng, max(0, length - 8), len(beats)), strict=True):
                talk(gap)
                put(beat)
        else:
            put(greeting_beat(rng, voices, plain_fill))
            talk(length - len(script) - 1)
            if rng.random() < 0.5:
                put(farewell_beat(rng, voices, plain_fill))
        while len(script) < cfg.min_messages or len({t.speaker.id for t in script.turns}) < 2:
            talk(1)
        return self._assemble(
            index,
            label,
            platform,
            [first, second],
            script,
            hard_negative=hard,
            language=language,
            writers=voices.ids,
        )

    def _woven(self, index: int, label: str, hard: bool, writers: Sequence[str]) -> Conversation:
        """Risk (or a benign look-alike scene) woven into a real chat; see `synth.weave`."""
        rng = self.rng
        carrier = self.carriers.deal()
        voices = self._voices(writers)
        fixed = self._fixed_slots()
        fixed.update(
            victim=rng.choice(slots.FIRST_NAMES),
            me=rng.choice(slots.FIRST_NAMES),
            name=rng.choice(slots.FIRST_NAMES),
        )
        risky_fill, plain_fill = self._fills(fixed)
        risky = label != Label.BENIGN.value
        if label == Label.GROOMING.value:
            beats = grooming_beats(rng, voices, risky_fill, rng.randint(2, 8), rng.uniform(0.15, 0.85))
            onset = 0.7 * rng.random() ** 1.3
        elif label == Label.SEXTORTION.value:
            beats = sextortion_beats(rng, voices, risky_fill, rng.randint(2, 8))
            onset = 0.3 * rng.random()
        else:
            beats = scene_beats(rng, rng.choice(voices.first.hard_negatives), plain_fill)
            onset = 0.0
        roles = carrier_roles(carrier, rng, risky)
        styles = {role: self._style(False) for role in roles}

        def style(role: str, text: str) -> str:
            return apply_style(text, styles[role], rng)

        messages, first = weave(carrier, beats, rng, roles=roles, onset=onset, style=style)
        participants = [p.model_dump() for p in carrier.participants] or [
            {"id": sender} for sender in carrier.senders()
        ]
        record: dict[str, Any] = {
            # "wov-": training logs count woven conversations apart from generated and real ones.
            "conversation_id": f"{WOVEN_PREFIX}{self.seed}-{index:07d}",
            "messages": messages,
            "platform": carrier.platform,
            "language": "en",
            "participants": participants,
            "label": label,
            "first_risk_index": first if risky else None,
            "hard_negative": hard,
            "writers": voices.ids,
        }
        return Conversation.model_validate(record)
