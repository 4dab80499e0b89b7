"""`textDocument/definition`: where the name at the position is defined."""

from __future__ import annotations

import threading

from lsprotocol import types

from forge_lsp.server.app import ForgeServer, request
from forge_lsp.server.convert import Converter
from forge_lsp.server.requests import document_request, require_fresh


async def definition(ls: ForgeServer, params: types.DefinitionParams) -> list[types.Location]:
    asked = await document_request(ls, params.text_document.uri)
    if asked is None:
        return []
    probable = ls.options.include_probable
    position = params.position

    def work(cancel: threading.Event) -> list[types.Location]:
        folder, path, text = asked.folder, asked.path, asked.text
        require_fresh(ls, folder, asked.seq, cancel)
        with folder.pool.query(cancel) as query:
            if query is None:
                return []
            column = text.from_client(path, position.line, position.character)
            found = query.definition(path, position.line, column, include_probable=probable)
        convert = Converter(folder, text)
        return [convert.location(s.selection) for s in found]

    return await ls.run(work)


def register(server: ForgeServer) -> None:
    request(server, types.TEXT_DOCUMENT_DEFINITION)(definition)
