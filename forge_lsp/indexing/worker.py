"""The part of indexing that runs in worker processes: read, hash, parse, extract.

Workers get paths, not bytes, so that reading is parallel too; they return plain tuples because
pickling NamedTuples by the hundred thousand is most of the cost of crossing the process line.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import multiprocessing.forkserver
import multiprocessing.resource_tracker
import os
import threading
from collections import deque
from collections.abc import Generator
from concurrent.futures import ProcessPoolExecutor
from typing import NamedTuple

from forge_lsp.indexing.discovery import SNIFF_BYTES
from forge_lsp.indexing.orphans import guard_worker
from forge_lsp.parsing import FileFacts
from forge_lsp.parsing.base import extract_facts

_INLINE_LIMIT = 64  # fewer files than this are parsed in-process: no pool start-up cost
_CHUNK = 8
_WINDOW_PER_WORKER = 8  # chunks queued per worker


class Job(NamedTuple):
    path: str
    size: int  # as discovered; used to balance the pool
    # when the content still hashes to this, the file is unchanged: the stored file's hash,
    # which the updater fills in as it hands jobs to the workers (GraphUpdater.stored_hash)
    old_hash: bytes | None = None


class Result(NamedTuple):
    path: str
    size: int
    mtime_ns: int
    content_hash: bytes
    facts: FileFacts | None  # None: unchanged content, or an error
    error: str | None


def content_hash(data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=16).digest()


def process(job: Job) -> Result:
    import os

    try:
        with open(job.path, "rb") as handle:
            st = os.fstat(handle.fileno())
            data = handle.read()
            after = os.fstat(handle.fileno())
    except OSError as exc:
        return Result(job.path, 0, 0, b"", None, f"unreadable: {exc.strerror or exc}")
    if b"\0" in data[:SNIFF_BYTES]:  # it became binary after discovery sniffed it
        return Result(job.path, 0, 0, b"", None, "binary")
    # (size, mtime) say when the file must be read again. Written while it was read, the bytes
    # may be of neither version, and a writer that restores the old mtime (rsync -t, cp -p)
    # would hide that for good: record an mtime no file has, so the next run reads it again.
    changing = (st.st_size, st.st_mtime_ns) != (after.st_size, after.st_mtime_ns)
    size, mtime_ns = st.st_size, 0 if changing or len(data) != st.st_size else st.st_mtime_ns
    digest = content_hash(data)
    if digest == job.old_hash:
        return Result(job.path, size, mtime_ns, digest, None, None)
    try:
        facts = extract_facts(job.path, data)
    except Exception as exc:  # an extractor bug must cost one file, not the index
        return Result(job.path, size, mtime_ns, digest, None, f"extraction failed: {exc!r}")
    return Result(job.path, size, mtime_ns, digest, facts, None)


def process_batch(jobs: list[Job]) -> list[Result]:
    return [process(job) for job in jobs]


def run_jobs(jobs: list[Job], workers: int) -> Generator[Result, None, None]:
    """Process jobs, in a pool of `workers` processes when there are enough of them."""
    with JobPool(workers) as pool:
        yield from pool.run(jobs)


_running_pools = 0  # pools whose workers are up: the forkserver stops with the last of them
_running_lock = threading.Lock()


def _stop_helpers() -> None:
    """Stop the forkserver and the resource tracker that starting a pool left running (26 MB
    between them at rest, and the process tree's peak on a cold index of 100,000 files is
    reached after the workers are gone). Both start again with the next pool. The stop
    functions are private to multiprocessing but have been there since 3.8; where they are
    not, the helpers stay, which costs memory only."""
    for helper in (
        multiprocessing.forkserver._forkserver,
        multiprocessing.resource_tracker._resource_tracker,
    ):
        stop = getattr(helper, "_stop", None)
        if stop is not None:
            stop()


class JobPool:
    """Worker processes kept across several runs of jobs (a first index in batches pays their
    start-up once, not once a batch); started on the first run that is large enough. When
    the last running pool closes, no process it started is left (`_stop_helpers`)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> JobPool:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        # An exception from outside (a signal's) may have come while the executor was starting
        # a worker it did not know of yet. That worker holds the forkserver up (each worker
        # keeps its "alive" pipe), so stopping it would wait for good: the helpers are left
        # for this process's exit (they go with it). A generator closed at a yield is not that.
        self.close(stop_helpers=kind is None or issubclass(kind, GeneratorExit))

    def close(self, stop_helpers: bool = True) -> None:
        global _running_pools
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None
            with _running_lock:
                _running_pools -= 1
                if _running_pools == 0 and stop_helpers:
                    _stop_helpers()

    def _executor(self) -> ProcessPoolExecutor:
        global _running_pools
        if self._pool is None:
            # From a forkserver, not forked from this process: a forked worker starts with
            # this process's heap (a 100,000-file index forked 130 MB workers from a 260 MB
            # parent, 27 MB from the forkserver, in the same time), and forking a process
            # that runs other threads can deadlock the child.
            with _running_lock:  # counted first: a pool closing now leaves the helpers up
                _running_pools += 1
            context = multiprocessing.get_context("forkserver")
            # the forkserver, too, must not outlive us
            context.set_forkserver_preload(["forge_lsp.indexing._forkserver_guard"])
            try:
                self._pool = ProcessPoolExecutor(
                    max_workers=self.workers,
                    mp_context=context,
                    initializer=guard_worker,
                    initargs=(os.getpid(),),
                )
            except BaseException:
                with _running_lock:
                    _running_pools -= 1
                raise
        return self._pool

    def run(self, jobs: list[Job]) -> Generator[Result, None, None]:
        """Results in order of the largest jobs first (in-process for a few jobs)."""
        # a pool already running is worth it for a few files too; starting one is not
        few = len(jobs) < (2 if self._pool is not None else _INLINE_LIMIT)
        if self.workers <= 1 or few:
            for job in jobs:
                yield process(job)
            return
        # Largest first in small chunks: the pool stays balanced to the end.
        jobs = sorted(jobs, key=lambda j: -j.size)
        # a few files (what a question needs next) are spread over every worker
        size = max(1, min(_CHUNK, -(-len(jobs) // self.workers)))
        chunks = [jobs[i : i + size] for i in range(0, len(jobs), size)]
        # A bounded window of chunks in flight, consumed in order: when this process is slower
        # than the workers, finished facts wait in the pipe instead of piling up in memory.
        window = self.workers * _WINDOW_PER_WORKER
        pool = self._executor()
        pending = deque(pool.submit(process_batch, c) for c in chunks[:window])
        following = iter(chunks[window:])
        try:
            while pending:
                batch = pending.popleft().result()
                chunk = next(following, None)
                if chunk is not None:
                    pending.append(pool.submit(process_batch, chunk))
                yield from batch
        finally:
            for future in pending:  # a run abandoned half-way leaves nothing queued
                future.cancel()
