"""Raw bytes at the server's stdin: bad frames are skipped and the session goes on; the lifecycle
answers as LSP says. A real `forge-lsp serve` process, no client library in between."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st


class RawSession:
    def __init__(self, root: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "forge_lsp", "serve"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=root,
        )
        self.replies: queue.Queue[dict[str, Any]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.root = root

    def _read(self) -> None:
        out = self.process.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
                elif line in (b"\r\n", b"\n"):
                    break
            assert length is not None
            self.replies.put(json.loads(out.read(length)))

    def send(self, raw: bytes) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(raw)
        self.process.stdin.flush()

    def message(self, payload: dict[str, Any]) -> None:
        body = json.dumps(payload).encode()
        self.send(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))

    def reply(self, msg_id: Any, timeout: float = 20.0) -> dict[str, Any]:
        while True:
            found = self.replies.get(timeout=timeout)
            if found.get("id") == msg_id and "method" not in found:
                return found

    def initialize(self, msg_id: int = 1) -> dict[str, Any]:
        self.message(
            {
                "jsonrpc": "2.0",
                "id": msg_id,
                "method": "initialize",
                "params": {"processId": None, "rootUri": self.root.as_uri(), "capabilities": {}},
            }
        )
        return self.reply(msg_id)

    def close(self) -> int:
        self.message({"jsonrpc": "2.0", "id": 999, "method": "shutdown"})
        self.reply(999)
        self.message({"jsonrpc": "2.0", "method": "exit"})
        return self.process.wait(timeout=20)


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
