"""End to end: every feature against a real server over stdio, as VS Code, Neovim and Emacs.

The three capability sets negotiate utf-16, utf-8 and utf-32; the fixture has non-ASCII text
before identifiers on the same line, so every expected location below differs between them.
One server per client, shared by the tests of this module; each test asks it different things.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_lsp
from lsp_support import (
    CLIENTS,
    FILES,
    Expect,
    Span,
    config,
    initialize_params,
    json_span,
    progress_kinds,
    range_span,
    raw_request,
    request,
    span_of,
    status,
    units,
    wait_ready,
    write_files,
)
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams
from pytest_lsp import LanguageClient, client_capabilities

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_lsp.fixture(config=config(), params=list(CLIENTS), scope="module")
async def client(
    lsp_client: LanguageClient, request: pytest.FixtureRequest, tmp_path_factory: Any
) -> AsyncIterator[None]:
    root = tmp_path_factory.mktemp(f"ws-{request.param}") / "ws"
    write_files(root, FILES)
    outside = root.parent / "outside.py"
    outside.write_text("def helper():\n    return 0\n", encoding="utf-8")
    result = await lsp_client.initialize_session(
        # A bad option must not stop anything: the server warns and uses the default.
        initialize_params(
            client_capabilities(request.param), [root], {"maxFileSize": "big", "jobs": 1}
        )
    )
    lsp_client.forge_init = result  # type: ignore[attr-defined]
    lsp_client.forge_expect = Expect(root, CLIENTS[request.param])  # type: ignore[attr-defined]
    await wait_ready(lsp_client)
    yield
    await lsp_client.shutdown_session()


def expect(client: LanguageClient) -> Expect:
    return client.forge_expect  # type: ignore[attr-defined]


async def test_position_encoding_is_negotiated(client: LanguageClient) -> None:
    result: types.InitializeResult = client.forge_init  # type: ignore[attr-defined]
    assert result.capabilities.position_encoding == expect(client).encoding
    caps = result.capabilities
    assert caps.references_provider and caps.definition_provider
    assert caps.call_hierarchy_provider and caps.document_symbol_provider
    assert caps.workspace_symbol_provider


async def test_bad_option_is_shown_and_server_works(client: LanguageClient) -> None:
    warnings = [m for m in client.messages if m.type == types.MessageType.Warning]
    assert any("maxFileSize must be a positive integer" in m.message for m in warnings)
    assert (await status(client))["files"] == 4


async def test_progress_begin_and_end_arrive(client: LanguageClient) -> None:
    kinds = progress_kinds(client)
    assert kinds, "no $/progress at all"
    assert kinds[0][0] == "begin" and kinds[0][-1] == "end"


async def test_references_with_declaration(client: LanguageClient) -> None:
    e = expect(client)
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=e.doc("pkg/use.py"),
            position=e.position("pkg/use.py", "helper(1)", offset=3),
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert sorted(span_of(loc) for loc in found or []) == sorted(
        [
            e.span("pkg/core.py", "helper"),
            e.span("pkg/core.py", "helper", 1),
            e.span("pkg/use.py", "helper"),
            e.span("pkg/use.py", "helper", 1),
            e.span("pkg/use.py", "helper", 2),
            e.span("pkg/use.py", "helper", 3),
            e.span("tests/test_core.py", "helper"),
            e.span("tests/test_core.py", "helper", 2),
        ]
    )


async def test_references_without_declaration(client: LanguageClient) -> None:
    e = expect(client)
    found = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=e.doc("pkg/core.py"),
            position=e.position("pkg/core.py", "greet"),
            context=types.ReferenceContext(include_declaration=False),
        )
    )
    assert [span_of(loc) for loc in found or []] == [e.span("pkg/use.py", "greet")]


async def test_definition_from_a_non_ascii_line(client: LanguageClient) -> None:
    e = expect(client)
    found = await client.text_document_definition_async(
        types.DefinitionParams(
            text_document=e.doc("pkg/use.py"), position=e.position("pkg/use.py", "helper(2)")
        )
    )
    assert isinstance(found, list)
    assert [span_of(loc) for loc in found or []] == [e.span("pkg/core.py", "helper")]


async def _prepare(client: LanguageClient, rel: str, needle: str) -> types.CallHierarchyItem:
    e = expect(client)
    items = await client.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(
            text_document=e.doc(rel), position=e.position(rel, needle, offset=1)
        )
    )
    assert items is not None and len(items) == 1
    return items[0]


async def test_prepare_call_hierarchy(client: LanguageClient) -> None:
    e = expect(client)
    item = await _prepare(client, "pkg/use.py", "helper(1)")
    assert (item.name, item.kind) == ("helper", types.SymbolKind.Function)
    assert range_span(item.uri, item.selection_range) == e.span("pkg/core.py", "helper")
    assert isinstance(item.data, dict) and isinstance(item.data["id"], int)
    assert item.data["folder"] == e.root.as_uri()


async def test_incoming_calls_with_exact_call_sites(client: LanguageClient) -> None:
    e = expect(client)
    item = await _prepare(client, "pkg/use.py", "helper(1)")
    calls = await client.call_hierarchy_incoming_calls_async(
        types.CallHierarchyIncomingCallsParams(item=item)
    )
    got = {
        (c.from_.name, c.from_.uri): sorted(range_span(c.from_.uri, r) for r in c.from_ranges)
        for c in calls or []
    }
    use, core, test = e.uri("pkg/use.py"), e.uri("pkg/core.py"), e.uri("tests/test_core.py")
    assert got == {
        ("greet", core): [e.span("pkg/core.py", "helper", 1)],
        ("pkg.use", use): [e.span("pkg/use.py", "helper", 1), e.span("pkg/use.py", "helper", 2)],
        ("main", use): [e.span("pkg/use.py", "helper", 3)],
        ("test_helper", test): [e.span("tests/test_core.py", "helper", 2)],
    }


async def test_outgoing_calls(client: LanguageClient) -> None:
    e = expect(client)
    item = await _prepare(client, "pkg/use.py", "main")
    calls = await client.call_hierarchy_outgoing_calls_async(
        types.CallHierarchyOutgoingCallsParams(item=item)
    )
    uri = e.uri("pkg/use.py")
    got = {c.to.name: sorted(range_span(uri, r) for r in c.from_ranges) for c in calls or []}
    assert got == {
        "helper": [e.span("pkg/use.py", "helper", 3)],
        "Greeter": [e.span("pkg/use.py", "Greeter", 1)],
        "greet": [e.span("pkg/use.py", "greet")],
    }


def _tree(symbols: Any) -> list[Any]:
    return [
        (
            s.name,
            s.kind,
            (s.selection_range.start.line, s.selection_range.start.character),
            _tree(s.children or []),
        )
        for s in symbols
    ]


async def test_document_symbols_are_hierarchical(client: LanguageClient) -> None:
    e = expect(client)
    found = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=e.doc("pkg/core.py"))
    )

    def at(needle: str) -> tuple[int, int]:
        p = e.position("pkg/core.py", needle)
        return (p.line, p.character)

    kind = types.SymbolKind
    assert _tree(found) == [
        ("helper", kind.Function, at("helper"), []),
        (
            "Greeter",
            kind.Class,
            at("Greeter"),
            [
                ("__init__", kind.Method, at("__init__"), []),
                ("name", kind.Field, at("name ="), []),
                ("greet", kind.Method, at("greet"), []),
            ],
        ),
    ]


async def test_document_symbols_after_non_ascii_text(client: LanguageClient) -> None:
    e = expect(client)
    found = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=e.doc("pkg/use.py"))
    )
    assert found is not None
    by_name = {s.name: s for s in found if isinstance(s, types.DocumentSymbol)}
    x = by_name["x"]
    assert range_span(e.uri("pkg/use.py"), x.selection_range) == e.span("pkg/use.py", "x")
    y = by_name["y"]
    assert y.range.start == e.position("pkg/use.py", "y = ")
    assert y.range.end == e.position("pkg/use.py", "helper(2)", offset=len("helper(2)"))


async def test_workspace_symbol(client: LanguageClient) -> None:
    e = expect(client)
    found = await client.workspace_symbol_async(types.WorkspaceSymbolParams(query="Greet"))
    assert found is not None
    got = [(s.name, s.kind, span_of(s.location)) for s in found]  # type: ignore[arg-type]
    assert got == [
        ("greet", types.SymbolKind.Method, e.span("pkg/core.py", "greet")),
        ("Greeter", types.SymbolKind.Class, e.span("pkg/core.py", "Greeter")),
    ]


async def test_impact_of_a_symbol(client: LanguageClient) -> None:
    e = expect(client)
    result = await request(
        client,
        "forge/impact",
        {
            "textDocument": {"uri": e.uri("pkg/use.py")},
            "position": _json(e.position("pkg/use.py", "helper(1)", offset=2)),
        },
    )
    root = result["root"]
    assert (root["name"], root["kind"], root["symbolKind"]) == ("helper", "function", 12)
    assert json_span({"uri": root["uri"], "range": root["selectionRange"]}) == e.span(
        "pkg/core.py", "helper"
    )
    by_file = {
        f["uri"]: {(d["symbol"]["qualname"], d["depth"], d["confidence"]) for d in f["dependents"]}
        for f in result["files"]
    }
    assert by_file == {
        e.uri("pkg/core.py"): {("Greeter.greet", 1, "exact")},
        # `x = helper(1)` at module level: the variable depends on helper; the imports of
        # helper are no uses of it
        e.uri("pkg/use.py"): {("x", 1, "exact"), ("y", 1, "exact"), ("main", 1, "exact")},
        e.uri("tests/test_core.py"): {("test_helper", 1, "exact")},
    }
    main = next(
        d for f in result["files"] for d in f["dependents"] if d["symbol"]["name"] == "main"
    )
    [edge] = main["chain"]
    assert (edge["from"], edge["to"], edge["kind"]) == (main["symbol"]["id"], root["id"], "call")
    assert json_span(edge["location"]) == e.span("pkg/use.py", "helper", 3)
    assert [t["qualname"] for t in result["tests"]] == ["test_helper"]
    assert result["testFiles"] == [e.uri("tests/test_core.py")]
    assert result["partial"] is False and result["truncated"] is False


async def test_impact_of_a_whole_file(client: LanguageClient) -> None:
    e = expect(client)
    result = await request(client, "forge/impact", {"textDocument": {"uri": e.uri("pkg/core.py")}})
    assert result["target"] == {"uri": e.uri("pkg/core.py"), "kind": "file"}
    assert result["root"]["kind"] == "module"
    assert {r["qualname"] for r in result["roots"]} >= {"helper", "Greeter", "Greeter.greet"}
    dependents = {d["symbol"]["qualname"] for f in result["files"] for d in f["dependents"]}
    assert dependents == {"x", "y", "main", "test_helper"}


async def test_impact_rejects_bad_params(client: LanguageClient) -> None:
    e = expect(client)
    for params in (
        {"textDocument": {"uri": e.uri("pkg/core.py")}, "depth": 0},
        {"textDocument": {"uri": e.uri("pkg/core.py")}, "maxNodes": "many"},
        {"textDocument": {"uri": e.uri("pkg/core.py")}, "position": {"line": -1}},
        {"position": {"line": 0, "character": 0}},
    ):
        with pytest.raises(JsonRpcInvalidParams):
            await request(client, "forge/impact", params)
    assert (await status(client))["state"] == "ready"  # still serving


async def test_malformed_standard_params_get_an_error(client: LanguageClient) -> None:
    e = expect(client)
    with pytest.raises(JsonRpcInvalidParams):
        await raw_request(
            client, "textDocument/references", {"textDocument": {"uri": e.uri("pkg/core.py")}}
        )
    assert (await status(client))["state"] == "ready"


async def test_status(client: LanguageClient) -> None:
    e = expect(client)
    current = await status(client)
    assert current["state"] == "ready" and current["partial"] is False
    assert (current["files"], current["symbols"], current["references"]) == (4, 15, 16)
    assert current["pendingFiles"] == 0
    assert current["positionEncoding"] == e.encoding
    assert current["lastIndexSeconds"] is not None
    [folder] = current["folders"]
    assert folder["uri"] == e.root.as_uri()
    assert folder["db"] == str(e.root / ".forge" / "graph.db")
    assert folder["state"] == "ready" and folder["files"] == 4


async def test_document_outside_the_workspace_gets_empty_answers(client: LanguageClient) -> None:
    e = expect(client)
    outside = types.TextDocumentIdentifier(uri=(e.root.parent / "outside.py").as_uri())
    position = types.Position(line=0, character=5)
    refs = await client.text_document_references_async(
        types.ReferenceParams(
            text_document=outside,
            position=position,
            context=types.ReferenceContext(include_declaration=True),
        )
    )
    assert not refs
    assert not await client.text_document_definition_async(
        types.DefinitionParams(text_document=outside, position=position)
    )
    assert not await client.text_document_prepare_call_hierarchy_async(
        types.CallHierarchyPrepareParams(text_document=outside, position=position)
    )
    assert not await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=outside)
    )
    result = await request(client, "forge/impact", {"textDocument": {"uri": outside.uri}})
    assert result["root"] is None and result["files"] == [] and result["count"] == 0


async def test_unsaved_buffer_is_indexed_and_close_falls_back_to_disk(
    client: LanguageClient,
) -> None:
    """A document that exists only in the editor is in the graph; closing it hands the path back
    to the disk, where it does not exist."""
    e = expect(client)
    extra = e.root / "pkg" / "extra.py"
    extra.write_text("def extra():\n    return 0\n", encoding="utf-8")
    await _wait_until_indexed(client, e.uri("pkg/extra.py"))
    caller = e.root / "pkg" / "extra_user.py"  # never written to disk
    source = "from pkg.extra import extra\n\nz = 'é🙂'; w = extra()\n"
    doc = types.TextDocumentItem(uri=caller.as_uri(), language_id="python", version=1, text=source)
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=doc))
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=doc.uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=source)],
        )
    )
    definition = types.Position(line=0, character=5)
    params = types.ReferenceParams(
        text_document=e.doc("pkg/extra.py"),
        position=definition,
        context=types.ReferenceContext(include_declaration=False),
    )
    found = await client.text_document_references_async(params)
    expected = [(doc.uri, 0, 22, 0, 27), _buffer_span(doc.uri, source, "extra", 2, e.encoding)]
    assert sorted(span_of(loc) for loc in found or []) == sorted(expected)
    client.text_document_did_close(
        types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=doc.uri))
    )
    # the next request waits for the close: the buffer-only file is gone from the graph
    assert not await client.text_document_references_async(params)
    assert (await status(client))["state"] == "ready"


def _buffer_span(uri: str, text: str, needle: str, nth: int, encoding: str) -> Span:
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    line = text.count("\n", 0, index)
    start = text.rfind("\n", 0, index) + 1
    column = units(text[start:index], encoding)
    return (uri, line, column, line, column + units(needle, encoding))


async def _wait_until_indexed(client: LanguageClient, uri: str, timeout: float = 10.0) -> None:
    """Poll documentSymbol until a file written on disk (no editor) is in the graph."""
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    doc = types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
    while not await client.text_document_document_symbol_async(doc):
        if loop.time() > deadline:
            raise TimeoutError(f"{uri} did not appear in the graph")
        await asyncio.sleep(0.02)


def _json(position: types.Position) -> dict[str, int]:
    return {"line": position.line, "character": position.character}


async def test_a_plain_client_reaches_impact_status_and_reindex_as_commands(
    client: LanguageClient,
) -> None:
    """`workspace/executeCommand`, for clients without our plugins: the same answers."""
    init: types.InitializeResult = client.forge_init  # type: ignore[attr-defined]
    provider = init.capabilities.execute_command_provider
    assert provider is not None
    assert sorted(provider.commands) == [
        "forge-lsp.impact",
        "forge-lsp.reindex",
        "forge-lsp.status",
    ]
    e = expect(client)
    params = {
        "textDocument": {"uri": e.uri("pkg/use.py")},
        "position": _json(e.position("pkg/use.py", "helper(1)", offset=2)),
    }
    asked = await request(client, "forge/impact", params)
    command = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="forge-lsp.impact", arguments=[params])
    )
    assert command == asked and command["root"]["name"] == "helper"
    status_now = await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command="forge-lsp.status")
    )
    assert status_now["state"] == "ready" and status_now["files"] == (await status(client))["files"]
    with pytest.raises(JsonRpcInvalidParams, match=r"forge-lsp\.nothing"):
        await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="forge-lsp.nothing")
        )
