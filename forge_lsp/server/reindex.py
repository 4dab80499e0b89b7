"""`forge/reindex` (and the `forge-lsp.reindex` command): delete a folder's graph, or every
folder's, build it again, and answer with the status once done."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from pygls.exceptions import JsonRpcInvalidParams

from forge_lsp.server.app import ForgeServer, request
from forge_lsp.server.status import status


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


def register(server: ForgeServer) -> None:
    request(server, "forge/reindex")(forge_reindex)
