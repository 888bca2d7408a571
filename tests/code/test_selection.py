"""Only validation data may choose: promotion refuses hand-written sets and test splits."""

from __future__ import annotations

from pathlib import Path

import pytest

from grooming_risk.data.cards import DatasetCard, write_card
from grooming_risk.io.writers import write_records
from grooming_risk.training.evaluate import check_selectable, promote
from tests.conftest import toy_conversations


def _file(path: Path, card: DatasetCard | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_records(path, toy_conversations(1))
    if card is not None:
        write_card(path, card)
    return path


def test_validation_sets_are_selectable(tmp_path: Path) -> None:
    check_selectable(_file(tmp_path / "generated" / "val_unseen_writers.jsonl"))
    check_selectable(
        _file(
            tmp_path / "real" / "chitchat.val.jsonl",
            DatasetCard(name="v", source="chitchat", parameters={"split": "val"}),
        )
    )


@pytest.mark.parametrize(
    ("relative", "card"),
    [
        ("handwritten/eval_v1.jsonl", None),
        ("elsewhere/my_set.jsonl", DatasetCard(name="h", source="handwritten")),
        ("real/chitchat.test.jsonl", None),
        ("real/renamed.jsonl", DatasetCard(name="t", source="chitchat", parameters={"split": "test"})),
    ],
)
def test_reporting_only_sets_are_refused(tmp_path: Path, relative: str, card: DatasetCard | None) -> None:
    path = _file(tmp_path / relative, card)
    with pytest.raises(ValueError, match="never choose"):
        check_selectable(path)
    # promote refuses before it evaluates anything (no registry is touched).
    with pytest.raises(ValueError, match="never choose"):
        promote([path], model_name="nothing-registered")
    with pytest.raises(ValueError, match="never choose"):
        promote([_file(tmp_path / "val.jsonl")], real=[path], model_name="nothing-registered")


def test_in_share_keeps_a_fixed_subset_of_about_that_size() -> None:
    from grooming_risk.data.sampling import in_share

    ids = [f"chitchat-{i}" for i in range(4000)]
    half = [i for i in ids if in_share(i, 0.5)]
    assert 1800 < len(half) < 2200
    assert half == [i for i in ids if in_share(i, 0.5)]  # the same ids every time
    assert set(half) >= {i for i in ids if in_share(i, 0.25)}  # nested: a smaller share is a subset
    assert all(in_share(i, 1.0) for i in ids)
