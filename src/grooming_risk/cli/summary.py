"""Print a short table of assessments (used by `make demo`; ids and scores only, never text).

python -m grooming_risk.cli.summary ASSESSMENTS.jsonl
"""

from __future__ import annotations

import sys

from rich.console import Console
from rich.table import Table

from grooming_risk.contract.assessment import Assessment
from grooming_risk.io.readers import iter_raw_records


def summarise(path: str, limit: int = 25) -> Table:
    table = Table(title=f"assessments in {path}")
    for col in (
        "conversation",
        "risk",
        "label",
        "flagged",
        "urgent",
        "first alert",
        "suspected sender",
        "top evidence",
        "actions",
    ):
        table.add_column(col)
    for i, (_, obj) in enumerate(iter_raw_records(path)):
        if i >= limit or not isinstance(obj, dict):
            break
        a = Assessment.model_validate(obj)
        top = ", ".join(f"#{e.index} {'/'.join(e.categories) or '-'}" for e in a.evidence[:2])
        table.add_row(
            a.conversation_id,
            f"{a.risk:.3f}",
            a.label.value,
            "yes" if a.flagged else "",
            "yes" if a.urgent else "",
            "" if a.first_alert_index is None else str(a.first_alert_index),
            a.suspected_sender or "",
            top,
            "" if a.actions is None else str(len(a.actions)),
        )
    return table


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: python -m grooming_risk.cli.summary ASSESSMENTS.jsonl")
    # Piped into a log (make demo | tee), rich would assume 80 columns and wrap every id.
    Console(width=None if sys.stdout.isatty() else 160).print(summarise(sys.argv[1]))


if __name__ == "__main__":
    main()
