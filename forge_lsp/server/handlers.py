"""The query features: each finds the folder, converts the position in, asks the graph, converts out.

Read your writes: a request first waits (bounded by `freshnessTimeoutMs`) until every editor
change that arrived before it is in the graph. If that takes too long it fails with
ContentModified (-32801), which clients retry or drop, rather than answer from a graph that does
not match the editor; `forge/impact` answers instead, with `partial: true` and the pending paths.
A request that arrives while a folder's first index runs waits (`firstIndexWaitMs`) until the
files its answer reads are indexed (server/first_answers.py), so that it gets the complete
answer rather than a partial one; `forge/status` never waits, and says the graph is partial. A document outside every folder, or a folder with no graph
yet, gets an empty answer rather than an error.

Answers go through the folder's query cache (forge_lsp.live.cache), which updates invalidate
precisely; finding the symbol at a position is always asked of the graph.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types
from pygls.exceptions import JsonRpcContentModified, JsonRpcInvalidParams

from forge_lsp import __version__
from forge_lsp.graph.model import CallGroup, Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.server.app import ForgeServer, request
from forge_lsp.server.cancellation import check
from forge_lsp.server.convert import Converter
from forge_lsp.server.documents import TextSnapshot
from forge_lsp.server.first_answers import first_index, indexed_for
from forge_lsp.server.workspace import Folder

_CallT = TypeVar("_CallT")

_CALLABLE_KINDS = ("function", "method", "class")
_WORKSPACE_SYMBOL_LIMIT = 200


def _symbol_at(
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


def _require_fresh(ls: ForgeServer, folder: Folder, seq: int, cancel: threading.Event) -> None:
    if not fresh(ls, folder, seq, cancel):
        check(cancel)
        pending = folder.live.scheduler.pending_paths()
        raise JsonRpcContentModified(
            f"forge-lsp: the graph is still catching up with {len(pending)} changed file(s)"
        )


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
    return _symbol_at(query, text, located[1], item.selection_range.start)


def _item_folder(ls: ForgeServer, item: types.CallHierarchyItem) -> Folder | None:
    data = item.data if isinstance(item.data, dict) else {}
    folder = ls.workspaces.by_uri(data["folder"]) if isinstance(data.get("folder"), str) else None
    if folder is None:
        located = ls.locate(item.uri)
        folder = located[0] if located is not None else None
    return folder


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
        _require_fresh(ls, folder, seq, cancel)
        with folder.pool.query(cancel) as query:
            sym = _item_symbol(ls, item, folder, query, text) if query else None
            if query is None or sym is None:
                return []
            groups = folder.live.queries.calls(query, sym, incoming=incoming, probable=probable)
        check(cancel)
        return convert(Converter(folder, text), groups)

    return await ls.run(work)


def register(server: ForgeServer) -> None:
    """Register the query features and the forge/* requests."""

    @request(server, types.TEXT_DOCUMENT_REFERENCES)
    async def references(ls: ForgeServer, params: types.ReferenceParams) -> list[types.Location]:
        located = ls.locate(params.text_document.uri)
        if located is None:
            return []
        folder, path = located
        early = ls.snapshot()
        await indexed_for(ls, folder, path, lambda q: _symbol_at(q, early, path, params.position))
        text = ls.snapshot()
        include_declaration = params.context.include_declaration
        probable = ls.options.include_probable
        seq = folder.editor_seq

        def work(cancel: threading.Event) -> list[types.Location]:
            _require_fresh(ls, folder, seq, cancel)
            with folder.pool.query(cancel) as query:
                sym = _symbol_at(query, text, path, params.position) if query else None
                if query is None or sym is None:
                    return []
                refs = folder.live.queries.references(
                    query, sym, include_declaration=include_declaration, probable=probable
                )
            check(cancel)
            convert = Converter(folder, text)
            return [convert.location(r.location) for r in refs]

        return await ls.run(work)

    @request(server, types.TEXT_DOCUMENT_DEFINITION)
    async def definition(ls: ForgeServer, params: types.DefinitionParams) -> list[types.Location]:
        located = ls.locate(params.text_document.uri)
        if located is None:
            return []
        folder, path = located
        await indexed_for(ls, folder, path)
        text = ls.snapshot()
        probable = ls.options.include_probable
        seq = folder.editor_seq

        def work(cancel: threading.Event) -> list[types.Location]:
            _require_fresh(ls, folder, seq, cancel)
            with folder.pool.query(cancel) as query:
                if query is None:
                    return []
                column = text.from_client(path, params.position.line, params.position.character)
                found = query.definition(
                    path, params.position.line, column, include_probable=probable
                )
            convert = Converter(folder, text)
            return [convert.location(s.selection) for s in found]

        return await ls.run(work)

    @request(server, types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY)
    async def prepare_calls(
        ls: ForgeServer, params: types.CallHierarchyPrepareParams
    ) -> list[types.CallHierarchyItem] | None:
        located = ls.locate(params.text_document.uri)
        if located is None:
            return None
        folder, path = located
        await indexed_for(ls, folder, path)
        text = ls.snapshot()
        seq = folder.editor_seq

        def work(cancel: threading.Event) -> list[types.CallHierarchyItem] | None:
            _require_fresh(ls, folder, seq, cancel)
            with folder.pool.query(cancel) as query:
                sym = _symbol_at(query, text, path, params.position) if query else None
            if sym is None or sym.kind not in _CALLABLE_KINDS:
                return None
            return [Converter(folder, text).call_item(sym)]

        return await ls.run(work)

    @request(server, types.CALL_HIERARCHY_INCOMING_CALLS)
    async def incoming_calls(
        ls: ForgeServer, params: types.CallHierarchyIncomingCallsParams
    ) -> list[types.CallHierarchyIncomingCall]:
        return await _hierarchy_calls(ls, params.item, True, Converter.incoming)

    @request(server, types.CALL_HIERARCHY_OUTGOING_CALLS)
    async def outgoing_calls(
        ls: ForgeServer, params: types.CallHierarchyOutgoingCallsParams
    ) -> list[types.CallHierarchyOutgoingCall]:
        return await _hierarchy_calls(ls, params.item, False, Converter.outgoing)

    @request(server, types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    async def document_symbols(
        ls: ForgeServer, params: types.DocumentSymbolParams
    ) -> list[types.DocumentSymbol]:
        located = ls.locate(params.text_document.uri)
        if located is None:
            return []
        folder, path = located
        await indexed_for(ls, folder, path)
        text = ls.snapshot()
        seq = folder.editor_seq

        def work(cancel: threading.Event) -> list[types.DocumentSymbol]:
            _require_fresh(ls, folder, seq, cancel)
            with folder.pool.query(cancel) as query:
                tree = folder.live.queries.document_symbols(query, path) if query else []
            return Converter(folder, text).document_symbols(tree)

        return await ls.run(work)

    @request(server, types.WORKSPACE_SYMBOL)
    async def workspace_symbols(
        ls: ForgeServer, params: types.WorkspaceSymbolParams
    ) -> list[types.WorkspaceSymbol]:
        await first_index(ls, *ls.workspaces.folders)
        folders = [(f, f.editor_seq) for f in ls.workspaces.folders]
        text = ls.snapshot()

        def work(cancel: threading.Event) -> list[types.WorkspaceSymbol]:
            out: list[types.WorkspaceSymbol] = []
            for folder, seq in folders:
                _require_fresh(ls, folder, seq, cancel)
                with folder.pool.query(cancel) as query:
                    if query is None:
                        continue
                    found = folder.live.queries.workspace_symbols(
                        query, params.query, _WORKSPACE_SYMBOL_LIMIT
                    )
                convert = Converter(folder, text)
                out.extend(convert.workspace_symbol(s) for s in found)
                check(cancel)
            return out[:_WORKSPACE_SYMBOL_LIMIT]

        return await ls.run(work)

    @request(server, "forge/status")
    async def forge_status(ls: ForgeServer, params: Any) -> dict[str, Any]:
        return await ls.run(lambda cancel: status(ls))

    @request(server, "forge/reindex")
    async def forge_reindex(ls: ForgeServer, params: Any) -> dict[str, Any]:
        """Rebuild from scratch (delete the database, index again) and answer when done."""
        folders = list(ls.workspaces.folders)
        uri = params.get("folder") if isinstance(params, dict) else None
        if uri is not None:
            folder = ls.workspaces.by_uri(uri) if isinstance(uri, str) else None
            if folder is None:
                raise JsonRpcInvalidParams(f"folder must be the URI of a workspace folder: {uri!r}")
            folders = [folder]
        futures = [asyncio.wrap_future(f.live.rebuild()) for f in folders]
        for future in futures:
            # cancelling this request must not cancel the rebuild; a failed one shows in status
            with contextlib.suppress(Exception):
                await asyncio.shield(future)
        return await ls.run(lambda cancel: status(ls))


def status(ls: ForgeServer) -> dict[str, Any]:
    """The forge/status answer (schema in docs/lsp.md); runs on a query thread."""
    folders = []
    totals = {"files": 0, "symbols": 0, "references": 0, "pendingFiles": 0}
    cache = {"size": 0, "hits": 0, "misses": 0, "evictions": 0, "invalidated": 0}
    live = {"pendingUpdates": 0, "updates": 0, "reresolvedFiles": 0, "interfaceChanges": 0}
    last_seconds: float | None = None
    for folder in list(ls.workspaces.folders):
        graph_live = folder.live
        with folder.pool.query() as query:
            graph = query.status() if query is not None else {}
        report = graph_live.report
        live_status = graph_live.status()
        cache_status = graph_live.cache.stats()
        entry = {
            "uri": folder.uri,
            "root": folder.root,
            "db": str(folder.settings.db_path),
            "state": graph_live.state,
            "files": graph.get("files", 0),
            "symbols": graph.get("symbols", 0),
            "references": graph.get("references", 0),
            "resolvedPercent": graph.get("resolvedPercent"),
            "pendingFiles": graph_live.pending_files,
            "lastIndexSeconds": graph.get("lastIndexSeconds"),
            "lastIndexTime": graph.get("lastIndexTime"),
            "indexRuns": graph_live.runs,
            "skipped": graph.get("skipped", {}),
            "skippedFiles": graph.get("skippedFiles", []),
            "partlyIndexed": graph.get("partlyIndexed", []),
            "warnings": len(report.warnings) if report else 0,
            "error": graph_live.error,
            "live": live_status,
            "cache": cache_status,
        }
        folders.append(entry)
        for key in totals:
            totals[key] += entry[key] or 0
        for key in cache:
            cache[key] += cache_status[key]
        for key in live:
            live[key] += live_status[key]
        if entry["lastIndexSeconds"] is not None:
            last_seconds = max(last_seconds or 0.0, float(entry["lastIndexSeconds"]))
    indexing = any(f["state"] in ("queued", "indexing") for f in folders)
    asked = cache["hits"] + cache["misses"]
    return {
        "version": __version__,
        "state": "indexing" if indexing else "ready",
        "partial": indexing,
        **totals,
        "lastIndexSeconds": last_seconds,
        "positionEncoding": ls.encoding,
        "includeProbable": ls.options.include_probable,
        "requests": dict(ls.counters),
        "live": live,
        "cache": {**cache, "hitRate": round(cache["hits"] / asked, 4) if asked else None},
        "folders": folders,
    }
