"""Session lifecycle: initialize, initialized, folders, document sync, shutdown and exit.

Folders come from `workspaceFolders`, else `rootUri`/`rootPath`; each gets its own settings and
graph. Problems with the options or a folder's `[tool.forge-lsp]` settings are collected during
`initialize` and shown once as a `window/showMessage` warning after `initialized`, when the client
is ready to display them; indexing then starts in the background.

Documents: open buffers are the truth. Every didOpen/didChange goes to the folder's live graph
as bytes plus byte edits (so the document is reparsed incrementally); didClose hands the file
back to the disk. Changes on disk arrive from our own file watcher and, when the client can
register for them, from `workspace/didChangeWatchedFiles` too; the live graph de-duplicates.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from lsprotocol import types
from pygls.uris import to_fs_path

from forge_lsp.parsing import supported_suffixes
from forge_lsp.server.app import ForgeServer, set_log_level
from forge_lsp.server.live import abandon
from forge_lsp.server.options import parse_options
from forge_lsp.server.workspace import Workspaces

log = logging.getLogger(__name__)

SHUTDOWN_WAIT = 30.0  # seconds `shutdown` waits for a running index to commit

# leaveToOtherServers name (server/options.py, LEAVABLE) -> the requests it stops offering
_LEFT_METHODS = {
    "references": (types.TEXT_DOCUMENT_REFERENCES,),
    "definition": (types.TEXT_DOCUMENT_DEFINITION,),
    "callHierarchy": (
        types.TEXT_DOCUMENT_PREPARE_CALL_HIERARCHY,
        types.CALL_HIERARCHY_INCOMING_CALLS,
        types.CALL_HIERARCHY_OUTGOING_CALLS,
    ),
    "documentSymbol": (types.TEXT_DOCUMENT_DOCUMENT_SYMBOL,),
    "workspaceSymbol": (types.WORKSPACE_SYMBOL,),
}


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


def _leave_to_other_servers(server: ForgeServer, names: tuple[str, ...]) -> None:
    """Withdraw the requests another server answers: pygls builds the capabilities from the
    registered features after the `initialize` handler, so what is withdrawn here is neither
    advertised nor answered (forge/impact and the commands stay)."""
    features = server.protocol.fm.features
    for name in names:
        for method in _LEFT_METHODS[name]:
            features.pop(method, None)
            server.protocol.fm.feature_options.pop(method, None)


def register(server: ForgeServer) -> None:
    """Register the lifecycle and synchronization handlers."""

    @server.feature(types.INITIALIZE)
    def initialize(ls: ForgeServer, params: types.InitializeParams) -> None:
        ls.loop = ls.bridge.loop = asyncio.get_running_loop()
        ls.options = parse_options(params.initialization_options)
        ls.workspaces = Workspaces(ls.options, ls.bridge)
        ls.problems = list(ls.options.problems)
        if ls.options.log_level is not None:
            set_log_level(ls.options.log_level)
        _leave_to_other_servers(ls, ls.options.leave_to_other_servers)
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
    async def initialized(ls: ForgeServer, params: types.InitializedParams) -> None:
        if ls.problems:
            message = "forge-lsp: " + "; ".join(ls.problems)
            log.info("%s", message)  # shown to the user just below: not again as a log message
            ls.window_show_message(
                types.ShowMessageParams(type=types.MessageType.Warning, message=message)
            )
        for folder in ls.workspaces.folders:
            folder.live.start()
        await _register_file_watchers(ls)

    @server.feature(types.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def folders_changed(ls: ForgeServer, params: types.DidChangeWorkspaceFoldersParams) -> None:
        for removed in params.event.removed or []:
            ls.workspaces.remove(removed.uri)
        ls.problems = []
        for added in params.event.added or []:
            _add_folder(ls, added.uri, added.name)
            folder = ls.workspaces.by_uri(added.uri)
            if folder is not None:
                folder.live.start()
        if ls.problems:
            ls.window_show_message(
                types.ShowMessageParams(
                    type=types.MessageType.Warning, message="forge-lsp: " + "; ".join(ls.problems)
                )
            )

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ForgeServer, params: types.DidOpenTextDocumentParams) -> None:
        doc = params.text_document
        located = ls.locate(doc.uri)
        if located is None or ls.shutting_down:
            return
        folder, path = located
        seq = folder.live.open_document(path, ls.documents.open(doc.uri, doc.text))
        if seq is not None:
            folder.editor_seq = seq

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ForgeServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        located = ls.locate(uri)
        if located is None or ls.shutting_down:
            return
        folder, path = located
        current = ls.workspace.get_text_document(uri).source
        data, edits = ls.documents.change(uri, params.content_changes, ls.encoding, current)
        seq = folder.live.change_document(path, data, edits)
        if seq is not None:
            folder.editor_seq = seq

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ForgeServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.documents.close(uri)
        located = ls.locate(uri)
        if located is None or ls.shutting_down:
            return
        folder, path = located
        seq = folder.live.close_document(path)
        if seq is not None:
            folder.editor_seq = seq

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: ForgeServer, params: types.DidSaveTextDocumentParams) -> None:
        """Nothing to do: the graph has the buffer already, and now the disk agrees."""

    @server.feature(types.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched_files(ls: ForgeServer, params: types.DidChangeWatchedFilesParams) -> None:
        if ls.shutting_down:
            return
        by_folder: dict[str, list[str]] = {}
        for change in params.changes:
            located = ls.locate(change.uri)
            if located is not None:
                by_folder.setdefault(located[0].uri, []).append(located[1])
        for uri, paths in by_folder.items():
            folder = ls.workspaces.by_uri(uri)
            if folder is not None:
                folder.live.files_changed(paths)

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    def configuration_changed(ls: ForgeServer, params: types.DidChangeConfigurationParams) -> None:
        """Nothing to do: settings come from initializationOptions and pyproject.toml. Handled
        because Eglot and VS Code send it on every connection, and an unknown notification
        would be logged as a warning each time."""

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: ForgeServer, params: None) -> None:
        """Stop taking changes; let a running update commit (bounded wait)."""
        ls.shutting_down = True
        folders = list(ls.workspaces.folders)
        loop = asyncio.get_running_loop()
        closed = await asyncio.gather(
            *(loop.run_in_executor(None, f.live.close, SHUTDOWN_WAIT) for f in folders)
        )
        if not all(closed):
            log.warning(
                "an update was still running after %.0f s; it will not be committed",
                SHUTDOWN_WAIT,
            )
        for folder in folders:
            folder.pool.invalidate()

    @server.feature(types.EXIT)
    def exit_(ls: ForgeServer, params: None) -> None:
        """Leave now. Nothing is left to flush: every write was committed or never will be.

        `os._exit` rather than `sys.exit`: pygls would otherwise wait for its stdin reader
        thread (blocked until the client closes the pipe) and for a running parse pool.
        """
        code = 0 if ls.shutting_down else 1
        if ls.busy:
            log.warning("exiting while indexing: the update is not committed, the last one stays")
            abandon()
        logging.shutdown()
        os._exit(code)


async def _register_file_watchers(ls: ForgeServer) -> None:
    """Ask the client to report changes to source files, when it can register for them.

    Our own watcher sees them too; the client's report is a second source (and the only one
    where our watcher cannot run), de-duplicated by path and content.
    """
    caps = ls.client_capabilities.workspace
    watched = caps.did_change_watched_files if caps is not None else None
    if watched is None or not watched.dynamic_registration or not ls.workspaces.folders:
        return
    suffixes = ",".join(s.lstrip(".") for s in supported_suffixes())
    options = types.DidChangeWatchedFilesRegistrationOptions(
        watchers=[types.FileSystemWatcher(glob_pattern=f"**/*.{{{suffixes}}}")]
    )
    registration = types.Registration(
        id="forge-lsp-watched-files",
        method=types.WORKSPACE_DID_CHANGE_WATCHED_FILES,
        register_options=options,
    )
    try:
        await ls.client_register_capability_async(
            types.RegistrationParams(registrations=[registration])
        )
    except Exception as exc:  # the client said no: our own watcher still runs
        log.info("client did not register file watching: %s", exc)
