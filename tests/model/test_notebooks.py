"""The notebooks run end to end on tiny data, show what they promise, and never show conversation text.

Each notebook is executed in a fresh kernel, which inherits this process's environment: the GR_NB_*
parameters and MLFLOW_TRACKING_URI are set with monkeypatch before execution.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from grooming_risk.contract.conversation import Conversation
from grooming_risk.data.cards import DatasetCard, write_card
from grooming_risk.io.writers import write_records
from grooming_risk.training.config import load_config
from tests.conftest import toy_conversations

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
CONFIGS = ROOT / "configs"
KERNEL = "python3"


@pytest.fixture
def python3_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The `python3` kernel; where none is installed (a fresh venv), a spec for this interpreter in tmp."""
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL not in KernelSpecManager().find_kernel_specs():
        from ipykernel.kernelspec import write_kernel_spec

        jupyter = tmp_path / "jupyter"
        write_kernel_spec(str(jupyter / "kernels" / KERNEL))
        monkeypatch.setenv("JUPYTER_PATH", str(jupyter))
    return KERNEL


def _execute(name: str, workdir: Path) -> Any:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    # Raises CellExecutionError, naming the cell, on the first cell that fails.
    NotebookClient(
        nb, timeout=300, kernel_name=KERNEL, resources={"metadata": {"path": str(workdir)}}
    ).execute()
    return nb


def _text(outputs: list[Any]) -> str:
    parts = []
    for out in outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type == "error":
            parts.append("\n".join(out.traceback))
        else:
            data = out.get("data", {})
            parts += [str(data[k]) for k in ("text/plain", "text/html", "text/markdown") if k in data]
    return "\n".join(parts)


def _all_text(nb: Any) -> str:
    return "\n".join(_text(c.outputs) for c in nb.cells if c.cell_type == "code")


def _tagged(nb: Any, tag: str) -> str:
    cells = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    assert len(cells) == 1, f"expected one cell tagged {tag!r}, found {len(cells)}"
    return _text(cells[0].outputs)


def _images(nb: Any) -> int:
    return sum(
        "image/png" in out.get("data", {}) for c in nb.cells if c.cell_type == "code" for out in c.outputs
    )


def _check_clean(nb: Any) -> None:
    """No errors, and no conversation text in any output (ids, counts and categories only)."""
    errors = [
        out for c in nb.cells if c.cell_type == "code" for out in c.outputs if out.output_type == "error"
    ]
    assert not errors, errors
    shown = _all_text(nb)
    texts = {m.text for c in toy_conversations(1) for m in c.messages if len(m.text) > 10}
    leaked = sorted(t for t in texts if t in shown)
    assert len(leaked) == 0, "conversation text in notebook outputs"


def _renamed(convs: list[Conversation], prefix: str) -> list[Conversation]:
    return [c.model_copy(update={"conversation_id": f"{prefix}-{c.conversation_id}"}) for c in convs]


def test_notebooks_are_saved_without_outputs() -> None:
    """Outputs could hold data from whoever ran the notebook last, and they make diffs unreadable."""
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    assert {p.name for p in paths} >= {"data_overview.ipynb", "error_analysis.ipynb"}
    for path in paths:
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"], f"{path.name}: clear the outputs before saving"
                assert cell["execution_count"] is None, f"{path.name}: clear the outputs before saving"


@pytest.mark.slow
def test_data_overview_notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, python3_kernel: str) -> None:
    data = tmp_path / "data.jsonl"
    write_records(data, toy_conversations(4))
    write_card(data, DatasetCard(name="toy-notebook-card", source="synthetic", seed=7))
    compare = tmp_path / "compare.jsonl"
    write_records(compare, _renamed(toy_conversations(2), "cmp"))
    monkeypatch.setenv("GR_NB_DATA", str(data))
    monkeypatch.setenv("GR_NB_COMPARE", str(compare))

    nb = _execute("data_overview.ipynb", tmp_path)

    _check_clean(nb)
    shown = _all_text(nb)
    assert f"20 conversations, {sum(len(c.messages) for c in toy_conversations(4))} messages" in shown
    assert "toy-notebook-card" in shown  # the dataset card
    assert "compare.jsonl" in shown  # the comparison table
    assert "platform_migration" in shown  # per-category counts
    assert "toy-0-3" in shown  # the longest conversation, by id
    assert _images(nb) >= 4


@pytest.mark.slow
def test_error_analysis_notebook(
    tiny_encoder_dir: Path,
    mlflow_tracking: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    python3_kernel: str,
) -> None:
    import mlflow

    from grooming_risk.training.pipeline import train

    convs = toy_conversations(8)
    paths = {}
    for name, part in (("train", convs[:25]), ("val", convs[25:35]), ("test", convs[35:])):
        paths[name] = tmp_path / f"{name}.jsonl"
        write_records(paths[name], _renamed(part, name))
    handwritten = tmp_path / "handwritten.jsonl"
    write_records(handwritten, _renamed(toy_conversations(2), "hw"))
    cfg = load_config(
        CONFIGS / "tiny.yaml",
        [
            f"encoder.name={tiny_encoder_dir}",
            f"data.train={paths['train']}",
            f"data.val={paths['val']}",
            f"data.test={paths['test']}",
            f"data.handwritten={handwritten}",
            f"output_dir={tmp_path / 'model'}",
            f"cache_dir={tmp_path / 'cache'}",
            # The notebook's default: the latest train run of this experiment.
            "mlflow.experiment=grooming-risk",
            "mlflow.log_model=false",
            "mlflow.register_model=false",
        ],
    )
    train(cfg)
    run = mlflow.search_runs(experiment_names=["grooming-risk"], output_format="list")[0]
    local = mlflow.artifacts.download_artifacts(
        run_id=run.info.run_id, artifact_path="eval/handwritten/predictions.jsonl", dst_path=str(tmp_path)
    )
    rows = [json.loads(line) for line in Path(local).read_text().splitlines()]
    # max/min keep the first of ties, as pandas' nlargest/nsmallest(keep="first") do.
    benign = [r for r in rows if r["label"] == "benign"]
    risky = [r for r in rows if r["label"] != "benign"]
    worst_fp = max(benign, key=lambda r: r["risk"])["conversation_id"]
    worst_fn = min(risky, key=lambda r: r["risk"])["conversation_id"]

    monkeypatch.delenv("GR_NB_RUN_ID", raising=False)
    monkeypatch.delenv("GR_NB_SET", raising=False)
    monkeypatch.setenv("GR_NB_TOP", "1")
    nb = _execute("error_analysis.ipynb", tmp_path)

    _check_clean(nb)
    shown = _all_text(nb)
    assert run.info.run_id in shown
    review = float(run.data.params["thresholds.review_value"])
    assert f"review threshold {review:.4f}" in shown
    fp_table, fn_table = _tagged(nb, "false-positives"), _tagged(nb, "false-negatives")
    assert worst_fp in fp_table
    assert not [
        r["conversation_id"]
        for r in benign
        if r["conversation_id"] != worst_fp and r["conversation_id"] in fp_table
    ]
    assert worst_fn in fn_table
    assert not [
        r["conversation_id"]
        for r in risky
        if r["conversation_id"] != worst_fn and r["conversation_id"] in fn_table
    ]
    # The trade-off plot and the two logged PNGs.
    assert _images(nb) >= 3
