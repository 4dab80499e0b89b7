"""Storms: many files changed on disk at once (a branch switch, a code generator, a rebase).

A storm is reported as one `$/progress` run however many batches it takes, and its files are
parsed in worker processes: on one core a 2,000-file branch switch parses for seconds while
the other cores idle. The workers start with the first batch large enough to pay for them and
stop when the storm is over, so that a server at rest holds no idle processes.
"""

from __future__ import annotations

from forge_lsp.indexing.updater import Progress
from forge_lsp.indexing.worker import JobPool
from forge_lsp.live.interface import Announcer, ProgressEvent

STORM_FILES = 20  # a disk batch this large (or larger) reports $/progress


class Storm:
    """The storm under way, if any: its progress event and its worker pool."""

    def __init__(self, announce: Announcer, workers: int, title: str) -> None:
        self._announce = announce
        self._title = title
        self._event: ProgressEvent | None = None
        # started by the first batch large enough to pay for it (JobPool.run decides)
        self._pool = JobPool(workers)
        self._offset = 0  # files of the storm done before the batch in hand

    @property
    def active(self) -> bool:
        return self._event is not None

    def batch(self, files: int, queued: int) -> tuple[Progress, JobPool]:
        """A batch of `files` changes, `queued` more waiting: its progress callback and the
        pool to parse in (which parses a few files in this process until it has started)."""
        if self._event is None and files >= STORM_FILES:
            self._event = self._announce.begin(self._title, files + queued)
        event = self._event
        offset = self._offset = event.done if event is not None else 0

        def progress(done: int, total: int) -> None:
            if event is not None and (done == total or done % 20 == 0):
                event.total = max(event.total, offset + total)
                message = f"{offset + done}/{event.total} files"
                self._announce.report(event, offset + done, message=message)

        return progress, self._pool

    def applied(self, files: int, queued: int) -> None:
        """The batch is in the graph; with nothing `queued` the storm is over."""
        event = self._event
        if event is not None:
            event.done = self._offset + files
            if queued == 0:
                message = f"{event.done} files updated"
                self._announce.report(event, event.done, finished=True, message=message)
                self._event = None
        if queued == 0:
            self.close()

    def close(self) -> None:
        """Stop the workers (the storm is over, or the server is); a later storm starts them
        again."""
        self._pool.close()
