"""One workspace folder's always-fresh graph: the pipeline from change notices to answers.

    editor (open, change, close) ─┐
    file watcher, client events ──┼─► UpdateScheduler ─► updater thread ─► GraphUpdater ─► cache
    start-up, storms, rebuild ────┘   (coalesce, debounce,  (reparse open      (one write      invalidation
                                       open docs first)      documents          transaction)
                                                             incrementally)

Everything that writes runs on the folder's one updater thread, which owns the GraphUpdater,
the trees of open documents and the WAL checkpoints; readers (other threads) only ever use
their own connections. Open documents are indexed from the editor's text; disk events for
them are ignored until they are closed, when the disk is read again.

Nothing here speaks LSP: the server makes these calls and hears progress via `LiveListener`.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from typing import Any

import apsw

from forge_lsp.config import Settings
from forge_lsp.graph.store import StoreError, checkpoint, remove_database
from forge_lsp.indexing.discovery import PathFilter, git_ignored
from forge_lsp.indexing.freshness import mark_serving, unmark_serving
from forge_lsp.indexing.report import IndexReport
from forge_lsp.indexing.updater import GraphUpdater, RootRefused
from forge_lsp.indexing.worker import Result
from forge_lsp.live.cache import CachedQueries, QueryCache
from forge_lsp.live.disk import disk_work
from forge_lsp.live.documents import OpenDocuments
from forge_lsp.live.first_index import Demands, StagedFirstIndex, UsesOf
from forge_lsp.live.interface import (
    Announcer,
    LiveListener,
    LiveOptions,
    Readers,
    failure_reason,
    log_index,
)
from forge_lsp.live.metrics import LiveMetrics
from forge_lsp.live.retry import FailedUpdates
from forge_lsp.live.scheduler import BUFFER, CLOSED, Batch, UpdateScheduler
from forge_lsp.live.storms import Storm
from forge_lsp.live.watcher import WATCHER_OFF, FileWatcher
from forge_lsp.parsing.incremental import ByteEdit

log = logging.getLogger(__name__)

_IDLE_CHECKPOINT = 1.0  # seconds without work before the WAL is folded back
_SYNC_LOCK = threading.Lock()  # one full index at a time: each one already uses every core
_SNIFF = 8192
_WATCHER_START = 2.0  # seconds the first index waits, at most, for the watcher to be in place


DEFAULT_OPTIONS = LiveOptions()  # frozen: one shared default


class LiveGraph:
    def __init__(
        self,
        settings: Settings,
        *,
        options: LiveOptions = DEFAULT_OPTIONS,
        listener: LiveListener | None = None,
        readers: Readers | None = None,
    ) -> None:
        self.settings = settings
        self.options = options
        self.announce = Announcer(listener)
        self.readers = readers
        self.scheduler = UpdateScheduler(
            debounce=options.debounce,
            batch_limit=options.batch_limit,
            max_pending=options.max_pending,
        )
        self.failures = FailedUpdates(self._retry)
        self.demands = Demands()  # questions waiting for the first index
        self.cache = QueryCache(options.cache_size)
        self.queries = CachedQueries(self.cache)
        self.metrics = LiveMetrics(options.metrics_log)
        self.filter = PathFilter(settings)
        self._prefix = settings.root.as_posix().rstrip("/") + "/"
        self._lock = threading.Lock()
        self.documents = OpenDocuments()  # indexed from their buffers, not the disk
        self._updater: GraphUpdater | None = None
        self._git: bool | None = None
        self._rebuilds: list[Future[None]] = []
        self._storm = Storm(
            self.announce, settings.jobs, f"forge-lsp: updating {settings.root.name}"
        )
        self._thread: threading.Thread | None = None
        self._dirty = False  # written since the last checkpoint
        self._frozen = False  # the program is loaded and kept out of the collector's way
        self.watcher: FileWatcher | None = None
        # what forge/status shows
        self.state = "queued"  # queued | indexing | ready | failed
        self.error: str | None = None
        self.runs = 0
        self.done = 0
        self.total = 0
        self.report: IndexReport | None = None
        self.busy = False

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Index (warm or cold) in the background, then keep the graph fresh."""
        self.scheduler.rescan()
        self._thread = threading.Thread(
            target=self._run, name=f"forge-update:{self.settings.root.name}", daemon=True
        )
        self._thread.start()

    def close(self, timeout: float) -> bool:
        """Stop taking work; wait up to `timeout` s for the batch in hand to commit."""
        self.scheduler.close()
        if self.watcher is not None:
            self.watcher.stop()
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def rebuild(self) -> Future[None]:
        """Delete the graph and index from scratch; the future is done when that is."""
        future: Future[None] = Future()
        with self._lock:
            self._rebuilds.append(future)
        self.scheduler.rebuild()
        return future

    # ----- change notices (any thread) -------------------------------------------------------

    def rel(self, path: str) -> str:
        return path[len(self._prefix) :] if path.startswith(self._prefix) else path

    def indexable(self, path: str) -> bool:
        """Whether discovery would index this path (suffix, excludes, include globs)."""
        return path.startswith(self._prefix) and self.filter.file_allowed(self.rel(path))

    def open_document(self, path: str, data: bytes) -> int | None:
        """An editor opened a document: from now on its buffer is the truth."""
        if not self.indexable(path) or not self._acceptable(data):
            return None
        self.documents.open(path)
        return self.scheduler.buffer(path, data, None)

    def change_document(
        self, path: str, data: bytes, edits: Sequence[ByteEdit] | None
    ) -> int | None:
        if not self.documents.is_open(path):
            return None
        if not self._acceptable(data):
            return self.close_document(path)
        return self.scheduler.buffer(path, data, edits)

    def close_document(self, path: str) -> int | None:
        """The editor closed a document: its file on disk is the truth again."""
        if not self.documents.close(path):
            return None
        return self.scheduler.document_closed(path)

    def files_changed(self, paths: Iterable[str]) -> int:
        """Paths created, modified or deleted on disk (files or directories)."""
        inside = [p for p in paths if p.startswith(self._prefix)]
        return self.scheduler.disk(self.documents.closed_among(inside))

    def _acceptable(self, data: bytes) -> bool:
        return len(data) <= self.settings.max_file_bytes and b"\0" not in data[:_SNIFF]

    # ----- reading ---------------------------------------------------------------------------

    def wait_fresh(self, seq: int, timeout: float, cancelled: Any = lambda: False) -> bool:
        """Wait (bounded) until every editor change up to `seq` is in the graph.

        While the first index is under way nothing is waited for: answers are partial anyway,
        and say so.
        """
        if self.state != "ready":
            return True
        return self.scheduler.wait(seq, timeout, cancelled) and not self.failures.unsettled

    def wait_applied(self, seq: int, timeout: float) -> bool:
        """Wait (bounded) until every change notice up to `seq`, from any source, is applied."""
        return self.scheduler.wait(seq, timeout, urgent_only=False)

    @property
    def open_paths(self) -> set[str]:
        return self.documents.paths

    @property
    def indexing_first(self) -> bool:
        """The first index of this session has neither ended nor failed yet."""
        return self.report is None and self.state in ("queued", "indexing")

    def demand(self, paths: Iterable[str], uses_of: UsesOf | None = None) -> Future[None]:
        """Done once the files a question needs are in the graph (see live/first_index.py):
        at once when no first index runs; cancel it to withdraw the question."""
        return self.demands.add(paths, uses_of)

    @property
    def pending_files(self) -> int:
        running = max(0, self.total - self.done) if self.state == "indexing" else 0
        return running + self.scheduler.pending

    def status(self) -> dict[str, Any]:
        watcher = self.watcher
        return {
            "pendingUpdates": self.scheduler.pending,
            "pendingPaths": self.scheduler.pending_paths()[:20],
            "openDocuments": len(self.open_paths),
            **(watcher.status() if watcher is not None else WATCHER_OFF),
            "watcherEvents": watcher.events if watcher is not None else 0,
            "rescans": self.scheduler.overflows,
            "stale": self.failures.stale()[:20],  # updates that failed every retry
            "answeredEarly": self.demands.answered,  # questions answered before the first index ended
            **self.metrics.summary(),
        }

    # ----- the updater thread ----------------------------------------------------------------

    def _run(self) -> None:
        try:
            self._updater = GraphUpdater.open(self.settings)
        except RootRefused as exc:  # nothing was written there, and nothing is watched
            self._fail(str(exc))
            return
        except (StoreError, OSError, apsw.Error) as exc:  # never "queued" forever
            self._fail(f"cannot open the graph: {exc}")
            return
        mark_serving(self.settings.db_path)  # the command line then leaves the graph to us
        if self.options.watch and not self.scheduler.is_closed:
            # before the first index runs: a change made while it runs is not missed
            self.watcher = FileWatcher.of(self.settings, self.filter, self.files_changed)
            self.watcher.start()
        try:
            while True:
                self._preload()
                batch = self.scheduler.take(timeout=_IDLE_CHECKPOINT)
                if batch is None:
                    if self.scheduler.is_closed:
                        break
                    self._idle()
                    continue
                self.busy = True
                try:
                    self._handle(batch)
                finally:
                    self.busy = False
                    self.scheduler.done(batch)
        finally:
            if self.watcher is not None:  # also one started while close() ran
                self.watcher.stop()
            self._storm.close()
            self.demands.finish()
            if self._updater is not None:
                self._updater.close()
            unmark_serving(self.settings.db_path)

    def _handle(self, batch: Batch) -> None:
        try:
            if batch.rebuild:
                self._rebuild()
            elif batch.rescan:
                self._sync()
            else:
                self._apply(batch)
                self.failures.succeeded(batch.paths)
        except Exception as exc:
            self.metrics.failed()
            log.exception("updating %s failed", self.settings.root)
            if batch.rebuild or batch.rescan or self.state not in ("ready", "indexing"):
                self._fail(failure_reason(exc))
            else:  # rolled back: try again later, stale meanwhile (live/retry.py)
                self.failures.failed(batch.paths)
                self.announce.failed(f"updating {len(batch.notices)} file(s) failed: {exc}")

    def _retry(self, paths: list[str]) -> None:
        """Queue failed paths again: an open document from its buffer, the rest from disk."""
        disk = []
        for path in paths:
            data = self.documents.text(path)
            if data is not None and self.documents.is_open(path):
                self.scheduler.buffer(path, data, None)
            else:
                disk.append(path)
        if disk:
            self.scheduler.disk(disk)

    def _fail(self, message: str) -> None:
        self.state, self.error = "failed", message
        self.demands.finish()
        self.announce.failed(message)
        self._finish_rebuilds(RuntimeError(message))

    def _idle(self) -> None:
        if self._dirty and self._updater is not None:
            checkpoint(self._updater.conn)
            self._dirty = False

    # ----- full index ------------------------------------------------------------------------

    def _sync(self, *, rebuild: bool = False) -> None:
        updater = self._updater
        assert updater is not None
        if self.state != "ready":
            self.state = "queued"
        with _SYNC_LOCK:
            self.state, self.done, self.total, self.error = "indexing", 0, 0, None
            self.runs += 1
            event = self.announce.begin(
                f"forge-lsp: {'rebuilding' if rebuild else 'indexing'} {self.settings.root.name}", 0
            )
            last = [0.0]

            def progress(done: int, total: int) -> None:
                self.done, self.total = done, total
                now = time.monotonic()
                if now - last[0] >= 0.1 or done == total:
                    last[0] = now
                    event.total = total
                    message = f"{done}/{total} files{self.demands.note()}"
                    self.announce.report(event, done, message=message)

            # An empty graph's first index (open documents aside) goes in batches, questions first
            staged = None
            if self.report is None and not rebuild and updater.states.keys() <= self.open_paths:
                staged = StagedFirstIndex(
                    updater,
                    self.demands,
                    workers=self.settings.jobs,
                    batch_files=self.options.first_index_batch,
                    between=self._between_batches,
                    kept=lambda: self.open_paths,
                    committed=self._batch_committed,
                    progress=progress,
                    stop=lambda: self.scheduler.is_closed,
                ).run
            try:
                report, self._git = updater.index(
                    workers=self.settings.jobs,
                    progress=progress,
                    keep=self.open_paths,
                    git=self._git,
                    staged=staged,
                )
            except Exception as exc:  # a client must never show "indexing" forever
                self.announce.report(event, event.done, finished=True, message=f"failed: {exc}")
                raise
            finally:
                self.demands.finish()
            if report.bulk:
                self.cache.clear()
            else:
                self.cache.invalidate(report.touched)
            self.report = report
            if self.watcher is not None:  # ready means watching: a change now is not missed
                self.watcher.wait_running(_WATCHER_START)
            self.state = "ready"
            summary = log_index(log, self.settings.root, report)
            self.announce.report(event, event.total, finished=True, message=summary)
        self._frozen = False  # a new program, or new rows in it, to load and freeze
        self._preload()

    def _preload(self) -> None:
        """What live updates need, built while nothing else waits rather than on the first
        keystroke: the load gives way to any change queued (one that needs the program
        finishes it), and goes on when the thread is idle again. Once it is done, the
        long-lived objects are kept out of the collector's way (a full collection over them
        is a 30-50 ms pause in the middle of an update)."""
        updater = self._updater
        if updater is None or self._frozen or self.state != "ready":
            return
        scheduler = self.scheduler
        if updater.preload_program(stop=lambda: scheduler.is_closed or scheduler.queued > 0):
            gc.collect()
            gc.freeze()
            self._frozen = True

    def _between_batches(self, demand_waits: bool) -> bool:
        """Between two batches of a first index: the editor's notices (open documents)."""
        batch = self.scheduler.take_urgent(undue=demand_waits)
        if batch is None:
            return False
        try:
            self._handle(batch)
        finally:
            self.scheduler.done(batch)
        return True

    def _batch_committed(self) -> None:
        self._dirty = True
        self.cache.clear()  # the batch wrote no cache keys: any answer may have grown

    def _rebuild(self) -> None:
        updater = self._updater
        assert updater is not None
        try:
            if self.readers is not None:
                self.readers.suspend(wait=5.0)
            updater.close()
            remove_database(self.settings.db_path)
            self._updater = GraphUpdater.open(self.settings)
            self.cache.clear()
            self._sync(rebuild=True)
            self._reapply_buffers()
        except Exception as exc:
            # failed before the waiting forge/reindex is answered, so its status says so
            self.state, self.error = "failed", failure_reason(exc)
            self._finish_rebuilds(exc)
            raise
        finally:
            if self.readers is not None:
                self.readers.invalidate()
        self._finish_rebuilds(None)

    def _reapply_buffers(self) -> None:
        """After a rebuild the graph holds the files on disk; open documents are the truth, so
        their buffers go back in (the sync left them out)."""
        assert self._updater is not None
        parsed = self.documents.reparse_all(self._updater.stored_hash, self._git_ignored)
        if parsed:
            report = self._updater.apply(parsed=parsed)
            self._dirty = True
            self.cache.invalidate(report.touched)

    def _finish_rebuilds(self, error: BaseException | None) -> None:
        with self._lock:
            futures, self._rebuilds = self._rebuilds, []
        for future in futures:
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

    # ----- live updates ----------------------------------------------------------------------

    def _apply(self, batch: Batch) -> None:
        updater = self._updater
        assert updater is not None
        started = time.perf_counter()
        parsed: list[Result] = []
        parse_ms: dict[str, float] = {}
        disk: list[str] = []
        for notice in batch.notices:
            if notice.kind == BUFFER and notice.data is not None:
                t0 = time.perf_counter()
                stored = updater.stored_hash(notice.path)
                result = self.documents.parse(
                    notice.path, notice.data, notice.edits, stored, self._git_ignored
                )
                if result is not None:
                    parsed.append(result)
                    parse_ms[notice.path] = 1000 * (time.perf_counter() - t0)
            else:
                if notice.kind == CLOSED:
                    self.documents.forget(notice.path)
                disk.append(notice.path)
        jobs, removed, rescan = disk_work(
            disk,
            settings=self.settings,
            path_filter=self.filter,
            states=updater.states,
            skip=self.open_paths,
            git=self._git,
        )
        if rescan:
            self.scheduler.rescan()
        if not parsed and not jobs and not removed:
            return  # nothing changed (a buffer equal to the graph, paths discovery skips)
        count = len(jobs) + len(removed)
        progress, pool = self._storm.batch(count, self.scheduler.queued)
        report = updater.apply(
            parsed=parsed, jobs=jobs, removed=removed, progress=progress, pool=pool
        )
        self._dirty = True
        invalidated = self.cache.invalidate(report.touched)
        now = time.monotonic()
        self.metrics.record(
            report,
            kind="storm" if self._storm.active else "edit" if parsed else "disk",
            latencies=[1000 * (now - n.since) for n in batch.notices],
            parse_ms=parse_ms,
            invalidated=invalidated,
            seconds=time.perf_counter() - started,
        )
        for warning in report.warnings[:20]:
            log.warning("%s: %s", self.settings.root.name, warning)
        self._storm.applied(count, self.scheduler.queued)

    def _git_ignored(self, path: str) -> bool:
        return bool(self._git) and bool(git_ignored(self.settings.root, [self.rel(path)]))
