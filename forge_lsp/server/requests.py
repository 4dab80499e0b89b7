"""What every query request does before it asks the graph: find the folder and path of its
document, wait (bounded) for the first index to cover what the answer reads, take the text
snapshot and the editor sequence number its answer must reflect.

Read your writes: a request first waits (bounded by `freshnessTimeoutMs`) until every editor
change that arrived before it is in the graph. If that takes too long it fails with
ContentModified (-32801), which clients retry or drop, rather than answer from a graph that does
not match the editor; `forge/impact` answers instead, with `partial: true` and the pending paths.
A request that arrives while a folder's first index runs waits (`firstIndexWaitMs`) until the
files its answer reads are indexed (server/first_answers.py), so that it gets the complete
answer rather than a partial one. A document outside every folder, or a folder with no graph
yet, gets an empty answer rather than an error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified

from forge_lsp.graph.model import Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.server.app import ForgeServer
from forge_lsp.server.cancellation import check
from forge_lsp.server.documents import TextSnapshot
from forge_lsp.server.first_answers import indexed_for
from forge_lsp.server.workspace import Folder

# the symbol whose uses the answer reads, asked of a graph as the first index grows
UsesAsked = Callable[[GraphQuery, TextSnapshot, str], Symbol | None]


@dataclass(frozen=True, slots=True)
class DocumentRequest:
    """A request about one document, ready to run on a query thread."""

    folder: Folder
    path: str
    text: TextSnapshot  # the editor's text when the request arrived
    seq: int  # the folder's editor changes the answer must include


async def document_request(
    ls: ForgeServer, uri: str, uses: UsesAsked | None = None
) -> DocumentRequest | None:
    """The prologue of a request about a document (None: outside every folder)."""
    located = ls.locate(uri)
    if located is None:
        return None
    folder, path = located
    if uses is None:
        await indexed_for(ls, folder, path)
    else:
        early = ls.snapshot()
        await indexed_for(ls, folder, path, lambda query: uses(query, early, path))
    return DocumentRequest(folder, path, ls.snapshot(), folder.editor_seq)


def symbol_at(
    query: GraphQuery, text: TextSnapshot, path: str, position: types.Position
) -> Symbol | None:
    column = text.from_client(path, position.line, position.character)
    return query.symbol_at(path, position.line, column)


def symbol_around(
    query: GraphQuery, text: TextSnapshot, path: str, position: types.Position
) -> Symbol | None:
    """The symbol named at the position, else the innermost one holding it, else the module."""
    column = text.from_client(path, position.line, position.character)
    named = query.symbol_at(path, position.line, column)
    return named or query.enclosing_symbol(path, position.line, column)


def fresh(ls: ForgeServer, folder: Folder, seq: int, cancel: threading.Event) -> bool:
    """Wait until the folder's graph has every editor change up to `seq`; False on timeout."""
    timeout = ls.options.freshness_timeout_ms / 1000
    return folder.live.wait_fresh(seq, timeout, cancel.is_set)


def require_fresh(ls: ForgeServer, folder: Folder, seq: int, cancel: threading.Event) -> None:
    """As `fresh`, failing with ContentModified on timeout (read your writes)."""
    if not fresh(ls, folder, seq, cancel):
        check(cancel)
        pending = folder.live.scheduler.pending_paths()
        raise JsonRpcContentModified(
            f"forge-lsp: the graph is still catching up with {len(pending)} changed file(s)"
        )
