"""Questions asked while a folder's first index runs: each waits, on the event loop, until the
files its answer reads are in the graph, rather than for the whole index (live/first_index.py).

The file the question is asked in comes first, with what its resolution consults: that is
enough for a definition or the symbol at the position. A question about a symbol's uses
(references, incoming calls) then asks for every file that can spell one of the symbol's names;
the names are asked of the graph again once those are in, because an alias found there (`from m
import X as Y`) is spelled differently, until no new name appears. All of it is bounded by
`firstIndexWaitMs` in all; a cancel from the client withdraws the question.

An answer that could not wait long enough may be incomplete, and an editor shows an empty one as
"No results": the first time that happens in a folder's first index, the user is told, with a
`window/showMessage`, that forge-lsp is still indexing and how far it has got.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future

from lsprotocol import types

from forge_lsp.live.first_index import UsesOf
from forge_lsp.server.app import ForgeServer
from forge_lsp.server.workspace import Folder

_POLL = 0.02  # seconds between looks at first indexes that take no questions (workspace/symbol)


async def first_index(ls: ForgeServer, *folders: Folder) -> None:
    """Wait for the whole first index of each folder (at most `firstIndexWaitMs` in all,
    however many folders): for questions that read every file."""
    deadline = time.monotonic() + ls.options.first_index_wait_ms / 1000
    while any(f.live.indexing_first for f in folders) and time.monotonic() < deadline:
        await asyncio.sleep(_POLL)
    for folder in folders:
        _tell_if_still_indexing(ls, folder)


async def indexed_for(
    ls: ForgeServer, folder: Folder, path: str, uses_of: UsesOf | None = None
) -> None:
    """Wait until what a question asked in `path` needs is indexed; `uses_of` finds the
    symbol whose uses it asks for (on the folder's updater thread, in the graph as it grows)."""
    live = folder.live
    if live.indexing_first:
        deadline = time.monotonic() + ls.options.first_index_wait_ms / 1000
        if not await _until(live.demand([path], uses_of), deadline):
            _tell_if_still_indexing(ls, folder)


def _tell_if_still_indexing(ls: ForgeServer, folder: Folder) -> None:
    """Say, once per folder, that an answer comes from a graph still being built."""
    live = folder.live
    if not live.indexing_first or folder.told_still_indexing:
        return
    folder.told_still_indexing = True
    done = f" ({live.done:,} of {live.total:,} files)" if live.total else ""
    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Info,
            message=f"forge-lsp is still indexing {folder.name}{done}: answers may be"
            " incomplete until it finishes",
        )
    )


async def _until(future: Future[None], deadline: float) -> bool:
    """Whether the demand was met before the deadline (if not, it is withdrawn)."""
    try:
        await asyncio.wait_for(asyncio.wrap_future(future), max(0.0, deadline - time.monotonic()))
    except TimeoutError:
        return False
    return True
