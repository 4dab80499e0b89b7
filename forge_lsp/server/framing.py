"""Reading JSON-RPC frames from a client that may send anything.

pygls' own loop trusts its input: one bad or missing `Content-Length` leaves it reading bodies
as headers for good, and `Content-Length: 1000000000000` allocates that much. Here a bad frame
is logged and skipped and the reader finds the next header: a header line counts wherever
`Content-Length:` appears in it (a body without a newline runs into the next header); a frame
over `max_bytes` is never allocated: its body is read as garbage lines up to the next header,
each line at most LINE_LIMIT bytes; a body that is not JSON, or not a message, is answered as
the specification says when it can be (-32700 parse error, -32600 invalid request).
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import threading
from collections.abc import Awaitable
from typing import Any, Protocol

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 << 20
LINE_LIMIT = 1 << 20  # header lines (and garbage) are read at most this much at a time
_LENGTH = re.compile(rb"Content-Length:[ \t]*([^\r\n]*)", re.IGNORECASE)


class LimitedStdinReader:
    """Stdin as pygls reads it, but no line longer than LINE_LIMIT is ever read at once."""

    def __init__(self, stdin: Any, executor: Any) -> None:
        self.stdin = stdin
        self.executor = executor

    def readline(self) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(
            self.executor, self.stdin.readline, LINE_LIMIT
        )

    def readexactly(self, n: int) -> Awaitable[bytes]:
        return asyncio.get_running_loop().run_in_executor(self.executor, self.stdin.read, n)


class Reader(Protocol):
    def readline(self) -> Awaitable[bytes]: ...
    def readexactly(self, n: int) -> Awaitable[bytes]: ...


class MessageSink(Protocol):
    def structure_message(self, data: dict[str, Any]) -> Any: ...
    def handle_message(self, message: Any) -> None: ...


async def read_frames(
    stop: threading.Event,
    reader: Reader,
    protocol: MessageSink,
    reply_error: Any = None,
    max_bytes: int = MAX_FRAME_BYTES,
) -> None:
    """Hand every well-formed message to the protocol until the input ends or `stop` is set."""
    length: int | None = None
    while not stop.is_set():
        line = await reader.readline()
        if not line:
            return
        found = _LENGTH.search(line)
        if found is not None:
            length = _length(found.group(1))
            if length is None:
                log.warning("dropped a frame: bad Content-Length %r", found.group(1)[:40])
            continue
        if line.strip() or length is None:
            continue  # another header, or garbage before the next Content-Length
        size, length = length, None
        if size > max_bytes:
            log.warning("dropped a frame of %d bytes (the limit is %d)", size, max_bytes)
            continue
        body = await reader.readexactly(size) if size else b""
        if len(body) < size:
            return  # the input ended inside the frame
        _deliver(body, protocol, reply_error)


def _length(text: bytes) -> int | None:
    text = text.strip()
    if not text.isdigit():
        return None
    return int(text)


def _deliver(body: bytes, protocol: MessageSink, reply_error: Any) -> None:
    try:
        message = json.loads(body, object_hook=protocol.structure_message)
    except (ValueError, TypeError, RecursionError) as exc:
        log.warning("dropped a frame that is not JSON-RPC: %s", exc)
        if reply_error is not None:
            reply_error(None, -32700, "Parse error")
        return
    if not hasattr(message, "jsonrpc"):  # a JSON value that is no message (a list, a number)
        log.warning("dropped a frame that is not a JSON-RPC message")
        if reply_error is not None:
            reply_error(None, -32600, "Invalid Request")
        return
    try:
        protocol.handle_message(message)
    except Exception:
        log.exception("handling a message failed")
