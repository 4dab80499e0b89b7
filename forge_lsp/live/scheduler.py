"""Change notices in, batches of work out: the queue between the editor and watcher and the writer.

Notices are coalesced per path (the newest wins; an open document's consecutive edits are
concatenated, so the tree can still be reparsed incrementally), held back for a configurable
debounce, and handed out in batches: every due open-document update first, then disk changes
up to a batch limit. The queue is bounded: past `max_pending` disk changes (a branch switch,
a code generator), the individual notices are dropped for one rescan, which compares every file
with the graph anyway.

Every notice gets a sequence number. `wait` blocks until every open-document notice up to a
number has been applied: a request that arrives after an edit waits for that edit, and only
for it (a storm of disk changes never holds up navigation).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from forge_lsp.parsing.incremental import ByteEdit

BUFFER = "buffer"  # an open document's text
CLOSED = "closed"  # a document was closed: the disk is the truth again
DISK = "disk"  # something changed on disk at this path (created, modified, deleted, a directory)


@dataclass(slots=True)
class Notice:
    """The pending work for one path."""

    path: str
    kind: str
    data: bytes | None = None  # BUFFER: the full new text
    edits: list[ByteEdit] | None = None  # BUFFER: edits since the previous text; None: reparse
    first_seq: int = 0  # the oldest notice this one stands for
    seq: int = 0
    since: float = 0.0  # monotonic time of the oldest notice, for latency
    due: float = 0.0

    @property
    def urgent(self) -> bool:
        return self.kind != DISK


@dataclass(slots=True)
class Batch:
    notices: list[Notice] = field(default_factory=list)
    rescan: bool = False
    rebuild: bool = False

    @property
    def paths(self) -> list[str]:
        return [n.path for n in self.notices]


class UpdateScheduler:
    def __init__(
        self,
        *,
        debounce: float = 0.0,
        batch_limit: int = 500,
        max_pending: int = 5000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.debounce = debounce
        self.batch_limit = batch_limit
        self.max_pending = max_pending
        self._clock = clock
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self._pending: dict[str, Notice] = {}
        self._in_flight: list[Notice] = []
        self._seq = 0
        self._rescan = False
        self._rebuild = False
        self._closed = False
        self.overflows = 0

    # ----- submitting ------------------------------------------------------------------------

    def buffer(self, path: str, data: bytes, edits: Sequence[ByteEdit] | None) -> int:
        """An open document's new text (`edits`: how it follows from the previous one)."""
        with self._lock:
            old = self._pending.get(path)
            if old is not None and old.kind == BUFFER and old.edits is not None and edits:
                merged: list[ByteEdit] | None = [*old.edits, *edits]
            else:
                merged = list(edits) if edits and old is None else None
            return self._put(Notice(path, BUFFER, data, merged))

    def document_closed(self, path: str) -> int:
        with self._lock:
            return self._put(Notice(path, CLOSED))

    def disk(self, paths: Iterable[str]) -> int:
        """Paths that changed on disk; ignored while an editor notice for them is pending."""
        with self._lock:
            seq = self._seq
            for path in paths:
                old = self._pending.get(path)
                if old is None or not old.urgent:
                    seq = self._put(Notice(path, DISK))
            if sum(1 for n in self._pending.values() if not n.urgent) > self.max_pending:
                self._overflow()
            return seq

    def rescan(self) -> int:
        """Compare every file with the graph (start-up, a storm, a changed .gitignore)."""
        with self._lock:
            self._seq += 1
            self._rescan = True
            self._changed.notify_all()
            return self._seq

    def rebuild(self) -> int:
        """Throw the graph away and index from scratch."""
        with self._lock:
            self._seq += 1
            self._rebuild = True
            self._changed.notify_all()
            return self._seq

    def _put(self, notice: Notice) -> int:
        self._seq += 1
        now = self._clock()
        old = self._pending.get(notice.path)
        notice.seq = self._seq
        notice.first_seq = old.first_seq if old is not None else self._seq
        notice.since = old.since if old is not None else now
        notice.due = now + self.debounce
        self._pending[notice.path] = notice
        self._changed.notify_all()
        return self._seq

    def _overflow(self) -> None:
        self._pending = {p: n for p, n in self._pending.items() if n.urgent}
        self._rescan = True
        self.overflows += 1

    # ----- taking ----------------------------------------------------------------------------

    def take(self, timeout: float | None = None) -> Batch | None:
        """The next batch of due work, waiting up to `timeout` s for some; None if none came.

        The batch is in flight until `done` is called with it.
        """
        deadline = None if timeout is None else self._clock() + timeout
        with self._lock:
            while True:
                if self._closed:
                    return None
                batch = self._due_batch()
                if batch is not None:
                    self._in_flight = batch.notices
                    return batch
                now = self._clock()
                wait = None if deadline is None else deadline - now
                if wait is not None and wait <= 0:
                    return None
                next_due = min((n.due for n in self._pending.values()), default=None)
                if next_due is not None:
                    wait = min(wait, next_due - now) if wait is not None else next_due - now
                self._changed.wait(max(wait, 0.001) if wait is not None else None)

    def take_urgent(self, *, undue: bool = False) -> Batch | None:
        """The due editor notices (open documents; `undue`: debounced ones too) and nothing
        else, without waiting: what a first index in batches applies between its batches."""
        with self._lock:
            now = self._clock()
            urgent = [n for n in self._pending.values() if n.urgent and (undue or n.due <= now)]
            if self._closed or not urgent:
                return None
            for notice in urgent:
                del self._pending[notice.path]
            self._in_flight = urgent
            return Batch(urgent)

    def _due_batch(self) -> Batch | None:
        if self._rebuild:
            self._rebuild = self._rescan = False
            self._pending = {p: n for p, n in self._pending.items() if n.urgent}
            return Batch(rebuild=True)
        now = self._clock()
        urgent = [n for n in self._pending.values() if n.urgent and n.due <= now]
        if urgent:
            for notice in urgent:
                del self._pending[notice.path]
            return Batch(urgent)
        if self._rescan:
            self._rescan = False
            # the rescan sees every disk change: individual notices would only repeat it
            self._pending = {p: n for p, n in self._pending.items() if n.urgent}
            return Batch(rescan=True)
        due = sorted((n for n in self._pending.values() if n.due <= now), key=lambda n: n.path)[
            : self.batch_limit
        ]
        if not due:
            return None
        for notice in due:
            del self._pending[notice.path]
        return Batch(due)

    def done(self, batch: Batch) -> None:
        with self._lock:
            if self._in_flight is batch.notices:
                self._in_flight = []
            self._changed.notify_all()

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._changed.notify_all()

    @property
    def is_closed(self) -> bool:
        return self._closed

    # ----- waiting ---------------------------------------------------------------------------

    def _outstanding(self, seq: int, urgent_only: bool) -> bool:
        notices = (*self._pending.values(), *self._in_flight)
        return any(n.first_seq <= seq and (n.urgent or not urgent_only) for n in notices)

    def wait(
        self,
        seq: int,
        timeout: float,
        cancelled: Callable[[], bool] = lambda: False,
        *,
        urgent_only: bool = True,
    ) -> bool:
        """Wait until every open-document notice up to `seq` is applied (every notice, with
        `urgent_only=False`); False on timeout."""
        deadline = self._clock() + timeout
        with self._lock:
            while self._outstanding(seq, urgent_only):
                left = deadline - self._clock()
                if left <= 0 or cancelled() or self._closed:
                    return False
                self._changed.wait(min(left, 0.05))
            return True

    def pending_paths(self) -> list[str]:
        """Paths with work not applied yet (queued or being applied)."""
        with self._lock:
            return sorted({*self._pending, *(n.path for n in self._in_flight)})

    @property
    def queued(self) -> int:
        """Work waiting to be taken (not counting the batch being applied)."""
        with self._lock:
            return len(self._pending) + int(self._rescan or self._rebuild)

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._pending) + len(self._in_flight) + int(self._rescan or self._rebuild)
