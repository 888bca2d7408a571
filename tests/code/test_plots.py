"""Evaluation plots: valid PNG files, labelled by id only, no matplotlib work at import time."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grooming_risk.contract.taxonomy import RISK_CATEGORIES
from grooming_risk.evaluation import plots
from grooming_risk.evaluation.predictions import ConversationPrediction
from grooming_risk.evaluation.report import evaluate_predictions

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _preds() -> list[ConversationPrediction]:
    def make(
        cid: str, label: str, risks: list[float], first: int | None, hard: bool = False
    ) -> ConversationPrediction:
        return ConversationPrediction(
            conversation_id=cid,
            label=label,
            hard_negative=hard,
            first_risk_index=first,
            risk_by_message=risks,
            nonempty=[True] * len(risks),
            predicted_label=label,
            true_categories=frozenset({"secrecy"}) if label != "benign" else frozenset(),
            category_probs=dict.fromkeys(RISK_CATEGORIES, 0.0) | {"secrecy": risks[-1]},
        )

    return [
        make("conv-g1", "grooming", [0.1, 0.2, 0.7, 0.9], first=2),
        make("conv-s1", "sextortion", [0.3, 0.8, 0.95], first=1),
        make("conv-b1", "benign", [0.1, 0.6, 0.3], first=None, hard=True),
        make("conv-b2", "benign", [0.05, 0.1], first=None),
    ]


def _assert_png(path: Path) -> None:
    from matplotlib.image import imread

    assert path.is_file()
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = imread(path)
    assert image.shape[0] > 100
    assert image.shape[1] > 100


def test_write_all_plots_writes_valid_pngs(tmp_path: Path) -> None:
    preds = _preds()
    report = evaluate_predictions(preds, {"review": 0.5, "urgent": 0.9})
    written = plots.write_all_plots(preds, report, tmp_path / "plots")
    assert set(written) == {"roc", "pr", "calibration", "confusion", "latency", "risk_curves", "thresholds"}
    for path in written.values():
        assert path.parent == tmp_path / "plots"
        _assert_png(path)


def test_degenerate_inputs_still_plot(tmp_path: Path) -> None:
    _assert_png(plots.plot_roc([0, 0], [0.2, 0.4], tmp_path / "roc.png"))
    _assert_png(plots.plot_pr([1, 1], [0.2, 0.4], tmp_path / "pr.png"))
    _assert_png(plots.plot_latency_histogram([], [], tmp_path / "latency.png"))
    _assert_png(plots.plot_calibration([], [], tmp_path / "calibration.png"))


def test_prediction_record_carries_no_text() -> None:
    # The plots only ever see ConversationPrediction: if a text field is ever added here, this fails
    # and the privacy of every plot (and metric) must be reviewed.
    names = {f.name for f in dataclasses.fields(ConversationPrediction)}
    assert names == {
        "conversation_id",
        "label",
        "hard_negative",
        "first_risk_index",
        "risk_by_message",
        "nonempty",
        "predicted_label",
        "true_categories",
        "category_probs",
        "predicted_categories",  # category names from the taxonomy, no text
    }


def test_risk_curves_are_labelled_by_id_only() -> None:
    from matplotlib.legend import Legend

    preds = _preds()
    fig = plots._risk_curves_figure(preds, {"review": 0.5, "urgent": 0.9})
    fig.canvas.draw()
    (legend,) = fig.findobj(Legend)
    entries = {t.get_text() for t in legend.get_texts()}
    assert entries == {"review threshold", "urgent threshold", "conv-g1", "conv-s1", "conv-b1", "conv-b2"}


def test_risk_curves_mark_alert_and_first_risk() -> None:
    fig = plots._risk_curves_figure(_preds()[:1], {"review": 0.5, "urgent": 0.9})
    (ax,) = fig.axes
    markers = {
        (
            line.get_marker(),
            tuple(np.asarray(line.get_xdata()).tolist()),
            tuple(np.asarray(line.get_ydata()).tolist()),
        )
        for line in ax.get_lines()
    }
    # conv-g1 first reaches 0.5 at message 2 (risk 0.7), which is also its first risk message
    assert ("^", (2,), (0.7,)) in markers
    assert ("x", (2,), (0.7,)) in markers


@pytest.mark.parametrize("module", ["grooming_risk.evaluation.plots", "grooming_risk.evaluation.report"])
def test_import_does_not_load_matplotlib_or_sklearn(module: str) -> None:
    code = f"import sys, {module}; print(sorted(m for m in ('matplotlib', 'sklearn') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
