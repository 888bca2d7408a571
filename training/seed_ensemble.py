"""What averaging seeds would give: `python training/seed_ensemble.py --members DIR DIR [DIR ...]`.

Scores the config's tuning and report sets with each member (model directories, e.g. one bake-off
candidate's `artifacts/bakeoff/evidence-use-seed13` ... `-seed15`), averages their risks, calibrates
the average and chooses its thresholds on validation only, and prints each member, the members' mean
and the ensemble side by side. One MLflow run in the bake-off's experiment. A measurement, not a
model: see `grooming_risk.training.seed_ensemble` for the rule.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import statistics
from pathlib import Path

COLUMNS = (
    ("val", "roc_auc"),
    ("val", "recall_at_real_1pct"),
    ("real_val", "review_flagged_share"),
    ("handwritten", "roc_auc"),
    ("handwritten", "review_recall"),
    ("handwritten", "hard_negative_fpr_review"),
    ("handwritten", "ece"),
    ("handwritten", "latency_f1_s1"),
    ("handwritten", "recall_at_real_1pct"),
    ("handwritten_multilingual", "roc_auc"),
    ("handwritten_multilingual", "review_recall"),
    ("real_test", "review_flagged_share"),
    ("real_test", "urgent_flagged_share"),
)
VALIDATION = ("val", "real_val")


def table(results: dict[str, dict[str, dict[str, float]]]) -> str:
    header = ["model"] + [f"{s} {m}" + (" (validation)" if s in VALIDATION else "") for s, m in COLUMNS]
    members = [name for name in results if name.startswith("member:")]
    rows = {name: results[name] for name in members}

    def cell(metrics: dict[str, dict[str, float]], s: str, m: str) -> float:
        return metrics.get(s, {}).get(m, math.nan)

    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, metrics in rows.items():
        lines.append("| " + " | ".join([name, *(f"{cell(metrics, s, m):.3f}" for s, m in COLUMNS)]) + " |")
    means = [statistics.fmean(cell(results[n], s, m) for n in members) for s, m in COLUMNS]
    lines.append("| " + " | ".join(["members' mean", *(f"{v:.3f}" for v in means)]) + " |")
    ensemble = results["ensemble"]
    lines.append(
        "| " + " | ".join(["**ensemble**", *(f"{cell(ensemble, s, m):.3f}" for s, m in COLUMNS)]) + " |"
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--members", nargs="+", type=Path, required=True, help="model directories (2 or more)"
    )
    parser.add_argument(
        "--config", default="configs/default.yaml", help="training config naming the data sets"
    )
    parser.add_argument("--set", action="append", default=[], help="config override: section.key=value")
    parser.add_argument("--experiment", default="grooming-risk-bakeoff", help="MLflow experiment")
    parser.add_argument("--run-name", default="posthoc-seed-ensemble", help="MLflow run name")
    parser.add_argument("--json", type=Path, help="also write every set's metrics here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    import mlflow
    import numpy as np

    from grooming_risk.training.config import load_config
    from grooming_risk.training.seed_ensemble import measure
    from grooming_risk.training.tracking import configure_tracking

    cfg = load_config(args.config, args.set)
    results = measure(cfg, args.members)
    text = table(results)
    configure_tracking(args.experiment)
    with mlflow.start_run(run_name=args.run_name):
        mlflow.set_tags({"stage": "seed-ensemble", "members": ",".join(p.name for p in args.members)})
        mlflow.log_params({"config": args.config, "n_members": len(args.members)})
        for split, metrics in results["ensemble"].items():
            mlflow.log_metrics({f"{split}_{k}": v for k, v in metrics.items() if np.isfinite(v)})
        mlflow.log_text(text, "seed_ensemble.md")
        mlflow.log_dict(results, "seed_ensemble.json")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str) + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
