"""Hostile paths in a real session: nothing from outside the workspace ever reaches the graph,
whether a client names it with `..` (plain or percent-encoded), reports it as created, or a
symbolic link inside the workspace points at it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_lsp
from lsp_support import (
    FILES,
    Expect,
    config,
    initialize_params,
    request,
    status,
    wait_ready,
    write_files,
)
from lsprotocol import types
from pytest_lsp import LanguageClient, client_capabilities

SECRET = "def leaked_secret_function():\n    return 'hunter2'\n"


@pytest_lsp.fixture(config=config())
async def hostile(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    root = tmp_path / "ws"
    write_files(root, FILES)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "creds.py").write_text(SECRET)
    os.symlink(tmp_path / "secrets", root / "linked_dir")
    os.symlink(tmp_path / "secrets" / "creds.py", root / "linked_file.py")
    lsp_client.forge_expect = Expect(root, "utf-16")  # type: ignore[attr-defined]
    caps = client_capabilities("visual_studio_code")
    await lsp_client.initialize_session(initialize_params(caps, [root], {"jobs": 1}))
    await wait_ready(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def _leaked(client: LanguageClient) -> list[object]:
    found = await client.workspace_symbol_async(
        types.WorkspaceSymbolParams(query="leaked_secret_function")
    )
    return list(found or [])


@pytest.mark.parametrize("spelling", ["../secrets/creds.py", "%2e%2e/secrets/creds.py"])
async def test_outside_files_never_reach_the_graph(hostile: LanguageClient, spelling: str) -> None:
    lsp_client = hostile
    root: Path = lsp_client.forge_expect.root  # type: ignore[attr-defined]
    files_before = (await status(lsp_client))["folders"][0]["files"]
    assert await _leaked(lsp_client) == []  # neither link was followed by the index
    uri = root.as_uri() + "/" + spelling
    lsp_client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="python", version=1, text=SECRET
            )
        )
    )
    lsp_client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    lsp_client.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[
                types.FileEvent(uri=uri, type=types.FileChangeType.Created),
                types.FileEvent(
                    uri=root.as_uri() + "/linked_file.py", type=types.FileChangeType.Changed
                ),
            ]
        )
    )
    await asyncio.sleep(0.5)
    folder = (await status(lsp_client))["folders"][0]
    assert await _leaked(lsp_client) == []
    assert folder["files"] == files_before
    impact = await request(lsp_client, "forge/impact", {"textDocument": {"uri": uri}})
    assert impact["root"] is None  # outside every folder
