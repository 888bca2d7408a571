"""What per-participant risk costs the scorer: the assessment builder with and without senders.

    python benchmarks/participants.py [--messages 20000] [--repeats 3]

Feeds one synthetic trajectory (two participants taking turns, model evidence on every message)
through `AssessmentBuilder.extend`, once without messages (no per-participant risk: the baseline)
and once with them, and prints microseconds per message and the ratio, best of --repeats. No model
is loaded: this isolates the builder, which every front end runs once per message.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from grooming_risk.contract.conversation import Message
from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.inference.assessment_builder import AssessmentBuilder, BuilderState
from grooming_risk.inference.backend import Trajectory
from grooming_risk.model.artifact import ArtifactMeta, Thresholds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    meta = ArtifactMeta(
        kind="sequence",
        model_version="bench",
        thresholds=Thresholds(review=0.5, urgent=0.9),
        encoder={"name": "bench"},
    )
    builder = AssessmentBuilder(meta)
    n = args.messages
    rng = np.random.default_rng(0)
    trajectory = Trajectory(
        rng.normal(size=n).astype(np.float32),
        rng.random(n).astype(np.float32),
        rng.random((n, len(RISK_CATEGORIES))).astype(np.float32),
        (rng.random(n) * 0.3).astype(np.float32),
    )
    messages = [Message(sender="ab"[i % 2], text="") for i in range(n)]
    results = {}
    for label, given in (("without senders (baseline)", None), ("with senders", messages)):
        best = float("inf")
        for _ in range(args.repeats):
            start = time.perf_counter()
            builder.extend(BuilderState(), trajectory, given)
            best = min(best, time.perf_counter() - start)
        results[label] = best / n * 1e6
    print(f"| builder ({n:,} messages, best of {args.repeats}) | µs per message |")
    print("|---|---|")
    for label, us in results.items():
        print(f"| {label} | {us:.1f} |")
    base, with_senders = results.values()
    print(f"| ratio with / without | {with_senders / base:.2f}x |")


if __name__ == "__main__":
    main()
