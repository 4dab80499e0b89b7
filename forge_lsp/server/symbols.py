"""`textDocument/documentSymbol` (the outline) and `workspace/symbol` (search by name)."""

from __future__ import annotations

import threading

from lsprotocol import types

from forge_lsp.server.app import ForgeServer, request
from forge_lsp.server.cancellation import check
from forge_lsp.server.convert import Converter
from forge_lsp.server.first_answers import first_index
from forge_lsp.server.requests import document_request, require_fresh

WORKSPACE_SYMBOL_LIMIT = 200


async def document_symbols(
    ls: ForgeServer, params: types.DocumentSymbolParams
) -> list[types.DocumentSymbol]:
    asked = await document_request(ls, params.text_document.uri)
    if asked is None:
        return []

    def work(cancel: threading.Event) -> list[types.DocumentSymbol]:
        folder = asked.folder
        require_fresh(ls, folder, asked.seq, cancel)
        with folder.pool.query(cancel) as query:
            tree = folder.live.queries.document_symbols(query, asked.path) if query else []
        return Converter(folder, asked.text).document_symbols(tree)

    return await ls.run(work)


async def workspace_symbols(
    ls: ForgeServer, params: types.WorkspaceSymbolParams
) -> list[types.WorkspaceSymbol]:
    await first_index(ls, *ls.workspaces.folders)
    folders = [(f, f.editor_seq) for f in ls.workspaces.folders]
    text = ls.snapshot()

    def work(cancel: threading.Event) -> list[types.WorkspaceSymbol]:
        out: list[types.WorkspaceSymbol] = []
        for folder, seq in folders:
            require_fresh(ls, folder, seq, cancel)
            with folder.pool.query(cancel) as query:
                if query is None:
                    continue
                found = folder.live.queries.workspace_symbols(
                    query, params.query, WORKSPACE_SYMBOL_LIMIT
                )
            convert = Converter(folder, text)
            out.extend(convert.workspace_symbol(s) for s in found)
            check(cancel)
        return out[:WORKSPACE_SYMBOL_LIMIT]

    return await ls.run(work)


def register(server: ForgeServer) -> None:
    request(server, types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)(document_symbols)
    request(server, types.WORKSPACE_SYMBOL)(workspace_symbols)
