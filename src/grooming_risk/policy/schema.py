"""The records of a policy file (`configs/policy/`), and the resolved policy they merge into.

Every record forbids unknown keys, so a typo in a platform's override is an error naming the key
rather than a rule that silently never fires. Custom error types carry the "expected ..." wording
that `loader.py` puts on its one-line errors.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from grooming_risk.contract.assessment import Action, Assessment, Audience
from grooming_risk.contract.taxonomy import RISK_CATEGORIES, Label
from grooming_risk.policy.recommend import recommend

# Ids are what overrides replace and remove, and what integrators key translations on: keep them
# plain enough to type in YAML without quoting.
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]*$")


def _check_id(value: str) -> str:
    if not _ID_RE.fullmatch(value):
        raise PydanticCustomError(
            "policy_id", "expected lowercase letters, digits, '.', '_' or '-' (e.g. child.helpline)"
        )
    return value


def _check_category(value: str) -> str:
    if value not in RISK_CATEGORIES:
        raise PydanticCustomError(
            "policy_category",
            "expected a warning sign, one of {choices} (got {value})",
            {"choices": ", ".join(RISK_CATEGORIES), "value": repr(value)},
        )
    return value


# Checked one by one so that an error names the list position.
Category = Annotated[str, AfterValidator(_check_category)]


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Record):
    """When a rule applies. Every key narrows it; a key left out matches anything.

    An urgent assessment counts as flagged, so `urgent: true` never needs `flagged: true` too.
    """

    labels: list[Label] | None = Field(default=None, description="Conversation labels it applies to.")
    flagged: bool | None = Field(
        default=True,
        description="true (the default): flagged assessments only; false: unflagged only; null: either.",
    )
    urgent: bool | None = Field(
        default=None, description="true: urgent only; false: not urgent; absent: either."
    )
    any_categories: list[Category] | None = Field(
        default=None, description="At least one of these warning signs is present."
    )
    all_categories: list[Category] | None = Field(
        default=None, description="All of these warning signs are present."
    )

    @field_validator("labels")
    @classmethod
    def _labels_not_empty(cls, value: list[Label] | None) -> list[Label] | None:
        if value is not None and not value:
            raise PydanticCustomError(
                "policy_empty", "expected at least one label (leave the key out for any)"
            )
        return value

    @field_validator("any_categories", "all_categories")
    @classmethod
    def _some_categories(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise PydanticCustomError(
                "policy_empty", "expected at least one warning sign (leave the key out for any)"
            )
        return value


class Rule(_Record):
    """One recommended action or resource, and when to recommend it."""

    id: str = Field(description="Stable id: what overrides replace or remove, and what `Action.id` carries.")
    audience: Audience
    title: str = Field(min_length=1, max_length=160, description="Short, in English; platforms translate.")
    url: str | None = Field(default=None, description="https only; a stable top-level page when possible.")
    # Declared after `url` and validated even when absent, so its validator can see the url.
    source: str | None = Field(
        default=None,
        validate_default=True,
        description="Who runs the organisation and where that is stated. Required when `url` is set.",
    )
    when: list[Condition] = Field(
        default_factory=lambda: [Condition()],
        description="One condition, or a list of them of which any may match. Absent: any flagged assessment.",
    )

    @field_validator("id")
    @classmethod
    def _id_format(cls, value: str) -> str:
        return _check_id(value)

    @field_validator("title")
    @classmethod
    def _one_line_title(cls, value: str) -> str:
        if "\n" in value or value != value.strip():
            raise PydanticCustomError("policy_title", "expected one line without leading or trailing spaces")
        return value

    @field_validator("url")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.netloc or any(c.isspace() for c in value):
            raise PydanticCustomError(
                "policy_url", "expected an https:// URL (got {value})", {"value": repr(value)}
            )
        return value

    @field_validator("source")
    @classmethod
    def _source_for_url(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and not value.strip():
            value = None
        # A url that failed its own check is absent from `info.data`; that error is reported instead.
        if value is None and info.data.get("url") is not None:
            raise PydanticCustomError(
                "policy_source",
                "required for an entry with a url: who runs the organisation and where that is stated",
            )
        return value

    @field_validator("when", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        # A single mapping is the common case; a list means "any of these".
        if isinstance(value, dict):
            return [value]
        if isinstance(value, list) and not value:
            raise PydanticCustomError("policy_empty", "expected a condition or a non-empty list of them")
        return value

    def to_action(self) -> Action:
        """The contract's record: `source` and `when` stay in the policy."""
        return Action(id=self.id, audience=self.audience, title=self.title, url=self.url)


class PolicyFile(_Record):
    """One YAML file: the base policy, a country file or a platform override."""

    version: Literal[1] = 1
    country: str | None = Field(
        default=None,
        description="Only in `countries/<cc>.yaml`: the ISO 3166-1 alpha-2 code it is named for.",
    )
    rules: list[Rule] = Field(
        default_factory=list,
        description="New ids are added after the existing rules; a known id is replaced.",
    )
    remove: list[str] = Field(default_factory=list, description="Ids to drop from the policy so far.")

    @field_validator("remove")
    @classmethod
    def _remove_ids(cls, value: list[str]) -> list[str]:
        for item in value:
            _check_id(item)
        return value


class Policy(_Record):
    """The merged policy: base, then country, then platform overrides."""

    rules: tuple[Rule, ...]
    country: str | None = Field(default=None, description="The country asked for (upper case), if any.")
    files: tuple[str, ...] = Field(default=(), description="The files merged, in order, for audit logs.")

    def actions_for(self, assessment: Assessment) -> list[Action]:
        """Actions for one assessment: platform, reviewer, child, caregiver; file order within each."""
        return recommend(self.rules, assessment)

    def apply(self, assessment: Assessment) -> Assessment:
        """A copy of the assessment carrying its recommended actions."""
        return assessment.model_copy(update={"actions": self.actions_for(assessment)})

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)
