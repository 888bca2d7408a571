"""Hand-written phrase banks: one module per risk category, plus chatter, replies and hard negatives.

Banks are data, not code: every line is a template of the small grammar in `synth.template`.
Nothing here may contain sexual content; `data.blocklist` scans every bank in the test suite.
"""

from __future__ import annotations

from grooming_risk.data.synth.phrases import (
    age_probing,
    financial_demand,
    flattery_trust,
    gifts_offers,
    image_request,
    isolation,
    meeting_request,
    platform_migration,
    secrecy,
    threat_coercion,
)
from grooming_risk.data.synth.phrases.bank import CategoryBank

CATEGORY_BANKS: dict[str, CategoryBank] = {
    bank.category: bank
    for bank in (
        age_probing.BANK,
        flattery_trust.BANK,
        secrecy.BANK,
        isolation.BANK,
        gifts_offers.BANK,
        platform_migration.BANK,
        image_request.BANK,
        meeting_request.BANK,
        threat_coercion.BANK,
        financial_demand.BANK,
    )
}

__all__ = ["CATEGORY_BANKS", "CategoryBank"]


def all_templates() -> dict[str, tuple[str, ...]]:
    """Every template in every bank, keyed by where it lives (for scans and bank tests)."""
    from grooming_risk.data.synth.phrases import bank, chatter, hard_negatives, offender, victim

    out: dict[str, tuple[str, ...]] = {
        "common.openers": bank.COMMON_OPENERS,
        "common.tails": bank.COMMON_TAILS,
    }
    for name, category_bank in CATEGORY_BANKS.items():
        out[f"{name}.openers"] = category_bank.openers
        out[f"{name}.cores"] = category_bank.cores
        out[f"{name}.tails"] = category_bank.tails
    for topic in chatter.TOPICS:
        out[f"chatter.{topic.name}.questions"] = topic.questions
        out[f"chatter.{topic.name}.answers"] = topic.answers
        out[f"chatter.{topic.name}.statements"] = topic.statements
    for module in (chatter, offender, victim):
        for attr, value in vars(module).items():
            if (
                attr.isupper()
                and isinstance(value, tuple)
                and value
                and all(isinstance(v, str) for v in value)
            ):
                out[f"{module.__name__.rsplit('.', 1)[-1]}.{attr.lower()}"] = value
    for category, reactions in victim.REPLIES.items():
        for reaction, lines in reactions.items():
            out[f"victim.{category}.{reaction}"] = lines
    for scenario in hard_negatives.SCENARIOS:
        for i, step in enumerate(scenario.steps):
            out[f"hard_negative.{scenario.name}.{i}"] = step.lines
    return out
