"""End to end, one server per test: several folders, indexing in the background, rebuilds, errors
and cancellation, and the command line's transports."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsp_support import (
    CLIENTS,
    FILES,
    SERVER_COMMAND,
    Expect,
    config,
    initialize_params,
    progress_kinds,
    request,
    span_of,
    status,
    wait_ready,
    write_files,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcMethodNotFound
from pytest_lsp import LanguageClient, client_capabilities

from forge_lsp.graph.queries import GraphQuery

GENERATED_FILES = 1500


def _references(e: Expect, rel: str, needle: str, offset: int = 1) -> types.ReferenceParams:
    return types.ReferenceParams(
        text_document=e.doc(rel),
        position=e.position(rel, needle, offset=offset),
        context=types.ReferenceContext(include_declaration=True),
    )


# ----- several workspace folders ---------------------------------------------------------------


@pytest_lsp.fixture(config=config(), params=list(CLIENTS))
async def two_folders(
    lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[None]:
    caps = client_capabilities(request.param)
    caps.window = types.WindowClientCapabilities(work_done_progress=False)  # no $/progress then
    for name in ("a", "b"):
        write_files(tmp_path / name, FILES)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "solo.py").write_text("def solo():\n    return 1\n\nsolo()\n")
    await lsp_client.initialize_session(
        initialize_params(
            caps, [tmp_path / "a", tmp_path / "b"], {"dbPath": str(tmp_path / "graph.db")}
        )
    )
    lsp_client.forge_root = tmp_path  # type: ignore[attr-defined]
    lsp_client.forge_encoding = CLIENTS[request.param]  # type: ignore[attr-defined]
    await wait_ready(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_each_folder_has_its_own_graph(two_folders: LanguageClient) -> None:
    root: Path = two_folders.forge_root  # type: ignore[attr-defined]
    encoding: str = two_folders.forge_encoding  # type: ignore[attr-defined]
    current = await status(two_folders)
    dbs = [f["db"] for f in current["folders"]]
    assert [f["uri"] for f in current["folders"]] == [(root / "a").as_uri(), (root / "b").as_uri()]
    assert dbs[0] == str(root / "graph.db") and dbs[1] != dbs[0]
    assert all(Path(db).exists() for db in dbs)
    assert current["files"] == 8
    for name in ("a", "b"):
        e = Expect(root / name, encoding)
        found = await two_folders.text_document_references_async(
            _references(e, "pkg/core.py", "greet")
        )
        assert sorted(span_of(loc) for loc in found or []) == sorted(
            [e.span("pkg/core.py", "greet"), e.span("pkg/use.py", "greet")]
        )
    assert not two_folders.progress_reports  # the client did not offer work-done progress


async def test_folders_can_come_and_go(two_folders: LanguageClient) -> None:
    root: Path = two_folders.forge_root  # type: ignore[attr-defined]
    e = Expect(root / "c", two_folders.forge_encoding)  # type: ignore[attr-defined]
    assert not await two_folders.text_document_references_async(_references(e, "solo.py", "solo"))
    two_folders.workspace_did_change_workspace_folders(
        types.DidChangeWorkspaceFoldersParams(
            event=types.WorkspaceFoldersChangeEvent(
                added=[types.WorkspaceFolder(uri=(root / "c").as_uri(), name="c")],
                removed=[types.WorkspaceFolder(uri=(root / "a").as_uri(), name="a")],
            )
        )
    )
    await asyncio.sleep(0.1)
    current = await wait_ready(two_folders)
    assert [f["uri"] for f in current["folders"]] == [(root / "b").as_uri(), (root / "c").as_uri()]
    found = await two_folders.text_document_references_async(_references(e, "solo.py", "solo"))
    assert sorted(span_of(loc) for loc in found or []) == [
        e.span("solo.py", "solo"),
        e.span("solo.py", "solo", 1),
    ]
    gone = Expect(root / "a", two_folders.forge_encoding)  # type: ignore[attr-defined]
    assert not await two_folders.text_document_references_async(
        _references(gone, "pkg/core.py", "greet")
    )


# ----- a larger workspace: answers while indexing, progress, rebuild ----------------------------


def _generate(root: Path, count: int) -> None:
    package = root / "gen"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for i in range(count):
        head = f"from gen.mod_{i - 1} import f_{i - 1}\n\n" if i else ""
        body = f"f_{i - 1}(x) + 1" if i else "x"
        classes = "".join(
            f"class C{k}:\n    def m(self, y):\n        return f_{i}(y) + {k}\n\n"
            for k in range(15)
        )
        (package / f"mod_{i}.py").write_text(f"{head}def f_{i}(x):\n    return {body}\n\n{classes}")


@pytest_lsp.fixture(config=config())
async def big(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    root = tmp_path / "big"
    _generate(root, GENERATED_FILES)
    lsp_client.forge_expect = Expect(root, "utf-8")  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def _ended(client: LanguageClient) -> bool:
    return any(kinds and kinds[-1] == "end" for kinds in progress_kinds(client))


async def test_a_request_during_the_first_index_gets_the_complete_answer(
    big: LanguageClient,
) -> None:
    e: Expect = big.forge_expect  # type: ignore[attr-defined]
    await big.initialize_session(initialize_params(client_capabilities("neovim"), [e.root]))
    params = _references(e, "gen/mod_10.py", "def f_10", offset=5)
    expected = [e.span("gen/mod_10.py", "f_10")]
    expected += [e.span("gen/mod_10.py", "f_10", n) for n in range(1, 16)]
    expected += [e.span("gen/mod_11.py", "f_10"), e.span("gen/mod_11.py", "f_10", 1)]
    early = await status(big)  # answered at once: status never waits
    assert early["state"] == "indexing" and early["partial"] is True
    assert not _ended(big), "indexing ended before the request: nothing was proven"
    found = await big.text_document_references_async(params)  # waits for what it reads
    assert sorted(span_of(loc) for loc in found or []) == sorted(expected)
    assert not [m for m in big.messages if "still indexing" in m.message]  # it waited

    current = await wait_ready(big, timeout=60)
    assert current["files"] == GENERATED_FILES + 1 and current["pendingFiles"] == 0
    # answered between two batches of the first index, not after its last one
    assert current["folders"][0]["live"]["answeredEarly"] == 1
    for _ in range(100):  # the end notification follows the state change closely
        if _ended(big):
            break
        await asyncio.sleep(0.02)
    [kinds] = progress_kinds(big)
    assert kinds[0] == "begin" and "report" in kinds and kinds[-1] == "end"
    found = await big.text_document_references_async(params)
    assert sorted(span_of(loc) for loc in found or []) == sorted(expected)

    rebuilt = await request(big, "forge/reindex", {})
    assert rebuilt["state"] == "ready" and rebuilt["files"] == GENERATED_FILES + 1
    assert len(progress_kinds(big)) == 2 and progress_kinds(big)[1][-1] == "end"
    found = await big.text_document_references_async(params)
    assert sorted(span_of(loc) for loc in found or []) == sorted(expected)
    # the same through workspace/executeCommand, as a client without our plugin asks it
    again = await big.workspace_execute_command_async(
        types.ExecuteCommandParams(command="forge-lsp.reindex", arguments=[{}])
    )
    assert again["state"] == "ready" and again["files"] == GENERATED_FILES + 1
    assert len(progress_kinds(big)) == 3 and progress_kinds(big)[2][-1] == "end"


async def test_first_index_wait_ms_zero_answers_at_once_from_what_is_committed(
    big: LanguageClient,
) -> None:
    e: Expect = big.forge_expect  # type: ignore[attr-defined]
    caps = client_capabilities("neovim")
    await big.initialize_session(initialize_params(caps, [e.root], {"firstIndexWaitMs": 0}))
    params = _references(e, "gen/mod_10.py", "def f_10", offset=5)
    found = await big.text_document_references_async(params)
    assert not _ended(big), "indexing ended before the answer: nothing was proven"
    expected = [e.span("gen/mod_10.py", "f_10")]
    expected += [e.span("gen/mod_10.py", "f_10", n) for n in range(1, 16)]
    expected += [e.span("gen/mod_11.py", "f_10"), e.span("gen/mod_11.py", "f_10", 1)]
    # not waited for: what the batches committed so far holds, which may be nothing yet
    assert {span_of(loc) for loc in found or []} <= set(expected)
    # and the editor, which would show "No results", is told why, once
    await big.text_document_references_async(params)
    told = [m for m in big.messages if "still indexing" in m.message]
    assert [m.type for m in told] == [types.MessageType.Info], big.messages
    # how far it has got, once the files are counted
    assert re.fullmatch(
        r"forge-lsp is still indexing big( \([\d,]+ of [\d,]+ files\))?: answers may be"
        r" incomplete until it finishes",
        told[0].message,
    ), told[0].message
    await wait_ready(big, timeout=60)


@pytest_lsp.fixture(config=config())
async def shut_early(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    root = tmp_path / "big"
    _generate(root, GENERATED_FILES)
    lsp_client.forge_expect = Expect(root, "utf-16")  # type: ignore[attr-defined]
    yield


async def test_shutdown_keeps_the_batches_the_first_index_committed(
    shut_early: LanguageClient,
) -> None:
    e: Expect = shut_early.forge_expect  # type: ignore[attr-defined]
    caps = client_capabilities("visual_studio_code")
    await shut_early.initialize_session(initialize_params(caps, [e.root]))
    await asyncio.sleep(0.3)
    assert (await status(shut_early))["state"] == "indexing"
    await shut_early.shutdown_session()  # shutdown, then exit: the batch in hand commits
    db = e.root / ".forge" / "graph.db"
    query = GraphQuery.open(db)
    try:
        kept = query.status()["files"]
    finally:
        query.close()
    assert 0 < kept <= GENERATED_FILES + 1
    # the next index is warm: it reads only what the first one had not committed
    result = subprocess.run(
        [sys.executable, "-m", "forge_lsp", "index", str(e.root), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    report = json.loads(result.stdout)
    assert report["files"] == GENERATED_FILES + 1
    assert report["parsed"] == GENERATED_FILES + 1 - kept


# ----- internal errors and cancellation --------------------------------------------------------


FAULTS = {
    "FORGE_LSP_FAULT": "textDocument/documentSymbol",
    "FORGE_LSP_DELAY": "forge/impact=30",
}


@pytest_lsp.fixture(config=config(FAULTS))
async def faulty(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    root = tmp_path / "ws"
    write_files(root, FILES)
    await lsp_client.initialize_session(
        initialize_params(client_capabilities("emacs"), [root], {"logLevel": "info"})
    )
    lsp_client.forge_expect = Expect(root, "utf-32")  # type: ignore[attr-defined]
    await wait_ready(lsp_client)
    yield
    await lsp_client.shutdown_session()


async def test_internal_error_is_answered_and_logged(faulty: LanguageClient) -> None:
    e: Expect = faulty.forge_expect  # type: ignore[attr-defined]
    with pytest.raises(JsonRpcInternalError, match="internal error in textDocument/documentSymbol"):
        await faulty.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=e.doc("pkg/core.py"))
        )
    for _ in range(50):
        if any("Traceback" in m.message for m in faulty.log_messages):
            break
        await asyncio.sleep(0.02)
    logged = [m for m in faulty.log_messages if "Traceback" in m.message]
    assert logged and logged[0].type == types.MessageType.Error
    assert "fault injected into textDocument/documentSymbol" in logged[0].message
    found = await faulty.text_document_references_async(_references(e, "pkg/core.py", "greet"))
    assert len(found or []) == 2  # still serving
    assert (await status(faulty))["requests"]["errors"] == 1


async def test_cancel_request(faulty: LanguageClient) -> None:
    e: Expect = faulty.forge_expect  # type: ignore[attr-defined]
    started = time.monotonic()
    pending = asyncio.ensure_future(
        faulty.protocol.send_request_async(
            "forge/impact", {"textDocument": {"uri": e.uri("pkg/core.py")}}, msg_id="slow-1"
        )
    )
    await asyncio.sleep(0.2)
    assert not pending.done()
    faulty.protocol.notify("$/cancelRequest", types.CancelParams(id="slow-1"))
    with pytest.raises(JsonRpcException) as caught:
        await pending
    assert caught.value.code == types.LSPErrorCodes.RequestCancelled
    assert time.monotonic() - started < 10  # not the 30 s the request would have taken
    current = await status(faulty)
    assert current["requests"]["cancelled"] == 1 and current["state"] == "ready"


# ----- transports --------------------------------------------------------------------------------


def _frame(payload: dict[str, Any]) -> bytes:
    body = json.dumps(payload).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _read(stream: Any) -> dict[str, Any]:
    length = 0
    while (line := stream.readline()) not in (b"\r\n", b""):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    result: dict[str, Any] = json.loads(stream.read(length))
    return result


def _session(reader: Any, write: Any) -> tuple[dict[str, Any], int]:
    write(
        _frame({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}})
    )
    init = _read(reader)
    write(_frame({"jsonrpc": "2.0", "id": 2, "method": "shutdown"}))
    while "id" not in (answer := _read(reader)):
        pass
    write(_frame({"jsonrpc": "2.0", "method": "exit"}))
    return init, answer["id"]


def test_stdio_flag_and_clean_exit(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*SERVER_COMMAND, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tmp_path
    )
    assert proc.stdin is not None

    def write(data: bytes) -> None:
        assert proc.stdin is not None
        proc.stdin.write(data)
        proc.stdin.flush()

    init, answered = _session(proc.stdout, write)
    assert init["result"]["serverInfo"]["name"] == "forge-lsp" and answered == 2
    assert proc.wait(timeout=10) == 0


def test_tcp_on_localhost(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [*SERVER_COMMAND, "--tcp", "--port", str(port)], cwd=tmp_path, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                conn = socket.create_connection(("127.0.0.1", port), timeout=10)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        with conn, conn.makefile("rb") as reader:
            init, answered = _session(reader, conn.sendall)
        assert init["result"]["capabilities"]["referencesProvider"] is True and answered == 2
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_rejects_bad_flags() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "forge_lsp", "serve", "--tcp", "--stdio"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode != 0 and "exclusive" in done.stderr


# ----- beside another Python server ------------------------------------------------------------


@pytest_lsp.fixture(config=config())
async def beside_pylance(lsp_client: LanguageClient, tmp_path: Path) -> AsyncIterator[None]:
    write_files(tmp_path, FILES)
    lsp_client.forge_expect = Expect(tmp_path, "utf-16")  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


async def test_what_is_left_to_another_server_is_neither_offered_nor_answered(
    beside_pylance: LanguageClient,
) -> None:
    """With `leaveToOtherServers`, an editor that runs Pylance too gets references and
    definitions from Pylance alone, and call hierarchy, impact and status from forge-lsp."""
    e: Expect = beside_pylance.forge_expect  # type: ignore[attr-defined]
    caps = client_capabilities("visual_studio_code")
    options = {"leaveToOtherServers": ["references", "definition"]}
    result = await beside_pylance.initialize_session(initialize_params(caps, [e.root], options))
    offered = result.capabilities
    assert offered.references_provider is None and offered.definition_provider is None
    assert offered.call_hierarchy_provider and offered.workspace_symbol_provider
    assert offered.document_symbol_provider
    assert offered.execute_command_provider is not None
    assert "forge-lsp.impact" in offered.execute_command_provider.commands
    await wait_ready(beside_pylance)
    with pytest.raises(JsonRpcMethodNotFound):
        await beside_pylance.text_document_references_async(
            _references(e, "pkg/core.py", "def helper", offset=5)
        )
    items = await beside_pylance.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(
            text_document=e.doc("pkg/core.py"),
            position=e.position("pkg/core.py", "def helper", offset=5),
        )
    )
    assert [item.name for item in items or []] == ["helper"]
    at = e.position("pkg/core.py", "def helper", offset=5)
    impact = await request(
        beside_pylance,
        "forge/impact",
        {
            "textDocument": {"uri": e.uri("pkg/core.py")},
            "position": {"line": at.line, "character": at.character},
        },
    )
    dependents = {d["symbol"]["qualname"] for f in impact["files"] for d in f["dependents"]}
    assert dependents == {"x", "y", "main", "Greeter.greet", "test_helper"}
