"""ONNX export: parity with the torch model, streaming, and a runtime without torch/transformers."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from grooming_risk.contract.conversation import Conversation
from grooming_risk.inference.scorer import RiskScorer
from tests.conftest import toy_conversations
from tests.parity import assert_same_assessments

pytest.importorskip("onnxruntime")


@pytest.fixture(scope="module")
def onnx_fp32(tiny_artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from grooming_risk.inference.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("onnx") / "fp32"
    export_onnx(tiny_artifact, out, encoding="none")
    return out


@pytest.fixture(scope="module")
def onnx_int8(tiny_artifact: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from grooming_risk.inference.onnx_export import export_onnx

    out = tmp_path_factory.mktemp("onnx") / "int8"
    export_onnx(tiny_artifact, out, encoding="int8")
    return out


def _risks(scorer: RiskScorer, conversations: list[Conversation]) -> list[list[float]]:
    return [a.risk_by_message for a in scorer.score(conversations)]


def _max_diff(a: list[list[float]], b: list[list[float]]) -> float:
    assert [len(x) for x in a] == [len(x) for x in b]
    return max(float(np.max(np.abs(np.subtract(x, y)))) for x, y in zip(a, b, strict=True))


def test_fp32_export_matches_torch(tiny_artifact: Path, onnx_fp32: Path) -> None:
    torch_scorer = RiskScorer.load(tiny_artifact)
    onnx_scorer = RiskScorer.load(onnx_fp32)
    assert onnx_scorer.meta.kind == "onnx"
    assert onnx_scorer.meta.thresholds == torch_scorer.meta.thresholds
    assert onnx_scorer.meta.calibration == torch_scorer.meta.calibration
    assert onnx_scorer.model_version == "tiny-test-1+onnx"
    # The export reads text as its source model learned it: it carries the source's preparation.
    assert onnx_scorer.meta.versions["text_prep"] == torch_scorer.meta.versions["text_prep"]
    convs = toy_conversations()
    expected, got = torch_scorer.score(convs), onnx_scorer.score(convs)
    assert _max_diff([a.risk_by_message for a in expected], [a.risk_by_message for a in got]) < 1e-4
    for a, b in zip(expected, got, strict=True):
        assert a.conversation_id == b.conversation_id
        assert (a.label, a.flagged, a.urgent, a.first_alert_index) == (
            b.label,
            b.flagged,
            b.urgent,
            b.first_alert_index,
        )
        assert a.categories.keys() == b.categories.keys()
        assert max(abs(a.categories[k] - b.categories[k]) for k in a.categories) < 1e-4


def test_int8_export_within_tolerance(tiny_artifact: Path, onnx_int8: Path, onnx_fp32: Path) -> None:
    convs = toy_conversations()
    expected = _risks(RiskScorer.load(tiny_artifact), convs)
    assert _max_diff(expected, _risks(RiskScorer.load(onnx_int8), convs)) < 0.01
    size = lambda d: sum(p.stat().st_size for p in d.rglob("*.onnx"))  # noqa: E731
    assert size(onnx_int8) < size(onnx_fp32)


def test_onnx_streaming_equals_batch(onnx_fp32: Path) -> None:
    scorer = RiskScorer.load(onnx_fp32)
    convs = toy_conversations(copies=1)
    batch = scorer.score(convs)
    for conv, whole in zip(convs, batch, strict=True):
        session = scorer.stream(conv.conversation_id)
        risks = []
        for message in conv.messages:
            streamed = session.add(message)
            risks += streamed.risk_by_message  # each answer holds the new message's risk only
        assert np.allclose(risks, whole.risk_by_message, atol=1e-6)
        assert streamed.first_alert_index == whole.first_alert_index


def test_onnx_state_continues_a_torch_stream(tiny_artifact: Path, onnx_fp32: Path) -> None:
    # Same state layout: a conversation begun on one runtime can continue on the other.
    torch_scorer, onnx_scorer = RiskScorer.load(tiny_artifact), RiskScorer.load(onnx_fp32)
    conv = toy_conversations(copies=1)[3]
    session = torch_scorer.stream(conv.conversation_id)
    session.extend(conv.messages[:3])
    rest = onnx_scorer.advance([(session.state, conv.messages[3:])])[0][1]
    [whole] = torch_scorer.score([conv])
    assert rest.risk_by_message_start == 3
    assert np.allclose(rest.risk_by_message, whole.risk_by_message[3:], atol=1e-4)


def test_tokenizer_matches_transformers(onnx_fp32: Path, tiny_encoder_dir: Path) -> None:
    from transformers import AutoTokenizer

    from grooming_risk.inference.onnx_backend import OnnxBackend

    backend = RiskScorer.load(onnx_fp32).backend
    assert isinstance(backend, OnnxBackend)
    texts = ["gg", "did you finish the maths homework", "ok 👍", "word " * 100, ""]
    reference = AutoTokenizer.from_pretrained(tiny_encoder_dir, local_files_only=True)(
        texts, padding=True, truncation=True, max_length=32, return_tensors="np"
    )
    ids, mask = backend.encoder.tokenize(texts)
    assert ids.shape[1] == 32
    assert np.array_equal(ids, reference["input_ids"])
    assert np.array_equal(mask, reference["attention_mask"])


RUNTIME_SCRIPT = """
import json, sys
sys.modules["torch"] = None
sys.modules["transformers"] = None
from grooming_risk.contract.conversation import Conversation
from grooming_risk.inference.scorer import RiskScorer
scorer = RiskScorer.load(sys.argv[1])
convs = [Conversation.model_validate_json(line) for line in sys.stdin]
print(json.dumps([a.model_dump(mode="json") for a in scorer.score(convs)]))
blocked = [m for m in ("torch", "transformers") if sys.modules.get(m) is not None]
assert not blocked, blocked
"""


def test_onnx_runtime_needs_neither_torch_nor_transformers(onnx_int8: Path) -> None:
    convs = toy_conversations(copies=1)
    stdin = "\n".join(c.model_dump_json() for c in convs)
    done = subprocess.run(
        [sys.executable, "-c", RUNTIME_SCRIPT, str(onnx_int8)],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    got = json.loads(done.stdout)
    scorer = RiskScorer.load(onnx_int8)
    assert_same_assessments(got, scorer.score(convs), scorer.thresholds)


def test_importing_torch_is_really_blocked() -> None:
    # Guards the test above: if blocking did not work, it would prove nothing.
    script = (
        'import sys; sys.modules["torch"] = None\ntry:\n import torch\nexcept ImportError:\n print("blocked")'
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "blocked"


def test_export_cli(tiny_artifact: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from grooming_risk.cli.export import app

    out = tmp_path / "onnx"
    result = CliRunner().invoke(app, ["onnx", "--model", str(tiny_artifact), "-o", str(out), "--no-quantize"])
    assert result.exit_code == 0, result.output
    assert "max |risk diff| vs torch" in result.output
    assert {p.name for p in (out / "encoder").iterdir()} == {"encoder.onnx", "step.onnx", "tokenizer.json"}
    assert RiskScorer.load(out).meta.encoder["quantization"] == "none"  # type: ignore[index]


def test_export_refuses_source_directory(tiny_artifact: Path) -> None:
    from typer.testing import CliRunner

    from grooming_risk.cli.export import app

    result = CliRunner().invoke(app, ["onnx", "--model", str(tiny_artifact), "-o", str(tiny_artifact)])
    assert result.exit_code == 2
    assert "other than the source" in result.output


def test_compact_export_is_close_to_torch_and_smaller_than_fp32(
    tiny_artifact: Path, onnx_fp32: Path, tmp_path: Path
) -> None:
    from grooming_risk.inference.onnx_export import export_onnx

    report = export_onnx(tiny_artifact, tmp_path / "compact", encoding="compact")
    assert report.encoding == "compact"
    assert report.min_embedding_cosine > 0.999
    convs = toy_conversations()
    expected = _risks(RiskScorer.load(tiny_artifact), convs)
    assert _max_diff(expected, _risks(RiskScorer.load(tmp_path / "compact"), convs)) < 0.01
    size = lambda d: sum(p.stat().st_size for p in d.rglob("*.onnx"))  # noqa: E731
    assert size(tmp_path / "compact") < size(onnx_fp32)


def test_export_cli_checks_decisions_on_data(tiny_artifact: Path, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from grooming_risk.cli.export import app
    from grooming_risk.io import write_records

    data = tmp_path / "check.jsonl"
    write_records(data, toy_conversations(1))
    out = tmp_path / "onnx"
    args = [
        "onnx",
        "--model",
        str(tiny_artifact),
        "-o",
        str(out),
        "--quantize",
        "none",
        "--check-data",
        str(data),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "same label/flagged/urgent" in result.output
    assert "100.00%" in result.output


def test_export_rejects_unknown_encoding(tiny_artifact: Path, tmp_path: Path) -> None:
    from grooming_risk.inference.onnx_export import export_onnx

    with pytest.raises(ValueError, match="int8, compact, none"):
        export_onnx(tiny_artifact, tmp_path / "x", encoding="int4")


def test_an_export_that_fails_verification_never_replaces_a_working_one(
    tiny_artifact: Path, onnx_fp32: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from grooming_risk.inference import onnx_export

    out = tmp_path / "export"
    shutil.copytree(onnx_fp32, out)
    before = RiskScorer.load(out).model_version

    def failing(*args: object, **kwargs: object) -> None:
        raise onnx_export.InvalidArtifactError("export differs from torch")

    monkeypatch.setattr(onnx_export, "verify_export", failing)
    with pytest.raises(onnx_export.InvalidArtifactError, match="differs"):
        onnx_export.export_onnx(tiny_artifact, out, encoding="none")
    assert RiskScorer.load(out).model_version == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_the_default_path_is_the_current_onnx_export(
    tiny_artifact: Path, onnx_fp32: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json
    import shutil

    from grooming_risk.inference.scorer import DEFAULT_MODEL_ENV, default_model_uri
    from grooming_risk.model.artifact import META_FILE

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(DEFAULT_MODEL_ENV, raising=False)
    models = tmp_path / "artifacts" / "models"
    shutil.copytree(tiny_artifact, models / "default")
    assert default_model_uri() == "artifacts/models/default"  # no export yet
    shutil.copytree(onnx_fp32, models / "default-onnx")
    assert default_model_uri() == "artifacts/models/default-onnx"
    assert default_model_uri(prefer_export=False) == "artifacts/models/default"
    # A retrained default model leaves the export stale: back to the model itself.
    meta_path = models / "default" / META_FILE
    meta = json.loads(meta_path.read_text())
    meta["model_version"] += "-retrained"
    meta_path.write_text(json.dumps(meta))
    assert default_model_uri() == "artifacts/models/default"
    monkeypatch.setenv(DEFAULT_MODEL_ENV, "models:/x@champion")
    assert default_model_uri() == "models:/x@champion"
