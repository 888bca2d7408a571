"""Phrasing pools: keep a share of every template list out of training data.

Synthetic data scores near-perfectly on its own validation split because validation reuses the
training phrasings; hand-written chats do not. A model selected, calibrated and thresholded on
such a split is overconfident on real text. With `PhrasePool("train")` the generator only draws
templates outside a fixed, hash-chosen share of each list; `PhrasePool("heldout")` only draws that
share. A held-out-phrasing set is then a validation set of wordings the model never saw, which
is the shift a deployed model meets, measured without touching the hand-written set.

The assignment depends on the template text alone (SHA-256), so it is stable across runs and
machines, and the "all" pool draws exactly as the generator always did.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence
from functools import lru_cache
from typing import Literal

PoolName = Literal["all", "train", "heldout"]
POOLS: tuple[str, ...] = ("all", "train", "heldout")
DEFAULT_HELDOUT_SHARE = 0.25


def is_heldout(template: str, share: float) -> bool:
    """Whether `template` belongs to the held-out share (a deterministic function of its text)."""
    digest = hashlib.sha256(template.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


@lru_cache(maxsize=4096)
def _options(templates: tuple[str, ...], heldout: bool, share: float) -> tuple[str, ...]:
    chosen = tuple(t for t in templates if is_heldout(t, share) == heldout)
    # A list whose templates all fall on one side (short lists) stays whole on both sides: the
    # alternative is a pool that cannot say a greeting at all.
    return chosen if chosen and len(chosen) < len(templates) else templates


class PhrasePool:
    """Which templates a generator may draw: all of them, the training share or the held-out share."""

    def __init__(self, name: str = "all", heldout_share: float = DEFAULT_HELDOUT_SHARE) -> None:
        if name not in POOLS:
            raise ValueError(f"phrase pool {name!r}: expected one of {', '.join(POOLS)}")
        if not 0.0 < heldout_share < 1.0:
            raise ValueError(
                f"held-out phrase share must be between 0 and 1 (exclusive), got {heldout_share!r}"
            )
        self.name = name
        self.heldout_share = heldout_share

    def options(self, templates: Sequence[str]) -> Sequence[str]:
        if self.name == "all":
            return templates
        return _options(tuple(templates), self.name == "heldout", self.heldout_share)

    def pick(self, templates: Sequence[str], rng: random.Random) -> str:
        # One rng.random() per pick in every pool, so the "all" pool reproduces earlier corpora.
        options = self.options(templates)
        return options[int(rng.random() * len(options))]


ALL = PhrasePool()
