"""`grooming-risk` console script.

Each subcommand lives in a module of its own and imports its heavy dependencies (torch, MLflow,
FastAPI) inside the command body, so `grooming-risk --help` stays fast and a scoring-only install
does not need training extras.
"""

from __future__ import annotations

import typer

from grooming_risk import __version__

app = typer.Typer(
    name="grooming-risk",
    help=(
        "Score chat conversations for grooming and sextortion risk.\n\n"
        "Typical flow: synth (or data import) -> data split -> train -> evaluate -> score / serve "
        "-> review. Run any command with --help for its options."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"grooming-risk {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
) -> None:
    """Score chat conversations for grooming and sextortion risk."""


def _register() -> None:
    # Imported here rather than at module top so that each command module stays independent.
    from grooming_risk.cli import data, encoders, export, review, score, senders, serve, train
    from grooming_risk.cli.synth import synth

    app.command("synth")(synth)
    app.add_typer(data.app, name="data", help="Inspect, import and split conversation datasets.")
    app.command("train")(train.train)
    app.command("evaluate")(train.evaluate)
    app.command("promote")(train.promote)
    app.command("bakeoff")(train.bakeoff)
    app.command("score")(score.score)
    app.command("senders")(senders.senders)
    app.command("serve")(serve.serve)
    app.add_typer(export.app, name="export", help="Export a model for on-device or fast CPU scoring.")
    app.add_typer(encoders.app, name="encoders", help="Prepare bundled encoders converted on first use (e5).")
    app.add_typer(review.app, name="review", help="Reviewer workspace: queue, decisions, audit, exports.")


_register()
