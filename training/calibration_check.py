"""Pooled or balanced calibration for one trained model: `python training/calibration_check.py --model DIR`.

Calibration is fitted on the tuning sets (generated validation, hand-written validation, real
validation chats). Pooled, every conversation weighs alike, so the thousand generated chats decide
it; balanced (`calibration.balance: true`), every set weighs alike. Both maps are fitted here on the
model's raw risk logits, as training fits them, and every set of the config is scored both ways.
The rule that reads this (README, rule 3): balanced is adopted if the mean ECE of `val` and
`val_handwritten` falls. The other sets only report.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from pathlib import Path

import numpy as np

DECIDING = ("val", "val_handwritten")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", type=Path, required=True, help="a trained sequence or baseline model directory"
    )
    parser.add_argument(
        "--config", type=Path, default=Path("configs/default.yaml"), help="whose data to read"
    )
    parser.add_argument("--set", action="append", default=[], help="config override section.key=value")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    from grooming_risk.evaluation.calibration import brier_score, expected_calibration_error
    from grooming_risk.evaluation.predictions import labels_and_scores
    from grooming_risk.inference.scorer import RiskScorer
    from grooming_risk.training.config import load_config
    from grooming_risk.training.datasets import TUNING_SETS, load_datasets
    from grooming_risk.training.evaluate import predictions, use_vector_cache
    from grooming_risk.training.pipeline import calibrate
    from grooming_risk.training.seed_ensemble import apply_calibration

    cfg = load_config(args.config, args.set)
    data = load_datasets(cfg.data)
    sets = data.evaluation_sets()
    scorer = RiskScorer.load(args.model)
    use_vector_cache(scorer, cfg.cache_dir)
    preds = {name: predictions(scorer, convs) for name, convs in sets.items()}
    logits = {
        name: [np.asarray(t.risk_logit, dtype=float) for t in scorer.backend.trajectories(convs)]
        for name, convs in sets.items()
    }
    labels = {name: labels_and_scores(p)[0] for name, p in preds.items()}
    tuning = [name for name in TUNING_SETS if name in sets]
    finals = np.array([z[-1] for name in tuning for z in logits[name]])
    y = np.concatenate([labels[name] for name in tuning])
    sizes = [len(sets[name]) for name in tuning]

    results: dict[str, dict[str, dict[str, float]]] = {}
    for way, balance in (("pooled", False), ("balanced", True)):
        way_cfg = cfg.model_copy(
            update={"calibration": cfg.calibration.model_copy(update={"balance": balance})}
        )
        calibration, _ = calibrate(way_cfg, finals, y, len(data.real_val), sizes)
        results[way] = {"map": {"temperature": calibration.temperature, "bias": calibration.bias}}
        for name, zs in logits.items():
            recalibrated = [
                dataclasses.replace(p, risk_by_message=apply_calibration(z, calibration))
                for p, z in zip(preds[name], zs, strict=True)
            ]
            y_set, scores = labels_and_scores(recalibrated)
            results[way][name] = {
                "ece": expected_calibration_error(y_set, scores),
                "brier": brier_score(y_set, scores),
            }
        results[way]["rule"] = {
            "mean_ece": float(np.mean([results[way][s]["ece"] for s in DECIDING if s in sets]))
        }

    names = list(logits)
    print(
        "| calibration | T, b | "
        + " | ".join(f"{n} ECE / Brier" + (" (validation)" if n in TUNING_SETS else "") for n in names)
        + " | mean ECE of val, val_handwritten (the rule) |"
    )
    print("|" + "---|" * (len(names) + 3))
    for way, r in results.items():
        cells = [f"{r[n]['ece']:.3f} / {r[n]['brier']:.3f}" for n in names]
        print(
            f"| {way} | {r['map']['temperature']:.3f}, {r['map']['bias']:.3f} | "
            + " | ".join(cells)
            + f" | {r['rule']['mean_ece']:.3f} |"
        )
    chosen = (
        "balanced"
        if results["balanced"]["rule"]["mean_ece"] < results["pooled"]["rule"]["mean_ece"]
        else "pooled"
    )
    print(f"\nBy the rule: {chosen}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
