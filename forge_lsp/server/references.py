"""`textDocument/references`: every use of the symbol at the position, through the cache."""

from __future__ import annotations

import threading

from lsprotocol import types

from forge_lsp.server.app import ForgeServer, request
from forge_lsp.server.cancellation import check
from forge_lsp.server.convert import Converter
from forge_lsp.server.requests import document_request, require_fresh, symbol_at


async def references(ls: ForgeServer, params: types.ReferenceParams) -> list[types.Location]:
    position = params.position
    asked = await document_request(
        ls, params.text_document.uri, lambda q, text, path: symbol_at(q, text, path, position)
    )
    if asked is None:
        return []
    include_declaration = params.context.include_declaration
    probable = ls.options.include_probable

    def work(cancel: threading.Event) -> list[types.Location]:
        folder, path, text = asked.folder, asked.path, asked.text
        require_fresh(ls, folder, asked.seq, cancel)
        with folder.pool.query(cancel) as query:
            sym = symbol_at(query, text, path, position) if query else None
            if query is None or sym is None:
                return []
            refs = folder.live.queries.references(
                query, sym, include_declaration=include_declaration, probable=probable
            )
        check(cancel)
        convert = Converter(folder, text)
        return [convert.location(r.location) for r in refs]

    return await ls.run(work)


def register(server: ForgeServer) -> None:
    request(server, types.TEXT_DOCUMENT_REFERENCES)(references)
