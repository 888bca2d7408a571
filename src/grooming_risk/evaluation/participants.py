"""Who is the risk: per-participant metrics on labelled sets.

* `top_sender_accuracy`: of the risky conversations whose first risk message is known, the share
  where the assessment's riskiest participant (`senders[0]`) sent that message.
* Author level (PAN 2012 problem 1, identify the predators among all authors): a sender is predicted
  an offender when their profile's combined risk across the set's conversations reaches the review
  threshold; an offender is whoever sent a risky conversation's first risk message. Precision,
  recall and F0.5 over senders (PAN weighs precision higher: a false accusation is costly).
"""

from __future__ import annotations

from collections.abc import Iterable

from grooming_risk.contract.assessment import Assessment
from grooming_risk.contract.conversation import Conversation
from grooming_risk.inference.sender_profiles import ProfileBook

NAN = float("nan")


def offenders(conversations: Iterable[Conversation]) -> set[str]:
    """Senders of the first risk message of each risky conversation."""
    return {
        c.messages[c.first_risk_index].sender
        for c in conversations
        if c.is_risky and c.first_risk_index is not None
    }


def participant_metrics(
    pairs: Iterable[tuple[Conversation, Assessment]], review_threshold: float
) -> dict[str, float]:
    hits = known = 0
    book = ProfileBook()
    truth: set[str] = set()
    authors: set[str] = set()
    for conversation, assessment in pairs:
        authors.update(conversation.senders())
        book.add(assessment)
        if conversation.is_risky and conversation.first_risk_index is not None:
            offender = conversation.messages[conversation.first_risk_index].sender
            truth.add(offender)
            known += 1
            hits += bool(assessment.senders) and assessment.senders[0].sender == offender
    predicted = {p.sender for p in book.ranked(min_combined_risk=review_threshold)}
    true_positive = len(predicted & truth)
    precision = true_positive / len(predicted) if predicted else NAN
    recall = true_positive / len(truth) if truth else NAN
    if predicted and truth and true_positive:
        f05 = 1.25 * precision * recall / (0.25 * precision + recall)
    else:
        f05 = 0.0 if predicted and truth else NAN
    return {
        "top_sender_accuracy": hits / known if known else NAN,
        "n_authors": float(len(authors)),
        "n_offenders": float(len(truth)),
        "authors_flagged": float(len(predicted)),
        "authors_flagged_share": len(predicted) / len(authors) if authors else NAN,
        "author_precision": precision,
        "author_recall": recall,
        "author_f05": f05,
    }
