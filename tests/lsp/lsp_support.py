"""Shared by the LSP tests: the fixture workspace, expected positions in any encoding, waiting.

Expected positions are computed here from the fixture text with Python's own codecs, never with
the server's conversion code, so that the end-to-end tests check the server against an
independent oracle.
"""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap
import uuid
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.protocol import JsonRPCRequestMessage, JsonRPCResponseMessage, default_converter
from pytest_lsp import ClientServerConfig, LanguageClient
from pytest_lsp.client import register_lsp_features

SERVER_COMMAND = [sys.executable, "-m", "forge_lsp", "serve"]

CLIENTS = {
    "visual_studio_code": "utf-16",
    "neovim": "utf-8",
    "emacs": "utf-32",
}

# Non-ASCII text (2-, 3- and 4-byte UTF-8; a UTF-16 surrogate pair) before identifiers on the same
# line, so that every column after it differs between the three encodings.
FILES = {
    "pkg/__init__.py": "",
    "pkg/core.py": '''
        """Core functions."""


        def helper(value):
            return value + 1


        class Greeter:
            def __init__(self, name):
                self.name = name

            def greet(self):
                return helper(len(self.name))
        ''',
    "pkg/use.py": """
        from pkg.core import Greeter, helper

        s = 'é🙂'; x = helper(1)
        label = "日本"; y = helper(2)


        def main():
            g = Greeter("ü")
            return g.greet() + helper(3)
        """,
    "tests/test_core.py": """
        from pkg.core import helper


        def test_helper():
            assert helper(1) == 2
        """,
}


def write_files(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


def units(text: str, encoding: str) -> int:
    """Length of `text` in the code units of an LSP position encoding."""
    if encoding == "utf-8":
        return len(text.encode("utf-8"))
    if encoding == "utf-16":
        return len(text.encode("utf-16-le")) // 2
    return len(text)


Span = tuple[str, int, int, int, int]  # uri, start line, start character, end line, end character


class Expect:
    """Expected URIs, positions and ranges in the fixture, in one client's encoding."""

    def __init__(self, root: Path, encoding: str) -> None:
        self.root = root
        self.encoding = encoding

    def uri(self, rel: str) -> str:
        return (self.root / rel).as_uri()

    def text(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def position(self, rel: str, needle: str, nth: int = 0, offset: int = 0) -> types.Position:
        text = self.text(rel)
        index = -1
        for _ in range(nth + 1):
            index = text.index(needle, index + 1)
        index += offset
        line = text.count("\n", 0, index)
        start = text.rfind("\n", 0, index) + 1
        return types.Position(line=line, character=units(text[start:index], self.encoding))

    def span(self, rel: str, needle: str, nth: int = 0, offset: int = 0) -> Span:
        """The range of `needle` (its nth occurrence; `offset` code points into it)."""
        start = self.position(rel, needle, nth, offset)
        needle = needle[offset:]
        return (
            self.uri(rel),
            start.line,
            start.character,
            start.line,
            start.character + units(needle, self.encoding),
        )

    def doc(self, rel: str) -> types.TextDocumentIdentifier:
        return types.TextDocumentIdentifier(uri=self.uri(rel))


def span_of(location: types.Location) -> Span:
    r = location.range
    return (location.uri, r.start.line, r.start.character, r.end.line, r.end.character)


def range_span(uri: str, r: types.Range) -> Span:
    return (uri, r.start.line, r.start.character, r.end.line, r.end.character)


def json_span(location: dict[str, Any]) -> Span:
    r = location["range"]
    return (
        location["uri"],
        r["start"]["line"],
        r["start"]["character"],
        r["end"]["line"],
        r["end"]["character"],
    )


def _converter() -> Any:
    converter = default_converter()
    # Custom (forge/*) results stay plain JSON: pygls would make namedtuples of them, and
    # rename keys such as "from" that are not identifiers.
    converter.register_structure_hook(JsonRPCResponseMessage, lambda obj, cls: cls(**obj))
    return converter


def make_client() -> LanguageClient:
    """pytest-lsp's test client, except that custom results are left as dicts, and dynamic
    registrations are accepted and recorded in `client.registrations` (as editors do)."""
    client = LanguageClient(converter_factory=_converter)
    register_lsp_features(client)
    client.registrations = []  # type: ignore[attr-defined]

    @client.feature(types.CLIENT_REGISTER_CAPABILITY)
    def register(client: LanguageClient, params: types.RegistrationParams) -> None:
        client.registrations.extend(params.registrations)  # type: ignore[attr-defined]

    return client


def config(env: dict[str, str] | None = None) -> ClientServerConfig:
    return ClientServerConfig(
        server_command=SERVER_COMMAND,
        client_factory=make_client,
        server_env={**os.environ, **env} if env else None,
    )


async def request(client: LanguageClient, method: str, params: Any = None) -> Any:
    return await client.protocol.send_request_async(method, params)


async def raw_request(client: LanguageClient, method: str, params: Any) -> Any:
    """Send params as they are, bypassing the client's typed serialization (for bad params)."""
    msg_id = str(uuid.uuid4())
    future: Future[Any] = Future()
    client.protocol._request_futures[msg_id] = future
    client.protocol._send_data(
        JsonRPCRequestMessage(id=msg_id, method=method, jsonrpc="2.0", params=params)
    )
    return await asyncio.wrap_future(future)


async def status(client: LanguageClient) -> dict[str, Any]:
    result: dict[str, Any] = await request(client, "forge/status")
    return result


async def wait_ready(client: LanguageClient, timeout: float = 30.0) -> dict[str, Any]:
    """Poll forge/status until every folder is indexed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        current = await status(client)
        if current["state"] == "ready":
            return current
        if loop.time() > deadline:
            raise TimeoutError(f"server not ready after {timeout} s: {current}")
        await asyncio.sleep(0.05)


def initialize_params(
    capabilities: types.ClientCapabilities,
    folders: list[Path],
    options: dict[str, Any] | None = None,
) -> types.InitializeParams:
    return types.InitializeParams(
        capabilities=capabilities,
        root_uri=folders[0].as_uri() if folders else None,
        workspace_folders=[types.WorkspaceFolder(uri=f.as_uri(), name=f.name) for f in folders],
        initialization_options=options,
    )


def progress_kinds(client: LanguageClient) -> list[list[str]]:
    """The kinds (begin/report/end) received for each progress token, in order."""
    return [
        [type(v).__name__.removeprefix("WorkDoneProgress").lower() for v in values]
        for values in client.progress_reports.values()
    ]
