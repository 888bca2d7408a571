"""The model bake-off: several candidate configs, several seeds each, one MLflow experiment, and a
default chosen by a rule written down (in the bake-off config) before anything is trained.

The rule reads validation metrics only: the unseen-writer validation set (`val`) and the real-chat
validation slice (`real_val`). Every other set (hand-written, real-chat test) is reported beside
the choice and never enters it.

    grooming-risk bakeoff --config configs/bakeoff/model_v2.yaml
"""

from __future__ import annotations

import json
import logging
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from grooming_risk.training.config import ConfigError, load_config

log = logging.getLogger(__name__)

# Measured once per candidate (first seed) by `add_speeds`, reported beside quality.
SPEED_COLUMNS = ("onnx_messages_per_s", "stream_ms_per_message")
# Sets the rule may read (validation); anything else is for reporting only.
SELECTABLE_PREFIXES = ("val_", "real_val_")


class Rule(BaseModel):
    """How the default is chosen, from means over seeds of validation metrics."""

    model_config = ConfigDict(extra="forbid")

    primary: str = Field(description="Metric to maximise, e.g. val_recall_at_real_1pct.")
    tie_margin: float = Field(default=0.01, ge=0, description="Candidates this close to the best tie.")
    tie_break: str = Field(description="Among tied candidates, maximise this metric (e.g. val_roc_auc).")
    max_real_review_share: float = Field(
        ge=0, le=1, description="Eligible only if real_val_review_flagged_share is at most this."
    )
    max_real_urgent_share: float = Field(
        ge=0, le=1, description="Eligible only if real_val_urgent_flagged_share is at most this."
    )
    at_least: dict[str, float] = Field(
        default_factory=dict,
        description="More eligibility floors on validation metrics (mean over seeds), e.g. "
        "val_top_sender_accuracy: 0.9.",
    )

    @field_validator("primary", "tie_break")
    @classmethod
    def _validation_only(cls, value: str) -> str:
        if not value.startswith(SELECTABLE_PREFIXES):
            raise ValueError(
                f"{value!r}: the rule may only read validation metrics ({', '.join(SELECTABLE_PREFIXES)}...)"
            )
        return value

    @field_validator("at_least")
    @classmethod
    def _floors_on_validation_only(cls, value: dict[str, float]) -> dict[str, float]:
        for metric in value:
            cls._validation_only(metric)
        return value


class Candidate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    config: Path
    set: list[str] = Field(default_factory=list, description="Overrides, as `grooming-risk train --set`.")


class BakeoffConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    experiment: str = "grooming-risk-bakeoff"
    seeds: list[int] = Field(min_length=1)
    output_dir: Path = Path("artifacts/bakeoff")
    rule: Rule
    candidates: dict[str, Candidate] = Field(min_length=2)
    report_metrics: list[str] = Field(default_factory=list, description="Columns of the result table.")


def load_bakeoff(path: str | Path) -> BakeoffConfig:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return BakeoffConfig.model_validate(raw)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


@dataclass
class CandidateResult:
    name: str
    runs: list[dict[str, float]] = field(default_factory=list)

    def mean(self, metric: str) -> float:
        values = [r[metric] for r in self.runs if metric in r and math.isfinite(r[metric])]
        return statistics.fmean(values) if values else math.nan

    def spread(self, metric: str) -> float:
        values = [r[metric] for r in self.runs if metric in r and math.isfinite(r[metric])]
        return statistics.pstdev(values) if len(values) > 1 else 0.0


def choose(results: list[CandidateResult], rule: Rule) -> tuple[str | None, list[str]]:
    """The rule applied to means over seeds; returns the winner (None if none is eligible) and why."""
    why: list[str] = []
    eligible = []
    for r in results:
        review, urgent = r.mean("real_val_review_flagged_share"), r.mean("real_val_urgent_flagged_share")
        below = [
            f"{m} {r.mean(m):.3f} < {floor}" for m, floor in rule.at_least.items() if not r.mean(m) >= floor
        ]
        if review > rule.max_real_review_share or urgent > rule.max_real_urgent_share:
            why.append(
                f"{r.name}: not eligible (real_val flags {review:.2%} at review, {urgent:.2%} urgent; "
                f"limits {rule.max_real_review_share:.2%}, {rule.max_real_urgent_share:.2%})"
            )
        elif below:
            why.append(f"{r.name}: not eligible ({'; '.join(below)})")
        else:
            eligible.append(r)
    if not eligible:
        return None, [*why, "no candidate is eligible"]
    best = max(r.mean(rule.primary) for r in eligible)
    tied = [r for r in eligible if r.mean(rule.primary) >= best - rule.tie_margin]
    winner = max(tied, key=lambda r: r.mean(rule.tie_break))
    why.append(
        f"best {rule.primary} {best:.3f}; within {rule.tie_margin}: {', '.join(r.name for r in tied)}; "
        f"highest {rule.tie_break} among them: {winner.name}"
    )
    return winner.name, why


# A finished run's metrics, by (candidate, seed).
Finished = dict[tuple[str, int], dict[str, float]]


def run_bakeoff(
    cfg: BakeoffConfig,
    *,
    only: list[str] | None = None,
    finished: Finished | None = None,
    train_fn: Callable[[Any], dict[str, float]] | None = None,
) -> tuple[list[CandidateResult], str | None]:
    """Train every candidate with every seed (one MLflow run each, one experiment), then choose.

    A (candidate, seed) in `finished` (see `finished_runs`) is not trained again: its recorded metrics
    are used, so a bake-off stopped part-way on a 2-core machine resumes where it stopped."""
    if train_fn is None:
        from grooming_risk.training.pipeline import train

        train_fn = train
    finished = finished or {}

    results = []
    for name, candidate in cfg.candidates.items():
        if only and name not in only:
            continue
        result = CandidateResult(name)
        for seed in cfg.seeds:
            if (name, seed) in finished:
                log.info("bake-off: %s, seed %d: finished run found, not trained again", name, seed)
                result.runs.append(dict(finished[(name, seed)]))
                continue
            train_cfg = load_config(
                candidate.config,
                [
                    *candidate.set,
                    f"name=bakeoff-{name}",
                    f"training.seed={seed}",
                    f"output_dir={cfg.output_dir / f'{name}-seed{seed}'}",
                    f"mlflow.experiment={cfg.experiment}",
                    "mlflow.register_model=false",
                    "mlflow.log_model=false",
                ],
            )
            started = time.perf_counter()
            log.info("bake-off: %s, seed %d", name, seed)
            metrics = train_fn(train_cfg)
            metrics["wall_seconds"] = time.perf_counter() - started
            result.runs.append(metrics)
        results.append(result)
    winner, why = choose(results, cfg.rule)
    write_summary(cfg, results, winner, why)
    return results, winner


def finished_runs(cfg: BakeoffConfig) -> Finished:
    """The bake-off's runs as MLflow holds them: the latest finished run per candidate and seed."""
    import mlflow

    from grooming_risk.training.tracking import configure_tracking

    configure_tracking(cfg.experiment)
    runs = mlflow.search_runs(
        experiment_names=[cfg.experiment], output_format="list", order_by=["start_time DESC"]
    )
    found: Finished = {}
    names = {f"bakeoff-{name}": name for name in cfg.candidates}
    for run in runs:
        name = names.get(run.info.run_name)
        if name is None or run.info.status != "FINISHED":
            continue
        seed = int(run.data.params.get("training.seed", -1))
        if seed in cfg.seeds and (name, seed) not in found:
            found[(name, seed)] = dict(run.data.metrics)
    return found


def results_from_mlflow(cfg: BakeoffConfig, finished: Finished | None = None) -> list[CandidateResult]:
    """The report rebuilt from finished runs, without training: speeds can be added afterwards."""
    finished = finished_runs(cfg) if finished is None else finished
    results = []
    for name in cfg.candidates:
        seeds = [s for s in cfg.seeds if (name, s) in finished]
        if seeds:
            results.append(CandidateResult(name, [finished[(name, s)] for s in seeds]))
    return results


def measure_speed(
    artifact_dir: Path, conversations: list[Any], stream_messages: int = 200
) -> dict[str, float]:
    """Speed on the ONNX path: export (int8 encoder graph, or the numpy USE), then batch messages/s
    on `conversations` and milliseconds per message streamed one at a time."""
    import tempfile

    from grooming_risk.inference.onnx_export import export_onnx
    from grooming_risk.inference.scorer import RiskScorer

    with tempfile.TemporaryDirectory(prefix="grooming-risk-bakeoff-") as tmp:
        export_onnx(artifact_dir, Path(tmp) / "onnx")
        # As `score` and `serve` do: weights loaded and encoder workers started before the clock.
        scorer = RiskScorer.load(Path(tmp) / "onnx").warm_up()
        scorer.score(conversations[:2])  # warm-up: sessions, allocations
        n_messages = sum(len(c.messages) for c in conversations)
        started = time.perf_counter()
        scorer.score(conversations)
        batch_s = time.perf_counter() - started
        streamed, stream_s = 0, 0.0
        for conversation in conversations:
            session = scorer.stream(conversation.conversation_id + "-stream")
            for message in conversation.messages:
                if streamed >= stream_messages:
                    break
                # A new text each time: the encoder's cache would otherwise answer the repeats.
                started = time.perf_counter()
                session.add(message.model_copy(update={"text": f"{message.text} #{streamed}"}))
                stream_s += time.perf_counter() - started
                streamed += 1
    return {
        "onnx_messages_per_s": n_messages / batch_s,
        "stream_ms_per_message": 1000 * stream_s / max(streamed, 1),
    }


def add_speeds(cfg: BakeoffConfig, results: list[CandidateResult], data: Path, n: int = 200) -> None:
    """Measure each candidate's first seed on the first `n` conversations of `data` (speed only)."""
    from itertools import islice

    from grooming_risk.io.readers import read_conversations

    conversations = list(islice(read_conversations(data), n))
    for result in results:
        directory = cfg.output_dir / f"{result.name}-seed{cfg.seeds[0]}"
        if not directory.exists():
            continue
        log.info("bake-off: speed of %s", result.name)
        speed = measure_speed(directory, conversations)
        for run in result.runs:
            run.update(speed)


def summary_table(cfg: BakeoffConfig, results: list[CandidateResult], winner: str | None) -> str:
    """Markdown: one row per candidate, mean ± spread over seeds; validation columns are marked."""
    metrics = list(cfg.report_metrics or [cfg.rule.primary, cfg.rule.tie_break])
    metrics += [m for m in SPEED_COLUMNS if any(m in run for r in results for run in r.runs)]
    header = [
        "candidate",
        *[f"{m} (validation)" if m.startswith(SELECTABLE_PREFIXES) else m for m in metrics],
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in results:
        cells = [f"**{r.name}** (chosen)" if r.name == winner else r.name]
        for m in metrics:
            mean, spread = r.mean(m), r.spread(m)
            if math.isnan(mean):
                cells.append("n/a")
            elif m in SPEED_COLUMNS or m.endswith("_seconds"):
                cells.append(f"{mean:,.1f}")
            else:
                cells.append(f"{mean:.3f} ± {spread:.3f}")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_summary(
    cfg: BakeoffConfig, results: list[CandidateResult], winner: str | None, why: list[str]
) -> Path:
    cfg.output_dir.mkdir(parents=True, exist_ok=True)
    table = summary_table(cfg, results, winner)
    text = "\n".join(
        [
            "# Bake-off",
            "",
            f"Seeds {cfg.seeds}; rule (fixed before the run): maximise the mean of `{cfg.rule.primary}` "
            f"among candidates that flag at most {cfg.rule.max_real_review_share:.2%} (review) and "
            f"{cfg.rule.max_real_urgent_share:.2%} (urgent) of the real-chat validation slice"
            + "".join(f" and reach {m} >= {v}" for m, v in cfg.rule.at_least.items())
            + "; within "
            f"{cfg.rule.tie_margin} of the best, the highest `{cfg.rule.tie_break}`.",
            "",
            table,
            "",
            *[f"- {line}" for line in why],
            *[
                f"- {name}: not in this report (no finished run of seeds {cfg.seeds} in the experiment)"
                for name in cfg.candidates
                if name not in {r.name for r in results}
            ],
            *[
                f"- {r.name}: {len(r.runs)} of {len(cfg.seeds)} seeds finished"
                for r in results
                if len(r.runs) < len(cfg.seeds)
            ],
            "",
        ]
    )
    path = cfg.output_dir / "BAKEOFF.md"
    path.write_text(text, encoding="utf-8")
    (cfg.output_dir / "bakeoff.json").write_text(
        json.dumps(
            {"winner": winner, "why": why, "runs": {r.name: r.runs for r in results}}, indent=2, default=_json
        )
        + "\n",
        encoding="utf-8",
    )
    return path


def _json(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else str(value)
