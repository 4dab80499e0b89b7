"""Stopping a request's database work when the client cancels it (`$/cancelRequest`).

pygls cancels the asyncio task of a cancelled request at once, and answers RequestCancelled; the
query itself runs on a worker thread and would go on to the end. A per-request event, checked by
SQLite every few thousand VM steps through the connection's progress handler, stops a long
statement early (InterruptError, turned into Cancelled here); between statements, handlers call
`check` so a walk made of many short statements stops too.

This reaches into the read connection that GraphQuery owns. It is the one place the server layer
touches apsw; a `GraphQuery.interruptible(check)` in the engine would be the cleaner seam.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import apsw

from forge_lsp.graph.queries import GraphQuery

_STEPS = 10_000  # ~1-2 ms of SQLite work between checks: negligible cost, prompt stop
_HANDLER_ID = "forge-lsp-cancel"


class Cancelled(Exception):
    """The request was cancelled by the client; its answer is no longer wanted."""


@contextmanager
def interruptible(query: GraphQuery, cancel: threading.Event | None) -> Iterator[None]:
    """While inside, every statement on `query` stops soon after `cancel` is set."""
    if cancel is None:
        yield
        return
    query.conn.set_progress_handler(cancel.is_set, _STEPS, id=_HANDLER_ID)
    try:
        yield
    except apsw.InterruptError as exc:
        raise Cancelled() from exc
    finally:
        query.conn.set_progress_handler(None, id=_HANDLER_ID)


def check(cancel: threading.Event | None) -> None:
    """Raise Cancelled between two pieces of Python work when the request was cancelled."""
    if cancel is not None and cancel.is_set():
        raise Cancelled()
