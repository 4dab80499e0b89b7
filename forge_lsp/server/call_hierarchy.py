"""`textDocument/prepareCallHierarchy` and `callHierarchy/incomingCalls|outgoingCalls`.

An item carries its symbol id and folder in `data`; ids change on a rebuild, so an item whose
id no longer names its symbol is found again by its position.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from lsprotocol import types

from forge_lsp.graph.model import CallGroup, Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.server.app import ForgeServer, request
from forge_lsp.server.cancellation import check
from forge_lsp.server.convert import Converter
from forge_lsp.server.documents import TextSnapshot
from forge_lsp.server.first_answers import indexed_for
from forge_lsp.server.requests import document_request, require_fresh, symbol_at
from forge_lsp.server.workspace import Folder

_CallT = TypeVar("_CallT")

CALLABLE_KINDS = ("function", "method", "class")


async def prepare_calls(
    ls: ForgeServer, params: types.CallHierarchyPrepareParams
) -> list[types.CallHierarchyItem] | None:
    asked = await document_request(ls, params.text_document.uri)
    if asked is None:
        return None

    def work(cancel: threading.Event) -> list[types.CallHierarchyItem] | None:
        folder, text = asked.folder, asked.text
        require_fresh(ls, folder, asked.seq, cancel)
        with folder.pool.query(cancel) as query:
            sym = symbol_at(query, text, asked.path, params.position) if query else None
        if sym is None or sym.kind not in CALLABLE_KINDS:
            return None
        return [Converter(folder, text).call_item(sym)]

    return await ls.run(work)


async def incoming_calls(
    ls: ForgeServer, params: types.CallHierarchyIncomingCallsParams
) -> list[types.CallHierarchyIncomingCall]:
    return await _hierarchy_calls(ls, params.item, True, Converter.incoming)


async def outgoing_calls(
    ls: ForgeServer, params: types.CallHierarchyOutgoingCallsParams
) -> list[types.CallHierarchyOutgoingCall]:
    return await _hierarchy_calls(ls, params.item, False, Converter.outgoing)


async def _hierarchy_calls(
    ls: ForgeServer,
    item: types.CallHierarchyItem,
    incoming: bool,
    convert: Callable[[Converter, list[CallGroup]], list[_CallT]],
) -> list[_CallT]:
    """Incoming and outgoing calls differ only in the direction asked and the LSP type built."""
    folder = _item_folder(ls, item)
    if folder is None:
        return []
    located = ls.locate(item.uri)
    if located is not None and located[0] is folder:
        early = ls.snapshot()
        uses = (lambda q: _item_symbol(ls, item, folder, q, early)) if incoming else None
        await indexed_for(ls, folder, located[1], uses)
    text = ls.snapshot()
    probable = ls.options.include_probable
    seq = folder.editor_seq

    def work(cancel: threading.Event) -> list[_CallT]:
        require_fresh(ls, folder, seq, cancel)
        with folder.pool.query(cancel) as query:
            sym = _item_symbol(ls, item, folder, query, text) if query else None
            if query is None or sym is None:
                return []
            groups = folder.live.queries.calls(query, sym, incoming=incoming, probable=probable)
        check(cancel)
        return convert(Converter(folder, text), groups)

    return await ls.run(work)


def _item_symbol(
    ls: ForgeServer,
    item: types.CallHierarchyItem,
    folder: Folder,
    query: GraphQuery,
    text: TextSnapshot,
) -> Symbol | None:
    """The symbol a call hierarchy item stands for: by the id in `data`, else by its position."""
    data = item.data if isinstance(item.data, dict) else {}
    symbol_id = data.get("id")
    if isinstance(symbol_id, int) and not isinstance(symbol_id, bool):
        sym = query.symbol(symbol_id)
        if sym is not None and sym.name == data.get("name", sym.name):
            return sym
    located = ls.locate(item.uri)  # ids change on a rebuild: fall back to where the item is
    if located is None or located[0] is not folder:
        return None
    return symbol_at(query, text, located[1], item.selection_range.start)


def _item_folder(ls: ForgeServer, item: types.CallHierarchyItem) -> Folder | None:
    data = item.data if isinstance(item.data, dict) else {}
    folder = ls.workspaces.by_uri(data["folder"]) if isinstance(data.get("folder"), str) else None
    if folder is None:
        located = ls.locate(item.uri)
        folder = located[0] if located is not None else None
    return folder


def register(server: ForgeServer) -> None:
    request(server, types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY)(prepare_calls)
    request(server, types.CALL_HIERARCHY_INCOMING_CALLS)(incoming_calls)
    request(server, types.CALL_HIERARCHY_OUTGOING_CALLS)(outgoing_calls)
