"""Recommended actions and resources for an assessment, from a policy file (`configs/policy/`).

    policy = load_policy(country="GB", overrides=[Path("my-platform.yaml")])
    assessment.actions = policy.actions_for(assessment)

The shipped policy is a starting point: a platform replaces or extends it with its own file.
"""

from grooming_risk.policy.loader import (
    DEFAULT_POLICY,
    PolicyError,
    available_countries,
    country_file,
    load_policy,
    normalize_country,
    read_policy_file,
)
from grooming_risk.policy.recommend import AUDIENCES, matches, recommend
from grooming_risk.policy.schema import Condition, Policy, PolicyFile, Rule

__all__ = [
    "AUDIENCES",
    "DEFAULT_POLICY",
    "Condition",
    "Policy",
    "PolicyError",
    "PolicyFile",
    "Rule",
    "available_countries",
    "country_file",
    "load_policy",
    "matches",
    "normalize_country",
    "read_policy_file",
    "recommend",
]
