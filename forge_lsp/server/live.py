"""The live graphs' side of the protocol: `$/progress` for index runs and storms, error messages,
and leaving cleanly (or abruptly) while an update is under way.

Each folder's LiveGraph (forge_lsp.live) reports progress from its updater thread; this bridge
carries the events to the event loop, asks the client for a token per run (`window/
workDoneProgress/create`, when the client offers work-done progress) and sends begin, report and
end in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import uuid
from dataclasses import replace

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from forge_lsp.live.interface import ProgressEvent

log = logging.getLogger(__name__)


class ProgressBridge:
    """A LiveListener that turns progress events into `$/progress` notifications."""

    def __init__(self, server: LanguageServer) -> None:
        self.server = server
        self.loop: asyncio.AbstractEventLoop | None = None
        self._tokens: dict[int, asyncio.Task[str | None]] = {}
        self._sends: set[asyncio.Task[None]] = set()  # kept until done (asyncio holds weak refs)

    # called on updater threads
    def progress(self, event: ProgressEvent) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._on_event, replace(event))

    def failed(self, message: str) -> None:
        loop = self.loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._show_error, message)

    # on the event loop
    def _show_error(self, message: str) -> None:
        self.server.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=f"forge-lsp: {message}")
        )

    def _supported(self) -> bool:
        caps = self.server.client_capabilities
        return bool(caps.window and caps.window.work_done_progress)

    def _on_event(self, event: ProgressEvent) -> None:
        if not self._supported():
            return
        token = self._tokens.get(event.run)
        first = token is None
        if token is None:
            token = self._tokens[event.run] = asyncio.ensure_future(self._begin(event))
        if not first or event.done or event.finished:
            # Sends wait for the token in the order they were made: reports stay in order.
            send = asyncio.ensure_future(self._send(token, event))
            self._sends.add(send)
            send.add_done_callback(self._sends.discard)
        if event.finished:
            self._tokens.pop(event.run, None)

    async def _begin(self, event: ProgressEvent) -> str | None:
        token = str(uuid.uuid4())
        try:
            await self.server.work_done_progress.create_async(token)
        except Exception as exc:  # a client that refuses: carry on without progress
            log.info("client refused a progress token: %s", exc)
            return None
        self.server.work_done_progress.begin(
            token,
            types.WorkDoneProgressBegin(
                title=event.title, message="looking for files", percentage=0, cancellable=False
            ),
        )
        return token

    async def _send(self, token_task: asyncio.Task[str | None], event: ProgressEvent) -> None:
        token = await token_task
        if token is None:
            return
        if event.finished:
            self.server.work_done_progress.end(
                token, types.WorkDoneProgressEnd(message=event.message)
            )
            return
        percent = 100 * event.done // event.total if event.total else 0
        self.server.work_done_progress.report(
            token,
            types.WorkDoneProgressReport(message=event.message, percentage=min(percent, 100)),
        )


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


def abandon() -> None:
    """Before exiting mid-index: stop this process's parse workers, which would not notice.

    The engine's pool workers (forked by the multiprocessing forkserver) block forever on
    their queue once this process is gone; they are our descendants, ended by pid.
    """
    for pid in descendants(os.getpid()):
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGTERM)
