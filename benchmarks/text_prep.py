"""What folding emoji costs text preparation: `normalize` with and without `fold_emoji`.

    python benchmarks/text_prep.py [--data data/generated/splits/test.jsonl] [--conversations 300] [--repeats 3]

Prepares every message of the first N conversations once with `fold_emoji` switched off (the
baseline: text preparation version 1) and once as shipped, cache cleared before each pass, and prints
microseconds per message and the ratio, best of --repeats. No model is loaded: this isolates the
step every front end runs once per message before encoding.
"""

from __future__ import annotations

import argparse
import importlib
import itertools
import time
from collections.abc import Callable
from pathlib import Path

from grooming_risk.io.readers import read_conversations


def _pass(module: object, texts: list[str]) -> float:
    normalize = module.normalize  # type: ignore[attr-defined]
    normalize.cache_clear()
    start = time.perf_counter()
    for text in texts:
        normalize(text)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("data/generated/splits/test.jsonl"))
    parser.add_argument("--conversations", type=int, default=300)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    # The module, not the function `grooming_risk.text` re-exports under the same name.
    module = importlib.import_module("grooming_risk.text.normalize")
    conversations = list(itertools.islice(read_conversations(args.data), args.conversations))
    texts = [m.text for c in conversations for m in c.messages]
    if not texts:
        raise SystemExit(f"{args.data}: no messages to prepare")
    shipped: Callable[[str], str] = module.fold_emoji
    best: dict[str, float] = {}
    try:
        for _ in range(args.repeats):
            for name, fold in (("without folding (baseline)", lambda text: text), ("with folding", shipped)):
                module.fold_emoji = fold  # type: ignore[attr-defined]
                best[name] = min(best.get(name, float("inf")), _pass(module, texts))
    finally:
        module.fold_emoji = shipped  # type: ignore[attr-defined]
        module.normalize.cache_clear()

    base, folded = best["without folding (baseline)"], best["with folding"]
    print(
        f"{len(texts):,} messages from {len(conversations):,} conversations in {args.data}; "
        f"{sum(not t.isascii() for t in texts):,} not plain ASCII; best of {args.repeats}\n"
    )
    print("| text preparation | µs per message | total ms |")
    print("|---|---|---|")
    for name, seconds in best.items():
        print(f"| {name} | {seconds / len(texts) * 1e6:.1f} | {seconds * 1e3:.1f} |")
    print(f"| ratio with / without | {folded / base:.2f}x | {(folded - base) * 1e3:+.1f} |")


if __name__ == "__main__":
    main()
