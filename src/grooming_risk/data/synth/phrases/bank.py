"""A category's phrase bank: openers x cores x tails, each a template of the phrase grammar."""

from __future__ import annotations

import random
from dataclasses import dataclass

from grooming_risk.data.synth.pool import ALL, PhrasePool
from grooming_risk.data.synth.template import SlotFiller, count_variants, render, tidy

# Shared by every category so that openers and tails do not give the category away.
COMMON_OPENERS: tuple[str, ...] = (
    "hey ",
    "hey {victim} ",
    "so ",
    "btw ",
    "ok ",
    "wait ",
    "random but ",
    "honestly ",
    "lol ",
    "tbh ",
    "also ",
    "anyway ",
    "yo ",
    "hmm ",
    "listen ",
    "{victim} ",
    "ok so ",
    "real talk ",
    "ngl ",
    "oh and ",
)
COMMON_TAILS: tuple[str, ...] = (
    " lol",
    " haha",
    " :)",
    " ok",
    " tho",
    " btw",
    " fr",
    " lmao",
    " !!",
    " ...",
    " 🙂",
    " hehe",
    " ngl",
)


@dataclass(frozen=True)
class CategoryBank:
    """Phrases for one risk category; `cores` carry the sign, openers and tails only vary it."""

    category: str
    cores: tuple[str, ...]
    openers: tuple[str, ...] = ()
    tails: tuple[str, ...] = ()
    opener_rate: float = 0.45
    tail_rate: float = 0.3

    def render(self, rng: random.Random, fill: SlotFiller, pool: PhrasePool = ALL) -> str:
        core = render(pool.pick(self.cores, rng), rng, fill)
        opener = ""
        tail = ""
        if rng.random() < self.opener_rate:
            openers = self.openers if self.openers and rng.random() < 0.6 else COMMON_OPENERS
            opener = render(rng.choice(openers), rng, fill) + " "
        if rng.random() < self.tail_rate:
            tails = self.tails if self.tails and rng.random() < 0.6 else COMMON_TAILS
            tail = render(rng.choice(tails), rng, fill)
            tail = tail if tail[:1] in {",", ".", "!", "?"} else " " + tail
        return tidy(opener + core + tail)

    def core_variants(self) -> int:
        """Phrasings of the cores alone, before slots are filled."""
        return sum(count_variants(core) for core in self.cores)

    def templates(self) -> tuple[str, ...]:
        return self.openers + self.cores + self.tails
