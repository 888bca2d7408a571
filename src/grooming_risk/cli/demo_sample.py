"""Pick the demo's sample conversations (used by `make demo`).

python -m grooming_risk.cli.demo_sample SPLIT.jsonl OUT.jsonl [N]

The first N conversations (default 25), plus every conversation of the first account that sent the
first warning sign in two or more of the split's risky conversations: the generator brings a few
offender accounts back with different children, and the demo should show one (the `senders`
ranking, the review app's sender page).
"""

from __future__ import annotations

import sys
from collections import defaultdict

from grooming_risk.contract.conversation import Conversation
from grooming_risk.io.readers import read_conversations
from grooming_risk.io.writers import write_records


def pick(conversations: list[Conversation], n: int) -> list[Conversation]:
    by_offender: defaultdict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(conversations):
        if c.is_risky and c.first_risk_index is not None:
            by_offender[c.messages[c.first_risk_index].sender].append(i)
    repeat = next((idx for idx in by_offender.values() if len(idx) >= 2), [])
    chosen = sorted(set(range(min(n, len(conversations)))) | set(repeat))
    return [conversations[i] for i in chosen]


def main() -> None:
    if len(sys.argv) not in (3, 4):
        sys.exit("usage: python -m grooming_risk.cli.demo_sample SPLIT.jsonl OUT.jsonl [N]")
    n = int(sys.argv[3]) if len(sys.argv) == 4 else 25
    chosen = pick(list(read_conversations(sys.argv[1])), n)
    write_records(sys.argv[2], chosen)
    print(f"{len(chosen)} sample conversations in {sys.argv[2]}")


if __name__ == "__main__":
    main()
