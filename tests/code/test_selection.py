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
    check_selectable(_file(tmp_path / "handwritten" / "val_v1.jsonl"))
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
        ("handwritten/train_v1.jsonl", None),
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


def test_the_unused_rest_of_a_real_mix_joins_the_real_val_slice(tmp_path: Path) -> None:
    from grooming_risk.data.sampling import in_share
    from grooming_risk.training.config import DataConfig
    from grooming_risk.training.datasets import load_datasets

    toys = toy_conversations(4)
    benign = [c for c in toys if not c.is_risky]
    real = [c.model_copy(update={"conversation_id": f"real-{i}"}) for i in range(40) for c in benign[:1]]
    write_records(tmp_path / "train.jsonl", toys)
    write_records(
        tmp_path / "val.jsonl",
        [c.model_copy(update={"conversation_id": f"v-{c.conversation_id}"}) for c in toys],
    )
    write_records(
        tmp_path / "real_val.jsonl", [c.model_copy(update={"conversation_id": "rv-1"}) for c in benign[:1]]
    )
    write_records(tmp_path / "real_train.jsonl", real)
    cfg = DataConfig.model_validate(
        {
            "train": tmp_path / "train.jsonl",
            "val": tmp_path / "val.jsonl",
            "real_val": tmp_path / "real_val.jsonl",
            "handwritten": None,
            "mix": {
                "real_benign": {"path": tmp_path / "real_train.jsonl", "share": 0.5, "rest_to_real_val": True}
            },
        }
    )
    data = load_datasets(cfg)
    rest = {c.conversation_id for c in real if not in_share(c.conversation_id, 0.5)}
    assert 0 < len(rest) < len(real)
    assert {c.conversation_id for c in data.real_val} == {"rv-1"} | rest
    assert not rest & {c.conversation_id for c in data.train}
    assert "real_val.mix.real_benign" in data.paths

    # Off by default: the real val slice is the file alone.
    plain = load_datasets(
        cfg.model_copy(
            update={
                "mix": {"real_benign": cfg.mix["real_benign"].model_copy(update={"rest_to_real_val": False})}
            }
        )
    )
    assert [c.conversation_id for c in plain.real_val] == ["rv-1"]

    # A risky chat in the source is refused, by id: the budget is for benign real chats.
    risky = next(c for c in toys if c.is_risky)
    write_records(
        tmp_path / "real_train.jsonl",
        [*real, *(risky.model_copy(update={"conversation_id": f"r-{i}"}) for i in range(8))],
    )
    with pytest.raises(ValueError, match=r"rest_to_real_val: .* holds risky conversations \(first: r-"):
        load_datasets(cfg)


def test_hand_written_validation_joins_tuning_before_real_chats_and_extras_repeat(tmp_path: Path) -> None:
    from grooming_risk.training.config import DataConfig
    from grooming_risk.training.datasets import load_datasets

    toys = toy_conversations(4)

    def renamed(prefix: str) -> list:
        return [c.model_copy(update={"conversation_id": f"{prefix}{c.conversation_id}"}) for c in toys]

    benign = next(c for c in toys if not c.is_risky)
    write_records(tmp_path / "train.jsonl", toys)
    write_records(tmp_path / "val.jsonl", renamed("v-"))
    write_records(tmp_path / "hw_val.jsonl", renamed("hwv-"))
    write_records(tmp_path / "hw_train.jsonl", renamed("hwt-"))
    write_records(tmp_path / "real_val.jsonl", [benign.model_copy(update={"conversation_id": "rv-1"})])
    cfg = DataConfig.model_validate(
        {
            "train": tmp_path / "train.jsonl",
            "val": tmp_path / "val.jsonl",
            "val_handwritten": tmp_path / "hw_val.jsonl",
            "real_val": tmp_path / "real_val.jsonl",
            "handwritten": None,
            "extra": [tmp_path / "hw_train.jsonl"],
            "extra_repeat": 3,
        }
    )
    data = load_datasets(cfg)
    ids = [c.conversation_id for c in data.tuning]
    # Calibration reads the real-chat budget off the last rows: the real chats stay last.
    assert ids == [
        *(f"v-{c.conversation_id}" for c in toys),
        *(f"hwv-{c.conversation_id}" for c in toys),
        "rv-1",
    ]
    assert "val_handwritten" in data.evaluation_sets()
    assert data.train_sources()["handwritten"] == 3 * len(toys)

    # A validation set that training reads is refused.
    with pytest.raises(ValueError, match="val_handwritten set"):
        load_datasets(cfg.model_copy(update={"extra": [tmp_path / "hw_val.jsonl"]}))


def test_hand_written_validation_takes_one_file_or_several(tmp_path: Path) -> None:
    from grooming_risk.training.config import DataConfig
    from grooming_risk.training.datasets import load_datasets

    toys = toy_conversations(4)

    def renamed(prefix: str) -> list:
        return [c.model_copy(update={"conversation_id": f"{prefix}{c.conversation_id}"}) for c in toys]

    write_records(tmp_path / "train.jsonl", toys)
    write_records(tmp_path / "val.jsonl", renamed("v-"))
    write_records(tmp_path / "hw_val1.jsonl", renamed("hwv-"))
    write_records(tmp_path / "hw_val2.jsonl", renamed("hwv2-")[:3])
    write_records(tmp_path / "real_val.jsonl", [renamed("rv-")[0]])
    base = {
        "train": tmp_path / "train.jsonl",
        "val": tmp_path / "val.jsonl",
        "real_val": tmp_path / "real_val.jsonl",
        "handwritten": None,
    }
    one = DataConfig.model_validate({**base, "val_handwritten": str(tmp_path / "hw_val1.jsonl")})
    assert one.val_handwritten == [tmp_path / "hw_val1.jsonl"]
    assert DataConfig.model_validate({**base, "val_handwritten": None}).val_handwritten == []
    both = DataConfig.model_validate(
        {**base, "val_handwritten": [tmp_path / "hw_val1.jsonl", tmp_path / "hw_val2.jsonl"]}
    )
    data = load_datasets(both)
    assert len(data.val_handwritten) == len(toys) + 3
    # Balanced calibration weighs the tuning sets by these sizes, in TUNING_SETS order.
    assert data.tuning_sizes == [len(toys), len(toys) + 3, 1]
    assert sum(data.tuning_sizes) == len(data.tuning)
    assert data.paths["val_handwritten1"] == tmp_path / "hw_val2.jsonl"
