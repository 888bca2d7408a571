"""From an assessment to its recommended actions: a pure function of the rules and the assessment."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from grooming_risk.contract.assessment import Action, Assessment, Audience
from grooming_risk.contract.taxonomy import Label

if TYPE_CHECKING:  # schema imports this module; the records are only annotations here
    from grooming_risk.policy.schema import Condition, Rule

# Who acts first: the platform contains the risk, a reviewer decides, then the people affected.
AUDIENCES: tuple[Audience, ...] = ("platform", "reviewer", "child", "caregiver")


def matches(condition: Condition, assessment: Assessment, present: Iterable[str] | None = None) -> bool:
    """Whether one condition holds. `present` defaults to `assessment.categories_present`."""
    signs = set(assessment.categories_present if present is None else present)
    # Urgent is the higher threshold: an urgent assessment is treated as flagged even if a caller
    # built it with flagged=False, so the most serious cases never lose their actions.
    flagged = assessment.flagged or assessment.urgent
    if condition.flagged is not None and flagged != condition.flagged:
        return False
    if condition.urgent is not None and assessment.urgent != condition.urgent:
        return False
    if condition.labels is not None and Label(assessment.label) not in condition.labels:
        return False
    if condition.any_categories is not None and signs.isdisjoint(condition.any_categories):
        return False
    return condition.all_categories is None or signs.issuperset(condition.all_categories)


def recommend(rules: Sequence[Rule], assessment: Assessment) -> list[Action]:
    """The actions whose rule matches: by audience (platform, reviewer, child, caregiver), then rule order.

    A benign, unflagged assessment gets none whatever the rules say: nothing is shown to anyone
    about a conversation the model considers safe.
    """
    if assessment.label == Label.BENIGN and not (assessment.flagged or assessment.urgent):
        return []
    present = set(assessment.categories_present)
    by_audience: dict[str, list[Action]] = {audience: [] for audience in AUDIENCES}
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            continue
        if any(matches(condition, assessment, present) for condition in rule.when):
            seen.add(rule.id)
            by_audience[rule.audience].append(rule.to_action())
    return [action for audience in AUDIENCES for action in by_audience[audience]]
