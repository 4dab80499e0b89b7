"""Raw bytes at the server's stdin: bad frames are skipped and the session goes on; the lifecycle
answers as LSP says. A real `forge-lsp serve` process, no client library in between."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from raw_session import RawSession


@pytest.fixture
def session(tmp_path: Path) -> Any:
    (tmp_path / "app.py").write_text("def app():\n    return 1\n")
    raw = RawSession(tmp_path)
    yield raw
    if raw.process.poll() is None:
        raw.process.kill()
        raw.process.wait()


def test_the_lifecycle_as_lsp_says(session: RawSession) -> None:
    session.message(
        {"jsonrpc": "2.0", "id": 1, "method": "workspace/symbol", "params": {"query": "a"}}
    )
    assert session.reply(1)["error"]["code"] == -32002  # not initialized yet
    assert "capabilities" in session.initialize(2)["result"]
    again = session.initialize(3)
    assert again["error"]["code"] == -32600
    assert session.close() == 0


def test_bad_frames_are_skipped_and_the_session_goes_on(session: RawSession) -> None:
    for bad in (
        b"Content-Length: abc\r\n\r\n{}",
        b"Content-Length: -5\r\n\r\n{}",
        b'\r\n\r\n{"jsonrpc": "2.0"}',  # no Content-Length at all
        b"Content-Length: 1000000000000\r\n\r\n",  # never allocated
        b"Content-Length: 5\r\n\r\n{nope",  # not JSON: a parse error answer
    ):
        session.send(bad)
    assert session.reply(None)["error"]["code"] == -32700
    session.message({"jsonrpc": "2.0", "id": {"an": "object"}, "method": "forge/status"})
    assert session.reply(None)["error"]["code"] == -32600
    assert "capabilities" in session.initialize(7)["result"]
    assert session.close() == 0


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=300))
def test_any_bytes_before_a_good_frame_leave_the_server_answering(
    tmp_path: Path, junk: bytes
) -> None:
    from forge_lsp.server.framing import read_frames

    # the reader itself, in process: whatever precedes it, a well-formed frame is delivered
    delivered: list[Any] = []

    class Sink:
        def structure_message(self, data: dict[str, Any]) -> Any:
            return type("M", (), {"jsonrpc": "2.0", "data": data})() if "jsonrpc" in data else data

        def handle_message(self, message: Any) -> None:
            delivered.append(message.data)

    good = b'{"jsonrpc": "2.0", "method": "ping"}'
    stream = junk + b"\r\n\r\nContent-Length: %d\r\n\r\n%s" % (len(good), good)

    class Reader:
        def __init__(self) -> None:
            self.data = stream

        async def readline(self) -> bytes:
            cut = self.data.find(b"\n") + 1 or len(self.data)
            line, self.data = self.data[:cut], self.data[cut:]
            return line

        async def readexactly(self, n: int) -> bytes:
            part, self.data = self.data[:n], self.data[n:]
            return part

    import asyncio

    asyncio.run(read_frames(threading.Event(), Reader(), Sink()))
    assert delivered[-1:] == [{"jsonrpc": "2.0", "method": "ping"}]
