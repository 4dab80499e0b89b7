"""A bare JSON-RPC session with a real `forge-lsp serve` process: raw bytes in, parsed messages
out, no client library in between, so that tests can send broken frames or kill the server at any
moment."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any


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
        self.next_id = 1000  # ids for `ask`, clear of the ones tests choose

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

    def ask(self, method: str, params: object) -> Any:
        """A request with the next free id; its result (None for an error)."""
        self.next_id += 1
        self.message({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.reply(self.next_id, timeout=60).get("result")

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until the first folder is indexed and its watcher runs."""
        deadline = time.monotonic() + timeout
        folder = None
        while time.monotonic() < deadline:
            folder = self.ask("forge/status", {})["folders"][0]
            if folder["state"] == "ready" and folder["live"]["watcher"] == "running":
                return
            time.sleep(0.05)
        raise AssertionError(f"the server never became ready: {folder}")

    def close(self) -> int:
        self.message({"jsonrpc": "2.0", "id": 999, "method": "shutdown"})
        self.reply(999)
        self.message({"jsonrpc": "2.0", "method": "exit"})
        return self.process.wait(timeout=20)
