"""`grooming-risk data ...`: dataset statistics, importers and splits."""

from __future__ import annotations

import typer

from grooming_risk.cli.data_import import import_app
from grooming_risk.cli.data_split import split
from grooming_risk.cli.data_stats import stats

app = typer.Typer(no_args_is_help=True)
app.add_typer(import_app, name="import", help="Import licensed corpora (PAN 2012) or CSV/JSONL exports.")
app.command("split")(split)
app.command("stats")(stats)
