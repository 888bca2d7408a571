"""ECE, Brier, temperature scaling and threshold choice against hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from grooming_risk.evaluation.calibration import (
    FALLBACK_THRESHOLDS,
    brier_score,
    calibration_bins,
    choose_thresholds,
    expected_calibration_error,
    fit_platt,
    fit_temperature,
    set_balanced_weights,
    threshold_table,
)

LABELS = [0, 1, 1, 1, 0]
SCORES = [0.05, 0.05, 0.95, 0.95, 0.5]


def test_ece_hand_computed() -> None:
    # 15 bins of width 1/15: 0.05 -> bin 0, 0.5 -> bin 7 [0.4667, 0.5333), 0.95 -> bin 14
    # bin 0: conf 0.05, share risky 0.5 -> |0.45| * 2/5 = 0.18
    # bin 7: conf 0.50, share risky 0.0 -> |0.50| * 1/5 = 0.10
    # bin 14: conf 0.95, share risky 1.0 -> |0.05| * 2/5 = 0.02      ECE = 0.30
    assert expected_calibration_error(LABELS, SCORES) == pytest.approx(0.30)
    counts = [b.count for b in calibration_bins(LABELS, SCORES)]
    assert counts[0] == 2
    assert counts[7] == 1
    assert counts[14] == 2
    assert sum(counts) == 5


def test_bins_cover_both_ends() -> None:
    bins = calibration_bins([0, 1], [0.0, 1.0])
    assert bins[0].count == 1
    assert bins[-1].count == 1  # 1.0 falls in the last bin, not past it
    # bins are left-closed: a score on the edge 2/15 belongs to bin 2 = [2/15, 3/15)
    edge = float(np.linspace(0.0, 1.0, 16)[2])
    assert [b.count for b in calibration_bins([1], [edge])][1:3] == [0, 1]
    assert math.isnan(expected_calibration_error([], []))


def test_brier_hand_computed() -> None:
    # (0.05-0)^2 + (0.05-1)^2 + (0.95-1)^2 * 2 + (0.5-0)^2 = 0.0025 + 0.9025 + 0.005 + 0.25 = 1.16; / 5 = 0.232
    assert brier_score(LABELS, SCORES) == pytest.approx(0.232)


def test_fit_temperature_hand_computed() -> None:
    # Every logit is 2.0 and 3 of 4 labels are 1: the NLL is minimal when sigmoid(2/T) = 3/4,
    # i.e. 2/T = ln 3, T = 2 / ln 3 = 1.820478
    assert fit_temperature([2.0, 2.0, 2.0, 2.0], [1, 1, 1, 0]) == pytest.approx(2 / math.log(3), rel=1e-4)


def test_fit_temperature_recovers_overconfidence() -> None:
    # Labels drawn from sigmoid(z), logits reported as 3z: the right temperature is about 3.
    rng = np.random.default_rng(7)
    z = rng.normal(0.0, 2.0, size=20_000)
    labels = (rng.random(z.size) < 1 / (1 + np.exp(-z))).astype(int)
    assert fit_temperature(3 * z, labels) == pytest.approx(3.0, rel=0.08)


def test_fit_temperature_separable_runs_to_the_bound() -> None:
    # Perfectly separated: sharper is always better, so the lower bound 0.05 is returned.
    assert fit_temperature([2.0, -2.0], [1, 0]) == pytest.approx(0.05, rel=1e-3)
    with pytest.raises(ValueError, match="at least one"):
        fit_temperature([], [])


def test_fit_platt_recovers_a_shifted_scale() -> None:
    # Labels drawn from sigmoid(z - 2), logits reported as 3z: T about 3 and a bias about -2, which a
    # temperature alone cannot express (its best fit leaves the benign mass near risk 0.5).
    rng = np.random.default_rng(11)
    z = rng.normal(0.0, 2.0, size=20_000)
    labels = (rng.random(z.size) < 1 / (1 + np.exp(-(z - 2.0)))).astype(int)
    temperature, bias = fit_platt(3 * z, labels)
    assert temperature == pytest.approx(3.0, rel=0.08)
    assert bias == pytest.approx(-2.0, abs=0.15)
    platt = 1 / (1 + np.exp(-(3 * z / temperature + bias)))
    t_only = 1 / (1 + np.exp(-(3 * z / fit_temperature(3 * z, labels))))
    assert expected_calibration_error(labels, platt) < 0.02 < expected_calibration_error(labels, t_only)


def test_fit_platt_hand_computed_and_degenerate() -> None:
    # Logits 1 and -1 with label rates 3/4 and 1/4: sigmoid(1/T + b) = 3/4, sigmoid(-1/T + b) = 1/4,
    # so b = 0 and T = 1 / ln 3.
    temperature, bias = fit_platt([1.0] * 4 + [-1.0] * 4, [1, 1, 1, 0, 1, 0, 0, 0])
    assert temperature == pytest.approx(1 / math.log(3), rel=1e-3)
    assert bias == pytest.approx(0.0, abs=1e-3)
    with pytest.raises(ValueError, match="at least one"):
        fit_platt([], [])


# positives at 0.2, 0.4, 0.6, 0.7, 0.8, 0.9 (6); negatives at 0.1, 0.3, 0.5 (3)
T_SCORES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]
T_LABELS = [0, 1, 0, 1, 0, 1, 1, 1, 1]


def test_choose_thresholds_hand_computed() -> None:
    # recall at t: 0.9 1/6, 0.8 2/6, 0.7 3/6, 0.6 4/6, 0.5 4/6, 0.4 5/6 = 0.833 -> review (target 0.8) = 0.4
    # precision at t >= 0.4: 0.4 5/6, 0.5 4/5, 0.6 4/4 -> urgent (target 0.95) = 0.6
    chosen = choose_thresholds(T_LABELS, T_SCORES, review_recall=0.8, urgent_precision=0.95)
    assert chosen == {"review": pytest.approx(0.4), "urgent": pytest.approx(0.6)}
    # recall 0.95 needs all 6 positives -> the lowest positive, 0.2
    assert choose_thresholds(T_LABELS, T_SCORES)["review"] == pytest.approx(0.2)


def test_urgent_is_never_below_review() -> None:
    # review_recall 0.5 -> highest t with recall >= 3/6 is 0.7; precision 0.5 is reached at 0.2 already,
    # but urgent may not go below review -> 0.7
    chosen = choose_thresholds(T_LABELS, T_SCORES, review_recall=0.5, urgent_precision=0.5)
    assert chosen == {"review": pytest.approx(0.7), "urgent": pytest.approx(0.7)}


def test_urgent_falls_back_to_best_precision() -> None:
    # review (recall 1) = 0.2; precision at 0.2 = 2/3, at 0.5 = 1/2, at 0.9 = 0: none reaches 0.95,
    # so urgent takes the best precision at or above review: 0.2
    chosen = choose_thresholds([1, 0, 1], [0.2, 0.9, 0.5])
    assert chosen == {"review": pytest.approx(0.2), "urgent": pytest.approx(0.2)}


def test_review_recall_tolerates_float_rounding() -> None:
    # 20 positives at 0.01 .. 0.20: recall 0.95 = 19/20 is reached at the 19th highest score, 0.02
    scores = [i / 100 for i in range(1, 21)]
    assert choose_thresholds([1] * 20, scores)["review"] == pytest.approx(0.02)


def test_choose_thresholds_without_positives_falls_back() -> None:
    assert choose_thresholds([0, 0], [0.3, 0.4]) == FALLBACK_THRESHOLDS
    with pytest.raises(ValueError, match="review_recall"):
        choose_thresholds([0, 1], [0.3, 0.4], review_recall=1.5)


def test_threshold_table_hand_computed() -> None:
    labels, scores, hard = [0, 0, 1, 1], [0.2, 0.6, 0.55, 0.9], [True, True, False, False]
    rows = threshold_table(labels, scores, hard, thresholds=[0.5, 0.7, 0.95])
    # 0.5 flags 0.6(-), 0.55(+), 0.9(+): P 2/3, R 1, FPR 1/2, hard-negative FPR 1/2, flagged 3/4
    assert rows[0] == pytest.approx(
        {
            "threshold": 0.5,
            "precision": 2 / 3,
            "recall": 1.0,
            "fpr": 0.5,
            "hard_negative_fpr": 0.5,
            "flagged_share": 0.75,
        }
    )
    # 0.7 flags 0.9 only: P 1, R 1/2, FPR 0
    assert rows[1]["precision"] == pytest.approx(1.0)
    assert rows[1]["recall"] == pytest.approx(0.5)
    assert rows[1]["hard_negative_fpr"] == 0.0
    # 0.95 flags nothing: precision undefined
    assert math.isnan(rows[2]["precision"])
    assert rows[2]["flagged_share"] == 0.0


def test_cap_flagged_share_keeps_the_false_alarm_budget_on_the_scorers_grid() -> None:
    from grooming_risk.evaluation.calibration import cap_flagged_share

    benign = np.array([0.1, 0.2, 0.3, 0.95, 0.9999994])
    # A zero budget: one grid step above the highest benign risk as the scorer rounds it.
    assert cap_flagged_share(0.5, benign, 0.0) == 1.0
    # 20% of five may be flagged: only the top one; the next (0.95) must stay below.
    capped = cap_flagged_share(0.5, benign, 0.2)
    assert capped == pytest.approx(0.950001)
    assert np.mean(np.round(benign, 6) >= capped) <= 0.2
    # A threshold already above the budget's is kept; an unlimited budget changes nothing.
    assert cap_flagged_share(0.99, benign, 0.4) == 0.99
    assert cap_flagged_share(0.5, benign, 1.0) == 0.5
    assert cap_flagged_share(0.5, np.array([]), 0.0) == 0.5
    with pytest.raises(ValueError, match="max_share"):
        cap_flagged_share(0.5, benign, 1.5)


def test_a_budget_held_with_confidence_allows_fewer_flags_than_the_point_budget() -> None:
    from scipy.stats import binom

    from grooming_risk.evaluation.calibration import budget_allowance

    # The point budget: 0.5% of 3,559 real validation chats is 17 chats.
    assert budget_allowance(3559, 0.005) == 17
    # With 95% confidence, k is the largest count whose upper bound stays within the budget, i.e.
    # P(X <= k | n, budget) <= 5% (the binomial form of the Clopper-Pearson bound): checked here
    # independently of the beta quantile the code uses.
    for n, share in [(3559, 0.005), (3559, 0.01), (10_000, 0.002), (500, 0.05)]:
        k = budget_allowance(n, share, 0.95)
        assert k < budget_allowance(n, share)
        assert binom.cdf(k, n, share) <= 0.05 < binom.cdf(k + 1, n, share)
    # 0.1% of 3,559 chats: even zero flagged chats bound the share at 0.084%, so none may be flagged;
    # of 2,000 chats zero cannot promise 0.1% (bound 0.15%): still none.
    assert budget_allowance(3559, 0.001, 0.95) == 0
    assert budget_allowance(2000, 0.001, 0.95) == 0
    assert budget_allowance(0, 0.5, 0.95) == 0
    with pytest.raises(ValueError, match="confidence"):
        budget_allowance(100, 0.1, 1.0)


def test_cap_flagged_share_with_confidence_moves_the_threshold_above_more_benign_chats() -> None:
    from grooming_risk.evaluation.calibration import budget_allowance, cap_flagged_share

    rng = np.random.default_rng(0)
    benign = rng.uniform(0, 1, 4000)
    point = cap_flagged_share(0.5, benign, 0.005)
    held = cap_flagged_share(0.5, benign, 0.005, confidence=0.95)
    assert held > point
    flagged = int(np.sum(np.round(benign, 6) >= held))
    assert flagged == budget_allowance(4000, 0.005, 0.95)


def test_set_balanced_weights_give_every_set_the_same_total() -> None:
    w = set_balanced_weights([6, 0, 2])
    assert w.shape == (8,)
    # 8 rows, two non-empty sets: each set's weights add up to 4, so the mean weight stays 1.
    assert w[:6].sum() == pytest.approx(4.0)
    assert w[6:].sum() == pytest.approx(4.0)
    with pytest.raises(ValueError, match="non-empty"):
        set_balanced_weights([0, 0])


def test_weighted_fit_equals_the_fit_on_repeated_rows() -> None:
    # Weight 3 on a row is the same likelihood as that row three times.
    rng = np.random.default_rng(5)
    z = rng.normal(0.0, 2.0, size=200)
    y = (rng.random(z.size) < 1 / (1 + np.exp(-(z - 1.0)))).astype(int)
    w = np.where(np.arange(z.size) < 50, 3.0, 1.0)
    repeated_z = np.concatenate([z[:50], z[:50], z])
    repeated_y = np.concatenate([y[:50], y[:50], y])
    t_w, b_w = fit_platt(z, y, w)
    t_r, b_r = fit_platt(repeated_z, repeated_y)
    assert t_w == pytest.approx(t_r, rel=1e-3)
    assert b_w == pytest.approx(b_r, abs=1e-3)
    assert fit_temperature(z, y, w) == pytest.approx(fit_temperature(repeated_z, repeated_y), rel=1e-4)
    # And weights change the answer: the unweighted fit differs.
    assert fit_platt(z, y)[1] != pytest.approx(b_w, abs=1e-3)
    with pytest.raises(ValueError, match="weights"):
        fit_platt(z, y, np.ones(3))


def test_balanced_calibration_weighs_the_small_set_up() -> None:
    from pathlib import Path

    from grooming_risk.training.config import load_config
    from grooming_risk.training.pipeline import calibrate

    root = Path(__file__).resolve().parents[2]
    pooled = load_config(root / "configs" / "default.yaml", ["thresholds.max_real_review_share=null"])
    balanced = load_config(
        root / "configs" / "default.yaml",
        ["calibration.balance=true", "thresholds.max_real_review_share=null"],
    )
    rng = np.random.default_rng(3)
    # A large set whose logits are calibrated as they are, and a small one whose chats are riskier
    # than their logits say (by 2 on the logit scale): weighed alike, the small set moves the map up.
    big_z, small_z = rng.normal(0.0, 2.0, 5000), rng.normal(0.0, 2.0, 250)
    big_y = (rng.random(big_z.size) < 1 / (1 + np.exp(-big_z))).astype(int)
    small_y = (rng.random(small_z.size) < 1 / (1 + np.exp(-(small_z + 2.0)))).astype(int)
    z, y = np.concatenate([big_z, small_z]), np.concatenate([big_y, small_y])

    def risk_at(calibration: object, logit: float) -> float:
        return float(1 / (1 + np.exp(-(logit / calibration.temperature + calibration.bias))))  # type: ignore[attr-defined]

    c_pooled, _ = calibrate(pooled, z, y, set_sizes=[5000, 250])
    c_balanced, _ = calibrate(balanced, z, y, set_sizes=[5000, 250])
    # Pooled, the map stays near the big set's identity (risk 0.5 at logit 0); balanced, it sits
    # between the two sets (about sigmoid(1) = 0.73).
    assert risk_at(c_pooled, 0.0) < 0.6
    assert risk_at(c_balanced, 0.0) > 0.65
    with pytest.raises(ValueError, match=r"calibration\.balance"):
        calibrate(balanced, z, y, set_sizes=[5000])
