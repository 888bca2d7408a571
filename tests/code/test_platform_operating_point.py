"""The platform's operating point: recall where 1% of the real-chat validation slice is flagged."""

from __future__ import annotations

import numpy as np
import pytest

from grooming_risk.training.evaluate import platform_threshold


def test_at_most_one_percent_of_real_chats_score_above_the_threshold() -> None:
    real = np.linspace(0.0, 1.0, 1000)
    threshold = platform_threshold(real)
    assert (real > threshold).mean() <= 0.01
    assert (real >= threshold).mean() > 0.01  # and it is the lowest such threshold


def test_ties_at_the_top_are_not_split() -> None:
    real = np.array([0.9] * 50 + [0.1] * 950)  # 5% tie at 0.9
    threshold = platform_threshold(real)
    assert threshold == pytest.approx(0.9)
    assert (real > threshold).mean() == 0.0


def test_fewer_than_a_hundred_chats_flag_none() -> None:
    assert platform_threshold(np.array([0.2, 0.5, 0.7])) == pytest.approx(0.7)
