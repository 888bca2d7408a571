"""Pick the demo's sample conversations (used by `make demo`).

python -m grooming_risk.cli.demo_sample SPLIT.jsonl OUT.jsonl [N [RETURNING.jsonl]]

The first N conversations of SPLIT (default 25), plus every conversation of the first account that
sent the first warning sign in two or more risky conversations of RETURNING (default: SPLIT). The
generator brings offender accounts back with different children (`synth --repeat-offender-share`),
and the demo should show one: the `senders` ranking, the review app's sender page. (A test split
rarely holds one: the splitter keeps conversations that share a person together, largest groups
first, so they land in train.)
"""

from __future__ import annotations

import sys
from collections import defaultdict

from grooming_risk.contract.conversation import Conversation
from grooming_risk.io.readers import read_conversations
from grooming_risk.io.writers import write_records


def returning_offender(conversations: list[Conversation]) -> list[Conversation]:
    """The conversations of the first account that sent the first warning sign in two or more."""
    by_offender: defaultdict[str, list[Conversation]] = defaultdict(list)
    for c in conversations:
        if c.is_risky and c.first_risk_index is not None:
            by_offender[c.messages[c.first_risk_index].sender].append(c)
    return next((found for found in by_offender.values() if len(found) >= 2), [])


def pick(
    conversations: list[Conversation], n: int, returning: list[Conversation] | None = None
) -> list[Conversation]:
    chosen = conversations[:n]
    ids = {c.conversation_id for c in chosen}
    extra = returning_offender(conversations if returning is None else returning)
    return chosen + [c for c in extra if c.conversation_id not in ids]


def main() -> None:
    if len(sys.argv) not in (3, 4, 5):
        sys.exit("usage: python -m grooming_risk.cli.demo_sample SPLIT.jsonl OUT.jsonl [N [RETURNING.jsonl]]")
    n = int(sys.argv[3]) if len(sys.argv) >= 4 else 25
    returning = list(read_conversations(sys.argv[4])) if len(sys.argv) == 5 else None
    chosen = pick(list(read_conversations(sys.argv[1])), n, returning)
    write_records(sys.argv[2], chosen)
    print(f"{len(chosen)} sample conversations in {sys.argv[2]}")


if __name__ == "__main__":
    main()
