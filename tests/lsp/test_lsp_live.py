"""The live graph end to end: unsaved edits, renames across files, files changed on disk with no
editor, deletions, storms, early cutoff counters, the query cache, and refusing stale answers.

One server per test (each test changes its workspace). Edits are incremental `didChange` ranges
computed in the client's encoding, on lines with non-ASCII text before the edited columns.
"""

from __future__ import annotations

import asyncio
import textwrap
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import apsw
import pytest
import pytest_lsp
from lsp_support import (
    CLIENTS,
    FILES,
    Expect,
    config,
    initialize_params,
    progress_kinds,
    raw_request,
    request,
    span_of,
    status,
    units,
    wait_ready,
    write_files,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcException
from pytest_lsp import LanguageClient, client_capabilities

from forge_lsp.config import load_settings
from forge_lsp.graph.snapshot import graph_snapshot, snapshot_diff
from forge_lsp.indexing.indexer import index_workspace

CONTENT_MODIFIED = -32801


class Buffer:
    """An open document on the client side: its text, version, and edits sent as ranges."""

    def __init__(self, client: LanguageClient, e: Expect, rel: str, text: str | None = None):
        self.client = client
        self.encoding = e.encoding
        self.uri = e.uri(rel)
        self.text = text if text is not None else e.text(rel)
        self.version = 1
        client.text_document_did_open(
            types.DidOpenTextDocumentParams(
                text_document=types.TextDocumentItem(
                    uri=self.uri, language_id="python", version=1, text=self.text
                )
            )
        )

    def position(self, needle: str, nth: int = 0, offset: int = 0) -> types.Position:
        index = -1
        for _ in range(nth + 1):
            index = self.text.index(needle, index + 1)
        return self._position(index + offset)

    def _position(self, index: int) -> types.Position:
        line = self.text.count("\n", 0, index)
        start = self.text.rfind("\n", 0, index) + 1
        return types.Position(line=line, character=units(self.text[start:index], self.encoding))

    def span(self, needle: str, nth: int = 0) -> tuple[str, int, int, int, int]:
        start = self.position(needle, nth)
        return (
            self.uri,
            start.line,
            start.character,
            start.line,
            start.character + units(needle, self.encoding),
        )

    def replace(self, old: str, new: str, nth: int = 0) -> None:
        """Send one incremental change replacing the nth occurrence of `old`."""
        index = -1
        for _ in range(nth + 1):
            index = self.text.index(old, index + 1)
        change = types.TextDocumentContentChangePartial(
            range=types.Range(start=self._position(index), end=self._position(index + len(old))),
            text=new,
        )
        self.text = self.text[:index] + new + self.text[index + len(old) :]
        self.version += 1
        self.client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(
                    uri=self.uri, version=self.version
                ),
                content_changes=[change],
            )
        )

    def close(self) -> None:
        self.client.text_document_did_close(
            types.DidCloseTextDocumentParams(
                text_document=types.TextDocumentIdentifier(uri=self.uri)
            )
        )


def _setup(client: LanguageClient, root: Path, encoding: str) -> Expect:
    e = Expect(root, encoding)
    client.forge_expect = e  # type: ignore[attr-defined]
    return e


@pytest_lsp.fixture(config=config(), params=list(CLIENTS))
async def live(
    lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[None]:
    root = tmp_path / "ws"
    write_files(root, FILES)
    _setup(lsp_client, root, CLIENTS[request.param])
    caps = client_capabilities(request.param)
    await lsp_client.initialize_session(initialize_params(caps, [root], {"jobs": 1}))
    await wait_ready(lsp_client)
    yield
    await lsp_client.shutdown_session()


def _e(client: LanguageClient) -> Expect:
    return client.forge_expect  # type: ignore[attr-defined]


async def _refs(
    client: LanguageClient, uri: str, position: types.Position, declaration: bool = True
) -> list[tuple[str, int, int, int, int]]:
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=position,
            context=types.ReferenceContext(include_declaration=declaration),
        )
    )
    return sorted(span_of(loc) for loc in found or [])


async def _folder(client: LanguageClient) -> dict[str, Any]:
    folder: dict[str, Any] = (await status(client))["folders"][0]
    return folder


async def _settled(client: LanguageClient, timeout: float = 30.0) -> dict[str, Any]:
    """Wait until the live graph has nothing pending and the watcher has been quiet a moment."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    quiet = 0
    last = None
    while True:
        folder = await _folder(client)
        marker = (folder["live"]["watcherEvents"], folder["live"]["updates"])
        idle = folder["state"] == "ready" and folder["live"]["pendingUpdates"] == 0
        quiet = quiet + 1 if idle and marker == last else 0
        last = marker
        if quiet >= 8:
            return folder
        if loop.time() > deadline:
            raise TimeoutError(f"the live graph did not settle: {folder['live']}")
        await asyncio.sleep(0.05)


async def _until(check: Any, what: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await check():
        if loop.time() > deadline:
            raise TimeoutError(what)
        await asyncio.sleep(0.01)


# ----- the editor ------------------------------------------------------------------------------


async def test_unsaved_edit_adds_a_call_and_incoming_calls_show_it(live: LanguageClient) -> None:
    e = _e(live)
    use = Buffer(live, e, "pkg/use.py")
    use.replace("helper(1)", "helper(1) + helper(7)")  # after 'é🙂' on the same line
    items = await live.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(
            text_document=e.doc("pkg/core.py"), position=e.position("pkg/core.py", "helper")
        )
    )
    assert items is not None
    calls = await live.call_hierarchy_incoming_calls_async(
        types.CallHierarchyIncomingCallsParams(item=items[0])
    )
    sites = sorted(
        (call.from_.uri, r.start.line, r.start.character, r.end.line, r.end.character)
        for call in calls or []
        for r in call.from_ranges
    )
    assert use.span("helper", 2) in sites  # the new, unsaved call: `x = helper(1) + helper(7)`
    assert sites == sorted(
        [use.span("helper", n) for n in (1, 2, 3, 4)]
        + [e.span("pkg/core.py", "helper", 1)]
        + [e.span("tests/test_core.py", "helper", 2)]
    )
    # the disk never changed: closing the buffer takes the call away again
    use.close()
    calls = await live.call_hierarchy_incoming_calls_async(
        types.CallHierarchyIncomingCallsParams(item=items[0])
    )
    assert sum(len(c.from_ranges) for c in calls or []) == 5


async def test_a_rename_in_one_file_updates_references_in_another(live: LanguageClient) -> None:
    e = _e(live)
    core = Buffer(live, e, "pkg/core.py")
    use_call = e.position("pkg/use.py", "helper(1)")
    before = await _refs(live, e.uri("pkg/use.py"), use_call)
    assert e.span("pkg/use.py", "helper", 1) in before and len(before) == 8

    core.replace("def helper", "def assist")
    # use.py still imports `helper`, which no longer exists: its uses resolve to nothing
    assert await _refs(live, e.uri("pkg/use.py"), use_call) == []
    assist = await _refs(live, core.uri, core.position("assist"))
    assert assist == [core.span("assist")]

    use = Buffer(live, e, "pkg/use.py")
    use.replace("import Greeter, helper", "import Greeter, assist")
    for _ in range(3):
        use.replace("helper(", "assist(")
    assist = await _refs(live, core.uri, core.position("assist"))
    # greet() in core.py still calls `helper`: only the declaration and use.py's four uses
    assert assist == sorted([core.span("assist")] + [use.span("assist", n) for n in range(4)])


async def test_body_only_edit_reresolves_no_other_file(live: LanguageClient) -> None:
    e = _e(live)
    core = Buffer(live, e, "pkg/core.py")
    refs = await _refs(live, core.uri, core.position("helper"))
    await _refs(live, core.uri, core.position("helper"))
    cache = (await _folder(live))["cache"]
    assert cache["hits"] >= 1

    core.replace("return value + 1", "total = value * 2\n    return total + 1")
    assert await _refs(live, e.uri("pkg/use.py"), e.position("pkg/use.py", "helper(1)")) != []
    last = (await _folder(live))["live"]["lastUpdate"]
    assert last["interfaceChanged"] == 0 and last["reresolvedFiles"] == 0 and last["files"] == 1

    # the answer moved with the edit: helper's own call in greet() is a line lower
    moved = await _refs(live, core.uri, core.position("helper"))
    elsewhere = [s for s in refs if s[0] != core.uri]
    assert moved != refs
    assert moved == sorted([*elsewhere, core.span("helper"), core.span("helper", 1)])

    core.replace("def greet(self)", "def greet(self, loud=False)")  # a signature: interface
    await _refs(live, core.uri, core.position("helper"))
    last = (await _folder(live))["live"]["lastUpdate"]
    assert last["interfaceChanged"] == 1 and last["reresolvedFiles"] >= 1
    totals = (await status(live))["live"]
    assert totals["interfaceChanges"] >= 1 and totals["reresolvedFiles"] >= 1


# ----- changes outside the editor --------------------------------------------------------------


async def test_files_written_and_deleted_on_disk_show_up(live: LanguageClient) -> None:
    e = _e(live)
    definition = e.position("pkg/core.py", "helper")
    more = e.root / "pkg" / "more.py"
    more.write_text("from pkg.core import helper\n\n\ndef unique_more():\n    return helper(9)\n")
    more_uri = more.as_uri()

    async def present() -> bool:
        return any(s[0] == more_uri for s in await _refs(live, e.uri("pkg/core.py"), definition))

    await _until(present, "a file written on disk did not appear")
    found = await live.workspace_symbol_async(types.WorkspaceSymbolParams(query="unique_more"))
    assert [s.name for s in found or []] == ["unique_more"]

    more.unlink()

    async def gone() -> bool:
        return not await present()

    await _until(gone, "a deleted file's references stayed")
    assert not await live.workspace_symbol_async(types.WorkspaceSymbolParams(query="unique_more"))
    folder = await _folder(live)
    assert folder["live"]["watcher"] == "running" and folder["live"]["watcherEvents"] >= 2
    assert folder["live"]["watchedDirectories"] == 3  # the root, pkg, tests; not .forge


@pytest_lsp.fixture(config=config())
async def no_watcher(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    root = tmp_path / "ws"
    write_files(root, FILES)
    _setup(lsp_client, root, "utf-16")
    caps = client_capabilities("visual_studio_code")
    await lsp_client.initialize_session(initialize_params(caps, [root], {"watchFiles": False}))
    await wait_ready(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_client_reported_changes_when_our_watcher_is_off(no_watcher: LanguageClient) -> None:
    e = _e(no_watcher)
    registered = [r.method for r in no_watcher.registrations]  # type: ignore[attr-defined]
    assert registered == [types.WORKSPACE_DID_CHANGE_WATCHED_FILES]
    assert (await _folder(no_watcher))["live"]["watcher"] == "off"
    symbols = types.DocumentSymbolParams(text_document=e.doc("pkg/core.py"))
    assert await no_watcher.text_document_document_symbol_async(symbols)
    (e.root / "pkg" / "core.py").unlink()
    no_watcher.workspace_did_change_watched_files(
        types.DidChangeWatchedFilesParams(
            changes=[types.FileEvent(uri=e.uri("pkg/core.py"), type=types.FileChangeType.Deleted)]
        )
    )

    async def gone() -> bool:
        return not await no_watcher.text_document_document_symbol_async(symbols)

    await _until(gone, "a deletion the client reported was not applied")


# ----- storms ----------------------------------------------------------------------------------


@pytest_lsp.fixture(config=config())
async def stormy(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    root = tmp_path / "ws"
    write_files(root, FILES)
    for i in range(250):
        (root / "gen").mkdir(exist_ok=True)
        (root / "gen" / f"m{i}.py").write_text(
            f"from pkg.core import helper\n\nv{i} = helper({i})\n"
        )
    (root / "gen" / "__init__.py").write_text("")
    _setup(lsp_client, root, "utf-8")
    caps = client_capabilities("neovim")
    caps.window = types.WindowClientCapabilities(work_done_progress=True)
    await lsp_client.initialize_session(initialize_params(caps, [root], {"jobs": 1}))
    await wait_ready(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_a_storm_of_500_changed_files_settles_to_a_cold_index(stormy: LanguageClient) -> None:
    e = _e(stormy)
    runs = len(progress_kinds(stormy))
    gen = e.root / "gen"
    for i in range(250):  # 250 rewritten (a new function, a different call) and 250 new files
        (gen / f"m{i}.py").write_text(
            f"from pkg.core import Greeter, helper\n\n\ndef f{i}():\n    return Greeter('x').greet()\n"
        )
        (gen / f"n{i}.py").write_text(f"from gen.m{i} import f{i}\n\nf{i}()\n")
    (e.root / "pkg" / "use.py").unlink()
    folder = await _settled(stormy)
    assert folder["files"] == 255 - 1 + 250 and folder["live"]["errors"] == 0

    cold_db = e.root.parent / "cold.db"
    index_workspace(load_settings(e.root, db=cold_db), jobs=1)
    snapshots = []
    for db in (Path(folder["db"]), cold_db):
        conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            snapshots.append(graph_snapshot(conn))
        finally:
            conn.close()
    assert snapshot_diff(*snapshots) == []
    storms = progress_kinds(stormy)[runs:]
    assert storms and all(kinds[0] == "begin" and kinds[-1] == "end" for kinds in storms), storms


# ----- never a stale answer --------------------------------------------------------------------


@pytest_lsp.fixture(config=config())
async def slow(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    root = tmp_path / "ws"
    write_files(root, FILES)
    _setup(lsp_client, root, "utf-32")
    options = {"debounceMs": 1500, "freshnessTimeoutMs": 100}
    await lsp_client.initialize_session(
        initialize_params(client_capabilities("emacs"), [root], options)
    )
    await wait_ready(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_a_request_the_graph_cannot_catch_up_with_is_refused_not_stale(
    slow: LanguageClient,
) -> None:
    e = _e(slow)
    core = Buffer(slow, e, "pkg/core.py")
    core.replace("def helper", "def assist")
    with pytest.raises(JsonRpcException) as refused:
        await raw_request(
            slow,
            types.TEXT_DOCUMENT_REFERENCES,
            {
                "textDocument": {"uri": core.uri},
                "position": {"line": 3, "character": 5},
                "context": {"includeDeclaration": True},
            },
        )
    assert refused.value.code == CONTENT_MODIFIED and "catching up" in str(refused.value)
    impact = await request(slow, "forge/impact", {"textDocument": {"uri": core.uri}})
    assert impact["partial"] is True and impact["pending"] == [core.uri]
    await asyncio.sleep(1.6)  # the debounce passes; the edit lands
    assert await _refs(slow, core.uri, core.position("assist")) == [core.span("assist")]
    impact = await request(slow, "forge/impact", {"textDocument": {"uri": core.uri}})
    assert impact["partial"] is False and "pending" not in impact


def test_buffer_helper_positions() -> None:
    """The test's own position arithmetic, against Python's codecs."""
    text = textwrap.dedent("s = 'é🙂'; x = f(1)\n")

    class Fake:
        def text_document_did_open(self, params: Any) -> None:
            pass

    e = Expect(Path("/w"), "utf-16")
    buffer = Buffer(Fake(), e, "m.py", text)  # type: ignore[arg-type]
    assert buffer.position("f(") == types.Position(
        line=0, character=len("s = 'é🙂'; x = ".encode("utf-16-le")) // 2
    )
