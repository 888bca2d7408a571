"""The writer-bank record (validated when loaded) and which writers a corpus may use."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib.resources import files
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.data.synth.template import slot_names

Language = Literal["en", "es", "fr", "de"]
LANGUAGES: tuple[str, ...] = ("en", "es", "fr", "de")
# The template banks in `synth.phrases` (English, one author) count as a writer of their own.
ORIGINAL_WRITER = "en_w0"
# Never used for training data: unseen-writer validation comes from these alone. One per language,
# and for English, where most writers are, three: en_w12 (a young child's phonetic spelling) and
# en_w13 (Singapore/Malaysia English) joined en_w4 so that choosing on English validation does not
# mean choosing on one voice.
VALIDATION_WRITERS: frozenset[str] = frozenset({"en_w4", "en_w12", "en_w13", "es_w2", "fr_w2", "de_w2"})
REACTIONS = ("comply", "hesitate", "refuse")
CHATTER_KINDS = ("greetings", "questions", "answers", "statements", "reactions", "farewells")
# Slots a writer may use; filled per conversation by `synth.slots.SlotContext`.
WRITER_SLOTS = frozenset({"victim", "name", "app", "game", "amount"})

Lines = tuple[str, ...]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class HardNegativeScene(_Strict):
    """A benign mini-scene between A and B that shares surface words with risk."""

    scenario: str = Field(min_length=1)
    roles: dict[Literal["A", "B"], str]
    lines: tuple[tuple[Literal["A", "B"], str], ...] = Field(min_length=2)


class OffenderPlain(_Strict):
    first_contact: Lines = Field(min_length=1)
    rapport: Lines = Field(min_length=1)


class Chatter(_Strict):
    greetings: Lines = Field(min_length=1)
    questions: Lines = Field(min_length=1)
    answers: Lines = Field(min_length=1)
    statements: Lines = Field(min_length=1)
    reactions: Lines = Field(min_length=1)
    farewells: Lines = Field(min_length=1)


class WriterBank(_Strict):
    """One writer's bank: risk lines per category, the child's replies, plain lines and scenes."""

    writer: str = Field(pattern=r"^(en|es|fr|de)_w\d+$")
    language: Language
    persona: str
    risk: dict[str, Lines]
    victim: dict[str, dict[str, Lines]]
    offender_plain: OffenderPlain
    chatter: Chatter
    hard_negatives: tuple[HardNegativeScene, ...] = Field(min_length=1)

    @field_validator("risk")
    @classmethod
    def _every_category(cls, value: dict[str, Lines]) -> dict[str, Lines]:
        missing = [c for c in RISK_CATEGORIES if not value.get(c)]
        unknown = sorted(set(value) - set(RISK_CATEGORIES))
        if missing or unknown:
            raise ValueError(f"risk: missing categories {missing}, unknown {unknown}")
        return value

    @field_validator("victim")
    @classmethod
    def _every_reaction(cls, value: dict[str, dict[str, Lines]]) -> dict[str, dict[str, Lines]]:
        for category in RISK_CATEGORIES:
            replies = value.get(category, {})
            missing = [r for r in REACTIONS if not replies.get(r)]
            if missing:
                raise ValueError(f"victim.{category}: missing reactions {missing}")
        return value

    @model_validator(mode="after")
    def _language_matches_id(self) -> WriterBank:
        if not self.writer.startswith(self.language + "_"):
            raise ValueError(f"writer {self.writer!r} does not match language {self.language!r}")
        return self

    @model_validator(mode="after")
    def _known_slots_only(self) -> WriterBank:
        # A slot the filler does not know would render as an error at generation time, far from here.
        for where, lines in self.all_lines().items():
            for i, line in enumerate(lines):
                unknown = slot_names(line) - WRITER_SLOTS
                if unknown:
                    raise ValueError(
                        f"{where}[{i}]: unknown slot(s) {sorted(unknown)}; allowed {sorted(WRITER_SLOTS)}"
                    )
        return self

    def all_lines(self) -> dict[str, Lines]:
        """Every line, keyed by where it lives (for scans, stats and overlap between writers)."""
        out: dict[str, Lines] = {}
        for category, lines in self.risk.items():
            out[f"risk.{category}"] = lines
        for category, reactions in self.victim.items():
            for reaction, lines in reactions.items():
                out[f"victim.{category}.{reaction}"] = lines
        out["offender_plain.first_contact"] = self.offender_plain.first_contact
        out["offender_plain.rapport"] = self.offender_plain.rapport
        for kind in CHATTER_KINDS:
            out[f"chatter.{kind}"] = getattr(self.chatter, kind)
        for i, scene in enumerate(self.hard_negatives):
            out[f"hard_negatives.{i}.{scene.scenario}"] = tuple(text for _, text in scene.lines)
        return out


@lru_cache(maxsize=1)
def load_writers() -> dict[str, WriterBank]:
    """Every shipped writer bank, by writer id (validated; a malformed file is an error naming it)."""
    out: dict[str, WriterBank] = {}
    folder = files("grooming_risk.data.synth.writers") / "banks"
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".json"):
            continue
        try:
            bank = WriterBank.model_validate(json.loads(entry.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise ValueError(f"writer bank {entry.name}: {exc}") from None
        if entry.name != f"{bank.writer}.json":
            raise ValueError(
                f"writer bank {entry.name}: holds writer {bank.writer!r}, expected its file name"
            )
        out[bank.writer] = bank
    return out


def writer_ids(language: str | None = None) -> list[str]:
    """Writer ids (with the original template author for English), optionally of one language."""
    ids = [ORIGINAL_WRITER, *load_writers()]
    return [w for w in ids if language is None or w.startswith(language + "_")]


def select_writers(spec: str, language: str | None = None) -> list[str]:
    """`train` (all but the validation writers), `validation`, `all`, or comma-separated ids."""
    known = writer_ids(language)
    if spec == "all":
        chosen = known
    elif spec == "train":
        chosen = [w for w in known if w not in VALIDATION_WRITERS]
    elif spec == "validation":
        chosen = [w for w in known if w in VALIDATION_WRITERS]
    else:
        chosen = [w.strip() for w in spec.split(",") if w.strip()]
        every = writer_ids()
        unknown = [w for w in chosen if w not in every]
        if unknown:
            raise ValueError(
                f"unknown writer(s) {', '.join(unknown)}: expected train, validation, all or ids from "
                f"{', '.join(every)}"
            )
        chosen = [w for w in chosen if w in known]
    if not chosen:
        raise ValueError(f"writers {spec!r}: none left for language {language or 'any'}")
    return chosen
