"""What the synthetic generator produces, validated before a single conversation is drawn."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from grooming_risk.contract.taxonomy import Label
from grooming_risk.data.synth.pool import DEFAULT_HELDOUT_SHARE, POOLS

KNOWN_PLATFORMS: tuple[str, ...] = ("game_chat", "direct_message", "group_chat", "social_dm", "forum")
# Platforms that only ever hold two people.
ONE_TO_ONE_PLATFORMS: frozenset[str] = frozenset({"direct_message", "social_dm"})

# Arcs need room for an opening, at least one sign and a reply.
MIN_CONVERSATION_MESSAGES = 6


def _default_mix() -> dict[str, float]:
    return {"grooming": 0.35, "sextortion": 0.20, "benign": 0.45}


LANGUAGE_CHOICES: tuple[str, ...] = ("en", "es", "fr", "de", "mix")


def _default_language_mix() -> dict[str, float]:
    return {"en": 0.7, "es": 0.1, "fr": 0.1, "de": 0.1}


def _check_share(name: str, value: float) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and 0.0 <= value <= 1.0):
        raise ValueError(f"SynthConfig.{name} must be a number between 0 and 1, got {value!r}")


@dataclass(frozen=True)
class SynthConfig:
    """Knobs of the synthetic generator. Every field is recorded in the dataset card.

    label_mix: relative weight of each label (grooming, sextortion, benign); normalised, so
        {"grooming": 1, "benign": 1} is a 50/50 mix without sextortion.
    hard_negative_share: share of benign conversations that are hard negatives (benign talk that
        shares surface words with risk). Keep it at 1/3 or more, or a model learns words.
    min_messages, max_messages: conversation length bounds (inclusive).
    min_participants, max_participants: participant count bounds (inclusive); group chats have
        bystanders.
    group_share: share of conversations with three or more participants (when the bounds allow).
    platforms: platforms to draw from; direct_message and social_dm always have two people.
    noise: scale of typing noise (typos, slang, emoji, zero-width characters); 0 turns it off.
    obfuscation_rate: chance that an app name in an offender's message is disguised
        ("s n a p", "d1sc0rd"); friends do it at a fifth of this rate.
    timestamp_share: share of conversations that carry `sent_at` times.
    declared_age_share: chance that a participant declares an age.
    repeat_offender_share: chance that a risky conversation reuses an earlier offender's account
        (each account appears in at most `max_offender_conversations` conversations).
    phrase_pool: "all" templates, only the "train" share, or only the "heldout" share (see
        `synth.pool`): a held-out-phrasing set validates a model on wordings it never saw.
    heldout_phrase_share: share of each template list kept out of the "train" pool.
    language: "en", "es", "fr", "de", or "mix" (drawn per conversation by `language_mix`).
    language_mix: relative weight of each language when `language` is "mix".
    writers: which phrase-bank writers may speak (see `synth.writers`): "train" (all but the
        validation writers), "validation", "all", or comma-separated writer ids.
    writer_share: share of English conversations drawn from the independent writers' banks rather
        than the original template banks (writer en_w0), when both are allowed.
    woven_share: share of English risky and hard-negative conversations woven into a real carrier
        chat, when carriers are given to `generate`.
    real_chatter_share: share of ordinary-talk exchanges in English conversations taken from real
        carrier chats (short runs of consecutive messages), when carriers are given.
    """

    label_mix: Mapping[str, float] = field(default_factory=_default_mix)
    hard_negative_share: float = 0.45
    min_messages: int = 6
    max_messages: int = 150
    min_participants: int = 2
    max_participants: int = 6
    group_share: float = 0.25
    platforms: tuple[str, ...] = KNOWN_PLATFORMS
    noise: float = 1.0
    obfuscation_rate: float = 0.35
    timestamp_share: float = 0.8
    declared_age_share: float = 0.5
    repeat_offender_share: float = 0.06
    max_offender_conversations: int = 3
    phrase_pool: str = "all"
    heldout_phrase_share: float = DEFAULT_HELDOUT_SHARE
    language: str = "en"
    language_mix: Mapping[str, float] = field(default_factory=_default_language_mix)
    writers: str = "all"
    writer_share: float = 0.5
    woven_share: float = 0.6
    real_chatter_share: float = 0.5

    def __post_init__(self) -> None:
        labels = {label.value for label in Label}
        mix = dict(self.label_mix)
        unknown = sorted(set(mix) - labels)
        if unknown:
            raise ValueError(f"SynthConfig.label_mix has unknown labels {unknown}; allowed: {sorted(labels)}")
        for name, weight in mix.items():
            if not (isinstance(weight, int | float) and math.isfinite(weight) and weight >= 0):
                raise ValueError(f"SynthConfig.label_mix[{name!r}] must be a number >= 0, got {weight!r}")
        if sum(mix.values()) <= 0:
            raise ValueError("SynthConfig.label_mix needs at least one label with a weight above 0")
        object.__setattr__(self, "label_mix", {label: float(mix.get(label, 0.0)) for label in sorted(labels)})

        for name in (
            "hard_negative_share",
            "group_share",
            "obfuscation_rate",
            "timestamp_share",
            "declared_age_share",
            "repeat_offender_share",
            "writer_share",
            "woven_share",
            "real_chatter_share",
        ):
            _check_share(name, getattr(self, name))
        if not (
            isinstance(self.noise, int | float) and math.isfinite(self.noise) and 0.0 <= self.noise <= 3.0
        ):
            raise ValueError(f"SynthConfig.noise must be between 0 (off) and 3, got {self.noise!r}")

        if not isinstance(self.min_messages, int) or self.min_messages < MIN_CONVERSATION_MESSAGES:
            raise ValueError(
                f"SynthConfig.min_messages must be an integer >= {MIN_CONVERSATION_MESSAGES} "
                f"(arcs need room), got {self.min_messages!r}"
            )
        if not isinstance(self.max_messages, int) or not self.min_messages <= self.max_messages <= 2000:
            raise ValueError(
                f"SynthConfig.max_messages must be an integer from min_messages ({self.min_messages}) "
                f"to 2000, got {self.max_messages!r}"
            )
        if not isinstance(self.min_participants, int) or self.min_participants < 2:
            raise ValueError(
                f"SynthConfig.min_participants must be an integer >= 2, got {self.min_participants!r}"
            )
        if (
            not isinstance(self.max_participants, int)
            or not self.min_participants <= self.max_participants <= 12
        ):
            raise ValueError(
                f"SynthConfig.max_participants must be an integer from min_participants "
                f"({self.min_participants}) to 12, got {self.max_participants!r}"
            )
        if not isinstance(self.max_offender_conversations, int) or self.max_offender_conversations < 1:
            raise ValueError(
                f"SynthConfig.max_offender_conversations must be an integer >= 1, got {self.max_offender_conversations!r}"
            )

        if self.phrase_pool not in POOLS:
            raise ValueError(
                f"SynthConfig.phrase_pool must be one of {list(POOLS)}, got {self.phrase_pool!r}"
            )
        if not (isinstance(self.heldout_phrase_share, int | float) and 0.0 < self.heldout_phrase_share < 1.0):
            raise ValueError(
                f"SynthConfig.heldout_phrase_share must be between 0 and 1 (exclusive), got {self.heldout_phrase_share!r}"
            )

        if self.language not in LANGUAGE_CHOICES:
            raise ValueError(
                f"SynthConfig.language must be one of {list(LANGUAGE_CHOICES)}, got {self.language!r}"
            )
        languages = dict(self.language_mix)
        bad_languages = sorted(set(languages) - set(LANGUAGE_CHOICES[:-1]))
        if (
            bad_languages
            or not languages
            or any(not (w >= 0) for w in languages.values())
            or sum(languages.values()) <= 0
        ):
            raise ValueError(
                f"SynthConfig.language_mix needs weights >= 0 (not all 0) for en, es, fr, de; got {languages!r}"
            )
        object.__setattr__(self, "language_mix", {k: float(v) for k, v in languages.items()})
        if self.language != "en" and self.min_participants > 2:
            raise ValueError(
                "SynthConfig: the writers' banks write two-person chats; languages other than en need "
                f"min_participants 2, got {self.min_participants}"
            )
        from grooming_risk.data.synth.writers import select_writers

        for language in self.languages():
            select_writers(self.writers, language)  # raises, naming the problem

        platforms = tuple(self.platforms)
        if not platforms:
            raise ValueError(
                f"SynthConfig.platforms must name at least one platform, e.g. {list(KNOWN_PLATFORMS)}"
            )
        bad = [p for p in platforms if not isinstance(p, str) or not p.strip()]
        if bad:
            raise ValueError(f"SynthConfig.platforms must be non-empty strings, got {bad!r}")
        if len(set(platforms)) != len(platforms):
            raise ValueError(f"SynthConfig.platforms has duplicates: {list(platforms)}")
        if self.min_participants > 2 and all(p in ONE_TO_ONE_PLATFORMS for p in platforms):
            raise ValueError(
                "SynthConfig.platforms only has one-to-one platforms "
                f"({', '.join(sorted(ONE_TO_ONE_PLATFORMS))}) but min_participants is {self.min_participants}"
            )
        object.__setattr__(self, "platforms", platforms)

    def label_weights(self) -> tuple[tuple[str, ...], tuple[float, ...]]:
        names = tuple(self.label_mix)
        return names, tuple(self.label_mix[name] for name in names)

    def languages(self) -> tuple[str, ...]:
        """The languages this config can produce."""
        if self.language != "mix":
            return (self.language,)
        return tuple(k for k, v in self.language_mix.items() if v > 0)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready values, for the dataset card and MLflow params."""
        out = asdict(self)
        out["label_mix"] = dict(self.label_mix)
        out["language_mix"] = dict(self.language_mix)
        out["platforms"] = list(self.platforms)
        return out
