"""Background indexing of workspace folders, with `$/progress` and the state `forge/status` reports.

The engine's `index_workspace` is a blocking call (one write transaction, a process pool for
parsing). It runs on its own daemon thread so that the message loop never waits for it, and so
that an `exit` never has to wait for it either: an index cut short is a transaction never
committed, and the previous graph stays as it was. One folder is indexed at a time (the pool
already uses every core). A folder asked to index again while it is indexing runs once more
after, however many times it was asked: index_workspace is incremental, so that run is cheap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from forge_lsp.graph.store import remove_database
from forge_lsp.indexing.indexer import IndexReport, index_workspace
from forge_lsp.server.workspace import Folder

log = logging.getLogger(__name__)

_REPORT_INTERVAL = 0.1  # seconds between two $/progress reports: enough to look alive


@dataclass(slots=True)
class IndexState:
    """What one folder's indexing is doing; read by forge/status from the loop thread."""

    state: str = "queued"  # queued | indexing | ready | failed
    done: int = 0
    total: int = 0
    report: IndexReport | None = None
    error: str | None = None
    started: float = 0.0
    runs: int = 0
    again: bool = False
    rebuild: bool = False
    task: asyncio.Task[None] | None = None

    @property
    def pending_files(self) -> int:
        return max(0, self.total - self.done) if self.state == "indexing" else 0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (Linux /proc; elsewhere none are found)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found: list[int] = []
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


class BackgroundIndexer:
    """Runs index_workspace for folders, one at a time, reporting progress to the client."""

    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.states: dict[str, IndexState] = {}
        self._one_at_a_time = asyncio.Lock()
        self._closing = False

    def state(self, folder: Folder) -> IndexState:
        return self.states.setdefault(folder.uri, IndexState())

    def schedule(self, folder: Folder, *, rebuild: bool = False) -> asyncio.Task[None]:
        """Index `folder` soon; the task ends when the graph reflects the disk as of now."""
        state = self.state(folder)
        state.rebuild = state.rebuild or rebuild
        if state.task is None or state.task.done():
            state.task = asyncio.ensure_future(self._run(folder, state))
        else:
            state.again = True
        return state.task

    def forget(self, folder: Folder) -> None:
        self.states.pop(folder.uri, None)

    @property
    def busy(self) -> bool:
        return any(s.task is not None and not s.task.done() for s in self.states.values())

    async def close(self, timeout: float) -> bool:
        """Start nothing new; wait up to `timeout` s for a running index to commit.

        Returns False when an index was still running (its transaction will not be committed).
        """
        self._closing = True
        tasks = [s.task for s in self.states.values() if s.task is not None and not s.task.done()]
        if not tasks:
            return True
        _done, pending = await asyncio.wait(tasks, timeout=timeout)
        return not pending

    def abandon(self) -> None:
        """Before exiting mid-index: stop this process's parse workers, which would not notice.

        The engine's pool workers (forked by the multiprocessing forkserver) block forever on
        their queue once this process is gone; they are our descendants, ended by pid.
        """
        for pid in descendants(os.getpid()):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGTERM)

    async def _run(self, folder: Folder, state: IndexState) -> None:
        while not self._closing:
            state.again = False
            rebuild, state.rebuild = state.rebuild, False
            async with self._one_at_a_time:
                if self._closing:
                    return
                await self._index_once(folder, state, rebuild)
            if not state.again:
                return

    # ----- one run ---------------------------------------------------------------------------

    def _supports_progress(self) -> bool:
        caps = self.server.client_capabilities
        return bool(caps.window and caps.window.work_done_progress)

    async def _begin(self, title: str) -> str | None:
        if not self._supports_progress():
            return None
        token = str(uuid.uuid4())
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception as exc:  # a client that refuses: index anyway, silently
            log.info("client refused a progress token: %s", exc)
            return None
        self.server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=title, message="looking for files", percentage=0, cancellable=False
            ),
        )
        return token

    def _report(self, token: str, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        self.server.work_done_progress.report(
            token,
            types.WorkDoneProgressReport(message=f"{done}/{total} files", percentage=percent),
        )

    async def _index_once(self, folder: Folder, state: IndexState, rebuild: bool) -> None:
        loop = asyncio.get_running_loop()
        token = await self._begin(
            f"forge-lsp: {'rebuilding' if rebuild else 'indexing'} {folder.name}"
        )
        state.state, state.done, state.total = "indexing", 0, 0
        state.started = time.monotonic()
        state.runs += 1
        last = [0.0]

        def progress(done: int, total: int) -> None:  # on the indexing thread
            state.done, state.total = done, total
            now = time.monotonic()
            if token is not None and (now - last[0] >= _REPORT_INTERVAL or done == total):
                last[0] = now
                loop.call_soon_threadsafe(self._report, token, done, total)

        finished: asyncio.Future[IndexReport] = loop.create_future()

        def deliver(report: IndexReport | None, error: BaseException | None) -> None:
            if finished.done():
                return
            if error is not None:
                finished.set_exception(error)
            else:
                finished.set_result(report)  # type: ignore[arg-type]

        def work() -> None:
            try:
                if rebuild:
                    folder.pool.suspend(wait=5.0)
                    remove_database(folder.settings.db_path)
                report = index_workspace(folder.settings, progress=progress)
            except BaseException as exc:
                loop.call_soon_threadsafe(deliver, None, exc)
            else:
                loop.call_soon_threadsafe(deliver, report, None)
            finally:
                folder.pool.invalidate()

        threading.Thread(target=work, name=f"forge-index:{folder.name}", daemon=True).start()
        try:
            report = await finished
        except Exception as exc:
            state.state, state.error = "failed", f"{type(exc).__name__}: {exc}"
            log.error("indexing %s failed", folder.settings.root, exc_info=exc)
            self.server.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Error,
                    message=f"forge-lsp: indexing {folder.name} failed: {exc}",
                )
            )
            if token is not None:
                self.server.work_done_progress.end(
                    token, types.WorkDoneProgressEnd(message=f"failed: {exc}")
                )
            return
        state.state, state.report, state.error = "ready", report, None
        summary = (
            f"{report.files} files ({report.parsed} parsed), {report.symbols} symbols,"
            f" {report.references} references in {report.seconds:.2f} s"
        )
        log.info("indexed %s: %s", folder.settings.root, summary)
        if not report.files:
            log.warning(
                "%s: no source files found (all excluded, too large, or ignored by git)",
                folder.settings.root,
            )
        for warning in report.warnings[:20]:
            log.warning("%s: %s", folder.name, warning)
        if token is not None:
            self.server.work_done_progress.end(token, types.WorkDoneProgressEnd(message=summary))
