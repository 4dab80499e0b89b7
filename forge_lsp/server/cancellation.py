"""Stopping a request's database work when the client cancels it (`$/cancelRequest`).

pygls cancels the asyncio task of a cancelled request at once, and answers RequestCancelled; the
query itself runs on a worker thread and would go on to the end. A per-request event, checked by
SQLite every few thousand VM steps through the connection's progress handler, stops a long
statement early (InterruptError, turned into Cancelled here); between statements, handlers call
`check` so a walk made of many short statements stops too.

The statement-level stop is the engine's `GraphQuery.interruptible`; this module only ties it
to the request's event and turns its exception into Cancelled.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from forge_lsp.graph.queries import GraphQuery, QueryInterrupted


class Cancelled(Exception):
    """The request was cancelled by the client; its answer is no longer wanted."""


@contextmanager
def interruptible(query: GraphQuery, cancel: threading.Event | None) -> Iterator[None]:
    """While inside, every statement on `query` stops soon after `cancel` is set."""
    if cancel is None:
        yield
        return
    try:
        with query.interruptible(cancel.is_set):
            yield
    except QueryInterrupted as exc:
        raise Cancelled() from exc


def check(cancel: threading.Event | None) -> None:
    """Raise Cancelled between two pieces of Python work when the request was cancelled."""
    if cancel is not None and cancel.is_set():
        raise Cancelled()
