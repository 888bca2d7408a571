"""Synthetic conversations with known labels, categories and risk onset, for training and tests.

    from grooming_risk.data.synth import SynthConfig, generate
    for conversation in generate(1000, seed=7, config=SynthConfig(hard_negative_share=0.5)):
        ...

The data contains no sexual content: risk shows only as behavioural warning signs, and the
test suite scans large generated corpora and every phrase bank against `data.blocklist`.
"""

from __future__ import annotations

from grooming_risk.data.synth.config import SynthConfig
from grooming_risk.data.synth.generator import GENERATOR_VERSION, generate

__all__ = ["GENERATOR_VERSION", "SynthConfig", "generate"]
