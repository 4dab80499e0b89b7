"""A minimal, self-contained JSON-RPC/LSP client over a child process's stdio.

Enough to drive a real language server for benchmarking: Content-Length framing, a reader thread,
blocking requests with timeouts (and ``$/cancelRequest`` on expiry), answers to the server's own
requests (configuration, capability registration, progress tokens), and progress tracking so a
caller can wait for the server's background work to finish.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from typing import IO, Any

JsonObj = dict[str, Any]
ConfigHandler = Callable[[JsonObj], Any]


class LspError(RuntimeError):
    """The server answered a request with an error object."""


class LspTimeout(TimeoutError):
    """The server did not answer a request in time (the request was cancelled)."""


def encode_message(payload: JsonObj) -> bytes:
    """Frame one JSON-RPC message with the LSP ``Content-Length`` header."""
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def read_message(stream: IO[bytes]) -> JsonObj | None:
    """Read one framed message; None at end of stream."""
    length = None
    while True:
        header = stream.readline()
        if not header:
            return None
        header = header.strip()
        if not header:
            break
        name, _, value = header.decode("ascii").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    if length is None:
        raise ValueError("LSP message without Content-Length")
    body = stream.read(length)
    if len(body) < length:
        return None
    return json.loads(body)


class _Pending:
    """A request waiting for its response."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.message: JsonObj = {}


class LspClient:
    """Drive one language server process.  Not a general client: one caller thread at a time."""

    def __init__(
        self,
        argv: Sequence[str],
        config_handler: ConfigHandler = lambda item: None,
        log: IO[str] | None = None,
        cwd: str | None = None,
    ) -> None:
        self._config_handler = config_handler
        self._log = log
        self._write_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._pending: dict[int, _Pending] = {}
        self._next_id = 0
        self._active_progress: set[Any] = set()
        self._last_activity = time.monotonic()
        self.progress_log: list[tuple[float, str, str]] = []
        self.log_messages: list[str] = []
        self.process = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log if log is not None else subprocess.DEVNULL,
            cwd=cwd,
        )
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # -- sending ---------------------------------------------------------------------------

    def _send(self, payload: JsonObj) -> None:
        payload["jsonrpc"] = "2.0"
        data = encode_message(payload)
        assert self.process.stdin is not None
        with self._write_lock:
            self.process.stdin.write(data)
            self.process.stdin.flush()

    def notify(self, method: str, params: Any = None) -> None:
        """Send a notification (no answer expected)."""
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any = None, timeout: float = 60.0) -> Any:
        """Send a request and block for its result; cancel and raise LspTimeout on expiry."""
        with self._state_lock:
            self._next_id += 1
            request_id = self._next_id
            pending = self._pending[request_id] = _Pending()
        self._send({"id": request_id, "method": method, "params": params})
        if not pending.done.wait(timeout):
            self.notify("$/cancelRequest", {"id": request_id})
            with self._state_lock:
                self._pending.pop(request_id, None)
            raise LspTimeout(f"{method} timed out after {timeout} s")
        if "error" in pending.message:
            raise LspError(json.dumps(pending.message["error"]))
        return pending.message.get("result")

    # -- receiving -------------------------------------------------------------------------

    def _read_loop(self) -> None:
        assert self.process.stdout is not None
        while True:
            message = read_message(self.process.stdout)
            if message is None:
                break
            self._last_activity = time.monotonic()
            if "method" in message and "id" in message:
                self._answer_server_request(message)
            elif "method" in message:
                self._on_notification(message)
            else:
                self._on_response(message)
        with self._state_lock:
            for pending in self._pending.values():
                pending.message = {"error": {"message": "server exited"}}
                pending.done.set()

    def _on_response(self, message: JsonObj) -> None:
        with self._state_lock:
            pending = self._pending.pop(message.get("id", -1), None)
        if pending is not None:
            pending.message = message
            pending.done.set()

    def _answer_server_request(self, message: JsonObj) -> None:
        """Answer what a server asks of its client; configuration goes to the handler."""
        method = message["method"]
        params = message.get("params") or {}
        result: Any = None
        if method == "workspace/configuration":
            result = [self._config_handler(item) for item in params.get("items", [])]
        self._send({"id": message["id"], "result": result})

    def _on_notification(self, message: JsonObj) -> None:
        method = message["method"]
        params = message.get("params") or {}
        if method == "$/progress":
            self._on_progress(params)
        elif method in ("window/logMessage", "window/showMessage"):
            text = str(params.get("message", ""))
            self.log_messages.append(text)
            if self._log is not None:
                self._log.write(f"[{method}] {text}\n")
                self._log.flush()

    def _on_progress(self, params: JsonObj) -> None:
        value = params.get("value") or {}
        kind = value.get("kind", "")
        token = params.get("token")
        with self._state_lock:
            if kind == "begin":
                self._active_progress.add(token)
            elif kind == "end":
                self._active_progress.discard(token)
            text = value.get("title") or value.get("message") or ""
            self.progress_log.append((time.monotonic(), kind, str(text)))

    # -- waiting ---------------------------------------------------------------------------

    def wait_for_log(self, pattern: re.Pattern[str], timeout: float) -> bool:
        """Wait until the server has logged a message matching ``pattern``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(pattern.search(text) for text in list(self.log_messages)):
                return True
            time.sleep(0.2)
        return False

    def progress_active(self) -> bool:
        """Whether a `$/progress` the server began has not ended yet."""
        with self._state_lock:
            return bool(self._active_progress)

    def wait_quiet(self, quiet: float, timeout: float) -> bool:
        """Wait until no progress is active and the server has been silent for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._state_lock:
                busy = bool(self._active_progress)
            if not busy and time.monotonic() - self._last_activity >= quiet:
                return True
            time.sleep(0.2)
        return False

    def close(self, timeout: float = 20.0) -> None:
        """Shut the server down politely, then forcibly."""
        try:
            self.request("shutdown", None, timeout=timeout)
            self.notify("exit")
            self.process.wait(timeout=timeout)
        except (LspError, LspTimeout, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
