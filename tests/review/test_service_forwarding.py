"""The HTTP scoring service forwards flagged conversations into a real review store."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from grooming_risk.inference.scorer import RiskScorer
from grooming_risk.review.migrations import upgrade
from grooming_risk.review.store import QueueFilters, ReviewStore
from grooming_risk.service.app import create_app
from grooming_risk.service.settings import ServiceSettings
from tests.conftest import toy_conversations


def test_flagged_conversations_reach_the_review_queue(tiny_artifact: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'review.db'}"
    upgrade(url)
    scorer = RiskScorer.load(tiny_artifact)
    conversations = toy_conversations(1)
    expected = {a.conversation_id for a in scorer.score(conversations) if a.flagged}
    assert expected, "the tiny model should flag some toy conversations at its low test thresholds"

    app = create_app(ServiceSettings(auth=False, review_db=url), scorer)
    with TestClient(app) as client:
        response = client.post(
            "/v1/score", json={"conversations": [c.model_dump(mode="json") for c in conversations]}
        )
        assert response.status_code == 200
    # Forwarding runs after the response; give the worker thread a bounded moment.
    store = ReviewStore.open(url)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        queued = {row.conversation_id for row in store.queue(QueueFilters(), limit=100).rows}
        if queued >= expected:
            break
        time.sleep(0.1)
    assert queued == expected
