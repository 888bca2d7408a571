from datetime import UTC, datetime, timedelta

import numpy as np

from grooming_risk.contract.conversation import Conversation
from grooming_risk.model.features import (
    FEATURE_DIM,
    FEATURE_NAMES,
    FeatureState,
    conversation_features,
    message_features,
)


def _conv() -> Conversation:
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    return Conversation.model_validate(
        {
            "conversation_id": "c1",
            "messages": [
                {"sender": "a", "text": "hi", "sent_at": t0.isoformat()},
                {
                    "sender": "b",
                    "text": "hey who is this?",
                    "sent_at": (t0 + timedelta(minutes=5)).isoformat(),
                },
                {
                    "sender": "a",
                    "text": "add me on s n a p",
                    "sent_at": (t0 + timedelta(minutes=6)).isoformat(),
                },
                {"sender": "c", "text": "call 0412 345 678", "sent_at": None},
            ],
        }
    )


def test_shape_and_roles() -> None:
    feats = conversation_features(_conv())
    assert feats.shape == (4, FEATURE_DIM)
    col = {name: i for i, name in enumerate(FEATURE_NAMES)}
    assert feats[:, col["role_initiator"]].tolist() == [1, 0, 1, 0]
    assert feats[:, col["role_second"]].tolist() == [0, 1, 0, 0]
    assert feats[:, col["role_other"]].tolist() == [0, 0, 0, 1]
    assert feats[2, col["obfuscated"]] == 1
    assert feats[3, col["has_phone_or_long_number"]] == 1
    assert feats[1, col["question"]] == 1
    assert feats[3, col["group_chat"]] == 1
    assert feats[2, col["group_chat"]] == 0
    assert feats[1, col["gap_known"]] == 1
    assert feats[0, col["gap_known"]] == 0


def test_streaming_state_round_trip_gives_same_features() -> None:
    conv = _conv()
    batch = conversation_features(conv)
    state = FeatureState()
    rows = []
    for message in conv.messages:
        # Serialise between messages, as a shared state store would.
        state = FeatureState.from_dict(state.to_dict())
        rows.append(message_features(message, state))
    np.testing.assert_array_equal(np.stack(rows), batch)
