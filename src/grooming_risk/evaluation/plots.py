"""Evaluation plots as PNG files.

Each function takes numbers (never conversation text), writes one PNG and returns its path.
Figures are built as `matplotlib.figure.Figure` objects on the Agg canvas, not through pyplot, so
nothing touches global backend state and plotting works headless and in threads. Sample
conversations are labelled by id only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from grooming_risk.evaluation.calibration import ECE_BINS, calibration_bins
from grooming_risk.evaluation.early import first_warning
from grooming_risk.evaluation.metrics import is_single_class, label_score_arrays
from grooming_risk.evaluation.predictions import ConversationPrediction, labels_and_scores

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from grooming_risk.evaluation.report import EvaluationReport

# Black, so threshold lines never share a colour with a conversation or metric line.
_THRESHOLD_STYLES = {"review": ("black", "--"), "urgent": ("black", ":")}


def _figure(width: float = 6.0, height: float = 4.5) -> Figure:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Figure, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out


def _undefined(ax: Axes, why: str) -> None:
    ax.text(0.5, 0.5, why, ha="center", va="center", transform=ax.transAxes)


def _roc_figure(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> Figure:
    from sklearn.metrics import roc_auc_score, roc_curve

    y, s = label_score_arrays(labels, scores)
    fig = _figure()
    ax = fig.add_subplot()
    ax.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1)
    if is_single_class(y):
        _undefined(ax, "ROC undefined: one class only")
    else:
        fpr, tpr, _ = roc_curve(y, s)
        ax.plot(fpr, tpr, label=f"AUC = {roc_auc_score(y, s):.3f}")
        ax.legend(loc="lower right")
    ax.set(
        xlabel="False-positive rate", ylabel="True-positive rate", title="ROC", xlim=(0, 1), ylim=(0, 1.02)
    )
    return fig


def plot_roc(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, path: str | Path
) -> Path:
    return _save(_roc_figure(labels, scores), path)


def _pr_figure(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> Figure:
    from sklearn.metrics import average_precision_score, precision_recall_curve

    y, s = label_score_arrays(labels, scores)
    fig = _figure()
    ax = fig.add_subplot()
    if is_single_class(y):
        _undefined(ax, "Precision-recall undefined: one class only")
    else:
        precision, recall, _ = precision_recall_curve(y, s)
        ax.step(recall, precision, where="post", label=f"AP = {average_precision_score(y, s):.3f}")
        ax.axhline(float(y.mean()), color="grey", linestyle=":", linewidth=1, label="prevalence")
        ax.legend(loc="lower left")
    ax.set(xlabel="Recall", ylabel="Precision", title="Precision-recall", xlim=(0, 1), ylim=(0, 1.02))
    return fig


def plot_pr(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, path: str | Path
) -> Path:
    return _save(_pr_figure(labels, scores), path)


def plot_calibration(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    path: str | Path,
    n_bins: int = ECE_BINS,
) -> Path:
    """Reliability diagram (share of risky conversations per score bin) over the bin counts."""
    bins = calibration_bins(labels, scores, n_bins)
    fig = _figure(6.0, 6.0)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    top.plot([0, 1], [0, 1], color="grey", linestyle=":", linewidth=1, label="perfect calibration")
    filled = [b for b in bins if b.count]
    top.plot([b.mean_confidence for b in filled], [b.accuracy for b in filled], marker="o", label="model")
    top.set(ylabel="Share risky", title="Calibration", xlim=(0, 1), ylim=(0, 1.02))
    top.legend(loc="lower right")
    width = bins[0].upper - bins[0].lower
    bottom.bar([b.lower for b in bins], [b.count for b in bins], width=width, align="edge", edgecolor="white")
    bottom.set(xlabel="Predicted risk", ylabel="Conversations")
    return _save(fig, path)


def plot_confusion(confusion: Mapping[str, Any], path: str | Path) -> Path:
    """`confusion` as from `metrics.confusion_matrix`: {"labels": [...], "matrix": rows true, columns predicted}."""
    labels = list(confusion["labels"])
    matrix = np.asarray(confusion["matrix"], dtype=int)
    fig = _figure(5.0, 4.5)
    ax = fig.add_subplot()
    image = ax.imshow(matrix, cmap="Blues")
    fig.colorbar(image, ax=ax)
    ticks = list(range(len(labels)))
    ax.set_xticks(ticks, labels)
    ax.set_yticks(ticks, labels)
    high = matrix.max() / 2 if matrix.size else 0
    for i in ticks:
        for j in ticks:
            colour = "white" if matrix[i, j] > high else "black"
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", color=colour)
    ax.set(xlabel="Predicted", ylabel="True", title="Conversation labels")
    return _save(fig, path)


def plot_latency_histogram(latencies: Sequence[int], delays: Sequence[int], path: str | Path) -> Path:
    """Left: messages to the first warning; right: delay from the first risk sign (1 = at it)."""
    fig = _figure(9.0, 4.0)
    left, right = fig.subplots(1, 2)
    for ax, values, xlabel in (
        (left, latencies, "Non-empty messages until the warning"),
        (right, delays, "Messages from first risk sign to warning"),
    ):
        if len(values):
            ax.hist(values, bins=min(30, max(1, len(set(values)))), edgecolor="white")
        else:
            _undefined(ax, "no detected risky conversations")
        ax.set(xlabel=xlabel, ylabel="Conversations")
    left.set_title("Latency")
    right.set_title("Delay from first risk sign")
    return _save(fig, path)


def _risk_curves_figure(
    preds_subset: Sequence[ConversationPrediction],
    thresholds: Mapping[str, float],
    max_conversations: int = 8,
) -> Figure:
    fig = _figure(8.0, 4.5)
    ax = fig.add_subplot()
    for name, (colour, style) in _THRESHOLD_STYLES.items():
        if name in thresholds:
            ax.axhline(
                thresholds[name], color=colour, linestyle=style, linewidth=1, label=f"{name} threshold"
            )
    review = thresholds.get("review")
    for p in preds_subset[:max_conversations]:
        x = np.arange(len(p.risk_by_message))
        risks = np.asarray(p.risk_by_message, dtype=float)
        (line,) = ax.plot(x, risks, linewidth=1.5, label=p.conversation_id)
        if review is not None:
            alert = first_warning(p, review, s=1, window=1)
            if alert is not None:
                ax.plot(alert.index, risks[alert.index], marker="^", markersize=9, color=line.get_color())
        if p.first_risk_index is not None:
            ax.plot(
                p.first_risk_index,
                risks[p.first_risk_index],
                marker="x",
                markersize=9,
                markeredgewidth=2,
                color=line.get_color(),
            )
    ax.set(
        xlabel="Message index", ylabel="Calibrated risk", ylim=(0, 1.02), title="Risk over the conversation"
    )
    ax.text(
        0.01, 0.98, "▲ first alert   × first risk sign", transform=ax.transAxes, va="top", fontsize="small"
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    return fig


def plot_risk_curves(
    preds_subset: Sequence[ConversationPrediction],
    thresholds: Mapping[str, float],
    path: str | Path,
    max_conversations: int = 8,
) -> Path:
    """Risk after each message for a few conversations, labelled by id, with the review/urgent lines,
    a triangle at the first alert (first non-empty message at or above review) and a cross at the
    true first risk message."""
    return _save(_risk_curves_figure(preds_subset, thresholds, max_conversations), path)


def plot_threshold_tradeoff(
    table: Sequence[Mapping[str, float]], path: str | Path, operating: Mapping[str, float] | None = None
) -> Path:
    """Precision, recall, hard-negative FPR and flagged share against the threshold (rows of threshold_table)."""
    fig = _figure(7.0, 4.5)
    ax = fig.add_subplot()
    t = [row["threshold"] for row in table]
    for key, label in (
        ("precision", "precision"),
        ("recall", "recall"),
        ("hard_negative_fpr", "hard-negative FPR"),
        ("flagged_share", "flagged share"),
    ):
        ax.plot(t, [row[key] for row in table], marker=".", label=label)
    for name, value in (operating or {}).items():
        colour, style = _THRESHOLD_STYLES.get(name, ("grey", "-."))
        ax.axvline(value, color=colour, linestyle=style, linewidth=1, label=f"{name} = {value:.2f}")
    ax.set(
        xlabel="Threshold (flag = risk >= threshold)",
        ylabel="Share",
        ylim=(0, 1.02),
        title="Threshold trade-off",
    )
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    return _save(fig, path)


def sample_for_curves(preds: Sequence[ConversationPrediction], n: int = 6) -> list[ConversationPrediction]:
    """A deterministic few: risky conversations first, then hard negatives, then other benign ones."""
    ordered = sorted(preds, key=lambda p: p.conversation_id)
    risky = [p for p in ordered if p.is_positive]
    hard = [p for p in ordered if not p.is_positive and p.hard_negative]
    other = [p for p in ordered if not p.is_positive and not p.hard_negative]
    half = max(1, n // 2)
    chosen = risky[:half] + hard[: n - min(half, len(risky))]
    chosen += other[: n - len(chosen)]
    return chosen[:n]


def write_all_plots(
    preds: Sequence[ConversationPrediction], report: EvaluationReport, out_dir: str | Path
) -> dict[str, Path]:
    """Every evaluation plot into out_dir; returns name -> path (for MLflow log_artifact)."""
    out = Path(out_dir)
    labels, scores = labels_and_scores(preds)
    return {
        "roc": plot_roc(labels, scores, out / "roc.png"),
        "pr": plot_pr(labels, scores, out / "pr.png"),
        "calibration": plot_calibration(labels, scores, out / "calibration.png"),
        "confusion": plot_confusion(report.confusion, out / "confusion.png"),
        "latency": plot_latency_histogram(report.latencies, report.delays, out / "latency.png"),
        "risk_curves": plot_risk_curves(
            sample_for_curves(preds), report.operating_thresholds, out / "risk_curves.png"
        ),
        "thresholds": plot_threshold_tradeoff(
            report.thresholds, out / "thresholds.png", report.operating_thresholds
        ),
    }
