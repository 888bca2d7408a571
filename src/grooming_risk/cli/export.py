"""`grooming-risk export ...`: turn a trained model into other runtimes' formats (ONNX)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

err = Console(stderr=True, soft_wrap=True)

app = typer.Typer(no_args_is_help=True)


@app.callback()
def export() -> None:
    """Export a trained model to other runtimes (ONNX)."""


@app.command("onnx")
def onnx(
    output: Path = typer.Option(..., "--output", "-o", help="Directory for the ONNX artifact (created)."),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help="Sequence model to export: artifact dir, runs:/RUN/model or models:/NAME@ALIAS. "
        "Default: $GROOMING_RISK_MODEL, else artifacts/models/default.",
    ),
    quantize: str = typer.Option(
        "int8",
        "--quantize",
        help="Encoder weights: 'int8' (dynamic int8, smallest and fastest, scores move most), "
        "'compact' (int8 embeddings + fp16 weights, fp32 maths: close to torch) or 'none' (fp32).",
    ),
    no_quantize: bool = typer.Option(False, "--no-quantize", help="Same as --quantize none."),
    check_data: Path | None = typer.Option(
        None,
        "--check-data",
        help="Also compare the export with the source model on the first 200 conversations of this "
        "file (.jsonl/.parquet) and print how many decisions change.",
    ),
) -> None:
    """Export a sequence model to ONNX: scores with onnxruntime + tokenizers, no torch needed.

    Load the result like any model (`grooming-risk score --model DIR`, `RiskScorer.load(DIR)`). The
    export is checked against the torch model and the differences are printed.
    """
    from grooming_risk.inference.onnx_export import export_onnx

    try:
        report = export_onnx(
            model, output, encoding="none" if no_quantize else quantize, check_data=check_data
        )
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        err.print(f"[red]error:[/] {exc}")
        raise typer.Exit(2) from None
    for key, value in report.rows():
        typer.echo(f"{key}: {value}")
