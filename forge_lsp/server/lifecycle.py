"""Session lifecycle: initialize, initialized, folders, document sync, shutdown and exit.

Folders come from `workspaceFolders`, else `rootUri`/`rootPath`; each gets its own settings and
graph. Problems with the options or a folder's `[tool.forge-lsp]` settings are collected during
`initialize` and shown once as a `window/showMessage` warning after `initialized`, when the client
is ready to display them; indexing then starts in the background.

Documents: pygls keeps the open buffers (used to convert positions). Live updates of the graph
from unsaved edits are not part of this server yet; a save re-indexes the folder in the
background (incremental: one changed file costs little), so answers follow the disk.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from forge_lsp.server.app import ForgeServer, set_log_level
from forge_lsp.server.options import parse_options
from forge_lsp.server.workspace import Workspaces

log = logging.getLogger(__name__)

SHUTDOWN_WAIT = 30.0  # seconds `shutdown` waits for a running index to commit


def _folder_path(uri: str) -> Path | None:
    path = to_fs_path(uri) if uri.startswith("file:") else None
    return Path(path) if path else None


def _add_folder(server: ForgeServer, uri: str, name: str) -> None:
    path = _folder_path(uri)
    if path is None or not path.is_dir():
        server.problems.append(f"workspace folder {uri} is not a local directory; ignored")
        return
    _folder, problems = server.workspaces.add(uri, name or path.name, path)
    server.problems.extend(problems)


def register(server: ForgeServer) -> None:
    """Register the lifecycle and synchronization handlers."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: ForgeServer, params: types.InitializeParams) -> None:
        ls.loop = asyncio.get_running_loop()
        ls.options = parse_options(params.initialization_options)
        ls.workspaces = Workspaces(ls.options)
        ls.problems = list(ls.options.problems)
        if ls.options.log_level is not None:
            set_log_level(ls.options.log_level)
        if params.workspace_folders:
            for folder in params.workspace_folders:
                _add_folder(ls, folder.uri, folder.name)
        elif params.root_uri or params.root_path:
            uri = params.root_uri or Path(params.root_path or ".").resolve().as_uri()
            _add_folder(ls, uri, "")
        log.info(
            "forge-lsp: %d folder(s), position encoding %s",
            len(ls.workspaces.folders),
            ls.encoding,
        )

    @server.feature(types.INITIALIZED)
    def initialized(ls: ForgeServer, params: types.InitializedParams) -> None:
        if ls.problems:
            message = "forge-lsp: " + "; ".join(ls.problems)
            log.info("%s", message)  # shown to the user just below: not again as a log message
            ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )
        for folder in ls.workspaces.folders:
            ls.indexer.schedule(folder)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: ForgeServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed or []:
            folder = ls.workspaces.remove(removed.uri)
            if folder is not None:
                ls.indexer.forget(folder)
        ls.problems = []
        for added in params.event.added or []:
            _add_folder(ls, added.uri, added.name)
            folder = ls.workspaces.by_uri(added.uri)
            if folder is not None:
                ls.indexer.schedule(folder)
        if ls.problems:
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning, message="forge-lsp: " + "; ".join(ls.problems)
                )
            )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ForgeServer, params: types.DidOpenTextDocumentParams) -> None:
        """pygls keeps the buffer; its text is used to convert positions."""

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ForgeServer, params: types.DidChangeTextDocumentParams) -> None:
        """Accepted; the graph follows saves, not keystrokes (live updates come later)."""

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ForgeServer, params: types.DidCloseTextDocumentParams) -> None:
        """pygls forgets the buffer; positions are converted against the disk again."""

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ForgeServer, params: types.DidSaveTextDocumentParams) -> None:
        located = ls.locate(params.text_document.uri)
        if located is not None and ls.options.reindex_on_save and not ls.shutting_down:
            ls.indexer.schedule(located[0])

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: ForgeServer, params: types.DidChangeWatchedFilesParams) -> None:
        if ls.shutting_down:
            return
        folders = {}
        for change in params.changes:
            located = ls.locate(change.uri)
            if located is not None:
                folders[located[0].uri] = located[0]
        for folder in folders.values():
            ls.indexer.schedule(folder)

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: ForgeServer, params: None) -> None:
        """Stop indexing new changes; let a running index commit (bounded wait)."""
        ls.shutting_down = True
        if not await ls.indexer.close(SHUTDOWN_WAIT):
            log.warning(
                "an index was still running after %.0f s; it will not be committed", SHUTDOWN_WAIT
            )
        for folder in ls.workspaces.folders:
            folder.pool.invalidate()

    @server.feature(types.EXIT)
    def exit_(ls: ForgeServer, params: None) -> None:
        """Leave now. Nothing is left to flush: every write was committed or never will be.

        `os._exit` rather than `sys.exit`: pygls would otherwise wait for its stdin reader
        thread (blocked until the client closes the pipe) and for a running parse pool.
        """
        code = 0 if ls.shutting_down else 1
        if ls.indexer.busy:
            log.warning("exiting while indexing: the index is not committed, the last one stays")
            ls.indexer.abandon()
        logging.shutdown()
        os._exit(code)
