"""Which warning signs an assessment reports, and which of them lead."""

from __future__ import annotations

from collections import defaultdict

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.taxonomy import RISK_CATEGORIES, taxonomy_order

_ORDER = {c: i for i, c in enumerate(RISK_CATEGORIES)}


def predicted_categories(assessment: Assessment) -> list[str]:
    """Warning signs an assessment reports: those the scorer decided present, and any named on an
    evidence message."""
    found = set(assessment.categories_present)
    for item in assessment.evidence:
        found.update(item.categories)
    return taxonomy_order(found)


def leading_categories(assessment: Assessment, n: int = 3) -> list[str]:
    """The `n` strongest reported signs: by the evidence score behind them, then by probability.

    A queue of threads that all score near 1.0 is told apart by what drove each one.
    """
    weight: dict[str, float] = defaultdict(float)
    for item in assessment.evidence:
        for name in item.categories:
            weight[name] += item.score
    reported = predicted_categories(assessment)
    ranked = sorted(
        reported, key=lambda c: (-weight.get(c, 0.0), -assessment.categories.get(c, 0.0), _ORDER.get(c, 99))
    )
    return ranked[:n]
