"""What per-participant risk costs the scorer: the assessment builder with and without senders.

    python benchmarks/participants.py [--messages 20000] [--repeats 3] [--redis redis://127.0.0.1:6379/15]

Feeds one synthetic trajectory (two participants taking turns, model evidence on every message)
through `AssessmentBuilder.extend`, once without messages (no per-participant risk: the baseline)
and once with them, and prints microseconds per message and the ratio, best of --repeats. No model
is loaded: this isolates the builder, which every front end runs once per message.

Then what the HTTP service adds per append to keep sender profiles: one `record` of a two-person
assessment in the in-memory store and, with --redis, in Redis (a round trip; keys under a random
prefix, expiring after a minute).
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid

import numpy as np

from grooming_risk.contract.assessment import Assessment
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
    parser.add_argument("--records", type=int, default=2_000, help="Profile writes per store.")
    parser.add_argument("--redis", default=None, help="Also time the Redis sender store at this URL.")
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
    state = BuilderState()
    head = Trajectory(
        trajectory.risk_logit[:40], trajectory.sextortion_prob[:40], trajectory.category_probs[:40], None
    )
    assessment = builder.assessment("bench", state, builder.extend(state, head, messages[:40]))
    print()
    print(f"| sender-profile write per append ({args.records:,} writes) | µs |")
    print("|---|---|")
    for label, us in asyncio.run(_store_costs(assessment, args.records, args.redis)).items():
        print(f"| {label} | {us:.0f} |")


async def _store_costs(assessment: Assessment, records: int, redis_url: str | None) -> dict[str, float]:
    from grooming_risk.service.senders import InMemorySenderStore, RedisSenderStore, SenderStore

    stores: dict[str, SenderStore] = {"memory": InMemorySenderStore(ttl_s=60, max_senders=1_000)}
    if redis_url:
        import redis.asyncio

        stores["redis"] = RedisSenderStore(
            redis.asyncio.Redis.from_url(redis_url), ttl_s=60, prefix=f"bench-{uuid.uuid4().hex}:"
        )
    out = {}
    for label, store in stores.items():
        await store.record(assessment)
        start = time.perf_counter()
        for _ in range(records):
            await store.record(assessment)
        out[label] = (time.perf_counter() - start) / records * 1e6
    return out


if __name__ == "__main__":
    main()
