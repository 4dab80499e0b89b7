"""What a live graph is configured with and tells its owner: options, progress events, the
listener the server implements, and the read connections it puts aside during a rebuild."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from forge_lsp.graph.store import StoreError
from forge_lsp.indexing.report import IndexReport


@dataclass(frozen=True, slots=True)
class LiveOptions:
    debounce: float = 0.0  # seconds a change notice waits for more before it is applied
    cache_size: int = 4096  # answers kept in the query cache
    watch: bool = True  # run our own file watcher
    metrics_log: bool = False  # one JSON log line per applied batch
    batch_limit: int = 200  # disk changes applied per transaction
    max_pending: int = 2000  # more queued disk changes than this become one rescan
    first_index_batch: int = 256  # files a first index commits at once, between questions


@dataclass(slots=True)
class ProgressEvent:
    run: int  # one id per index run or storm, for begin/report/end
    title: str
    done: int
    total: int
    finished: bool = False
    message: str = ""


class LiveListener(Protocol):
    def progress(self, event: ProgressEvent) -> None: ...

    def failed(self, message: str) -> None: ...


class Readers(Protocol):
    """The folder's read connections, put aside while the database file is replaced."""

    def suspend(self, *, wait: float) -> None: ...

    def invalidate(self) -> None: ...


class Announcer:
    """What the live graph tells its listener, if it has one: progress of index runs and
    storms (one run id each, for begin/report/end), and failures."""

    def __init__(self, listener: LiveListener | None) -> None:
        self.listener = listener
        self._run_ids = 0

    def begin(self, title: str, total: int) -> ProgressEvent:
        self._run_ids += 1
        event = ProgressEvent(self._run_ids, title, 0, total)
        if self.listener is not None:
            self.listener.progress(event)
        return event

    def report(
        self, event: ProgressEvent, done: int, finished: bool = False, message: str = ""
    ) -> None:
        event.done, event.finished, event.message = done, finished, message
        if self.listener is not None:
            self.listener.progress(event)

    def failed(self, message: str) -> None:
        if self.listener is not None:
            self.listener.failed(message)


def failure_reason(exc: Exception) -> str:
    """What `forge/status` says a folder failed of: a StoreError is written for users already
    (a refused root, a full disk); anything else is named by its type for the bug report."""
    return str(exc) if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"


def log_index(log: logging.Logger, root: Path, report: IndexReport) -> str:
    """What a finished index run writes to the log; returns its summary line."""
    summary = (
        f"{report.files} files ({report.parsed} parsed), {report.symbols} symbols,"
        f" {report.references} references in {report.seconds:.2f} s"
    )
    log.info("indexed %s: %s", root, summary)
    if not report.files:
        log.warning("%s: no source files found (all excluded, too large, or ignored by git)", root)
    for warning in report.warnings[:20]:
        log.warning("%s: %s", root.name, warning)
    return summary
