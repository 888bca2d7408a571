"""Phrase banks written by independent writers, one JSON file each, in four languages.

A model trained on one author's phrasings learns that author. Each bank here was written alone,
from a different brief (a terse gamer, a chatty teenager, an older adult, a non-native speaker,
slang and emoji, long messages, British/Australian teens, voice-to-text, a Discord regular, a US
small-town voice, mentor-like adults, a young child's phonetic spelling, Singapore/Malaysia
English; native Spanish, French and German writers), without seeing the original template banks
or each other's work. Writers from en_w7 on were asked for 30 or more benign look-alike scenes
(at least three per warning sign) on scenarios no earlier bank used. Every phrasing carries its writer's id through the
file it lives in, and every generated conversation lists the writers it drew from.

**Unseen-writer validation.** `VALIDATION_WRITERS` never feed training data: validation
(early stopping, calibration, thresholds, model choice) is generated from them alone, so a model
is chosen for how it handles a voice it has never read. The split is fixed in code, not drawn.
"""

from __future__ import annotations

from grooming_risk.data.synth.writers.bank import (
    LANGUAGES,
    ORIGINAL_WRITER,
    VALIDATION_WRITERS,
    HardNegativeScene,
    WriterBank,
    load_writers,
    select_writers,
    writer_ids,
)

__all__ = [
    "LANGUAGES",
    "ORIGINAL_WRITER",
    "VALIDATION_WRITERS",
    "HardNegativeScene",
    "WriterBank",
    "load_writers",
    "select_writers",
    "writer_ids",
]
