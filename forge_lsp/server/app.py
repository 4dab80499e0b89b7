"""The language server object: pygls wiring, the request plumbing, logging, and how to run it.

Requests are `async` handlers: each hands its work to a small thread pool of its own (never
pygls' pool, which also reads stdin) and awaits it, so the message loop stays free, `$/cancelRequest`
cancels the wait at once, and the worker stops at its next database step (see cancellation.py).
An unexpected exception is logged with its traceback (also sent to the client as a
`window/logMessage`) and answered as a JSON-RPC internal error; the server carries on.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import attrs
from cattrs import Converter as CattrsConverter
from lsprotocol import types
from pygls.exceptions import JsonRpcException, JsonRpcInternalError, JsonRpcInvalidParams
from pygls.io_ import StdoutWriter
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol, default_converter
from pygls.protocol.json_rpc import JsonRPCNotification
from pygls.uris import to_fs_path

from forge_lsp import __version__
from forge_lsp.server.cancellation import Cancelled, check
from forge_lsp.server.documents import DiskLines, OpenDocuments, TextSnapshot
from forge_lsp.server.framing import LimitedStdinReader, read_frames
from forge_lsp.server.live import ProgressBridge
from forge_lsp.server.options import ServerOptions
from forge_lsp.server.positions import UTF16
from forge_lsp.server.workspace import Folder, Workspaces

log = logging.getLogger("forge_lsp.server")

T = TypeVar("T")
# Test hooks (documented in docs/lsp.md): methods that fail with an internal error, and methods
# whose work is delayed on the query thread (`method=seconds`), to exercise the error and the
# cancellation paths end to end.
FAULT_ENV = "FORGE_LSP_FAULT"
DELAY_ENV = "FORGE_LSP_DELAY"
_QUERY_THREADS = 4


@attrs.define
class RawRequest:
    """A custom (forge/*) request whose params stay a plain dict, validated by its handler."""

    id: int | str
    method: str
    jsonrpc: str
    params: Any = None


def _converter() -> CattrsConverter:
    converter = default_converter()
    converter.register_structure_hook(RawRequest, lambda obj, cls: cls(**obj))
    return converter


_DROPPED = JsonRPCNotification(method="$/forge/dropped", jsonrpc="2.0", params=None)


class ForgeProtocol(LanguageServerProtocol):
    """pygls' protocol, plus: raw params for forge/* requests, and an answer to bad params.

    pygls drops a request whose params do not deserialize (the client would wait forever); here
    it is answered with InvalidParams instead.
    """

    forge_initialized = False  # `initialize` was received

    def get_message_type(self, method: str) -> type[Any] | None:  # type: ignore[override]
        if method.startswith("forge/"):
            return RawRequest
        return types.METHOD_TO_TYPES.get(method, (None,))[0]

    def structure_message(self, data: dict[str, Any]) -> Any:
        msg_id = data.get("id")
        if "jsonrpc" in data and (
            isinstance(msg_id, bool) or not isinstance(msg_id, int | str | None)
        ):
            self.reply_error(None, -32600, "Invalid Request: id must be a number or a string")
            return _DROPPED
        try:
            return super().structure_message(data)
        except JsonRpcException as exc:
            if "id" in data and "method" in data:
                error = types.ResponseError(
                    code=exc.code, message=f"invalid params for {data['method']}"
                )
                self._send_response(data["id"], error=error)
                return _DROPPED
            raise

    def reply_error(self, msg_id: Any, code: int, message: str) -> None:
        self._send_response(msg_id, error=types.ResponseError(code=code, message=message))

    def handle_message(self, message: Any) -> None:
        """The lifecycle as LSP has it: before `initialize`, requests get ServerNotInitialized
        (-32002) and notifications are dropped (`exit` aside); `initialize` is answered once."""
        method = getattr(message, "method", None)
        if method == types.INITIALIZE:
            if self.forge_initialized:
                self.reply_error(message.id, -32600, "initialize was already called")
                return
            self.forge_initialized = True
        elif method is not None and not self.forge_initialized and method != types.EXIT:
            if getattr(message, "id", None) is not None:
                self.reply_error(message.id, -32002, "the server is not initialized")
            return
        super().handle_message(message)


class ClientLogHandler(logging.Handler):
    """Sends log records to the client as `window/logMessage`, from any thread."""

    _levels = (
        (logging.ERROR, types.MessageType.Error),
        (logging.WARNING, types.MessageType.Warning),
        (logging.INFO, types.MessageType.Info),
        (logging.NOTSET, types.MessageType.Log),
    )

    def __init__(self, server: ForgeServer) -> None:
        super().__init__(logging.WARNING)
        self.server = server
        self._local = threading.local()

    def emit(self, record: logging.LogRecord) -> None:
        loop = self.server.loop
        if loop is None or loop.is_closed() or getattr(self._local, "busy", False):
            return
        kind = next(t for level, t in self._levels if record.levelno >= level)
        try:
            self._local.busy = True
            params = types.LogMessageParams(type=kind, message=self.format(record))
            loop.call_soon_threadsafe(self.server.window_log_message, params)
        except Exception:
            self.handleError(record)
        finally:
            self._local.busy = False


class ForgeServer(LanguageServer):
    """The forge-lsp language server: session state shared by the handlers."""

    def __init__(self) -> None:
        super().__init__(
            "forge-lsp", __version__, protocol_cls=ForgeProtocol, converter_factory=_converter
        )
        self.options = ServerOptions()
        self.bridge = ProgressBridge(self)
        self.workspaces = Workspaces(self.options, self.bridge)
        self.documents = OpenDocuments()
        self.disk = DiskLines()
        self.executor = ThreadPoolExecutor(_QUERY_THREADS, thread_name_prefix="forge-query")
        self.loop: asyncio.AbstractEventLoop | None = None
        self.problems: list[str] = []
        self.shutting_down = False
        self.counters = {"requests": 0, "cancelled": 0, "errors": 0}
        self.faults = {m for m in os.environ.get(FAULT_ENV, "").split(",") if m}
        self.delays = _delays(os.environ.get(DELAY_ENV, ""))

    def _start_io_async(self, stdin: Any = None, stdout: Any = None) -> None:
        """pygls' stdio loop, reading frames with forge_lsp.server.framing: a bad frame from a
        client is skipped, never the end of the session."""
        self._stop_event = threading.Event()
        reader = LimitedStdinReader(stdin or sys.stdin.buffer, self.thread_pool)
        self.protocol.set_writer(StdoutWriter(stdout or sys.stdout.buffer))
        protocol = self.protocol
        assert isinstance(protocol, ForgeProtocol)
        try:
            asyncio.run(read_frames(self._stop_event, reader, protocol, protocol.reply_error))
        except BrokenPipeError:
            logging.getLogger(__name__).error("the client is gone: shutting down")
        except (KeyboardInterrupt, SystemExit):
            pass
        finally:
            self.shutdown()

    # ----- paths and text --------------------------------------------------------------------

    @property
    def encoding(self) -> str:
        """The negotiated position encoding as its LSP name ("utf-8", "utf-16" or "utf-32")."""
        negotiated = self.workspace.position_encoding or UTF16
        return str(getattr(negotiated, "value", negotiated))

    def locate(self, uri: str) -> tuple[Folder, str] | None:
        """The folder holding a document and its graph path; None outside every folder."""
        path = to_fs_path(uri) if uri.startswith("file:") else None
        if path is None:
            return None
        return self.workspaces.route(path)

    def snapshot(self) -> TextSnapshot:
        """The open buffers, by graph path, for converting positions on a worker thread."""
        texts: dict[str, str] = {}
        for uri, doc in list(self.workspace.text_documents.items()):
            located = self.locate(uri)
            if located is not None:
                texts[located[1]] = doc.source
        return TextSnapshot(self.encoding, texts, self.disk)

    @property
    def busy(self) -> bool:
        """Some folder is writing its graph right now."""
        return any(f.live.busy for f in self.workspaces.folders)

    # ----- running work off the loop ---------------------------------------------------------

    async def run(self, work: Callable[[threading.Event], T]) -> T:
        """Run `work(cancel)` on a query thread; a cancelled request sets `cancel` and stops it."""
        cancel = threading.Event()
        future = self.executor.submit(work, cancel)
        try:
            return await asyncio.wrap_future(future)
        except asyncio.CancelledError:
            cancel.set()
            self.counters["cancelled"] += 1
            raise


Handler = Callable[[ForgeServer, Any], Awaitable[Any]]


def _delays(spec: str) -> dict[str, float]:
    delays = {}
    for item in filter(None, spec.split(",")):
        method, _, seconds = item.partition("=")
        try:
            delays[method] = float(seconds)
        except ValueError:
            log.warning("%s: ignoring %r (expected method=seconds)", DELAY_ENV, item)
    return delays


def _sleep(seconds: float) -> Callable[[threading.Event], None]:
    def work(cancel: threading.Event) -> None:
        cancel.wait(seconds)
        check(cancel)

    return work


def guarded(server: ForgeServer, method: str, handler: Handler) -> Handler:
    """`handler` with uniform error handling and the fault-injection hooks: an internal error
    is logged with its traceback and answered as one line, never a crash."""

    @functools.wraps(handler)
    async def run_guarded(ls: ForgeServer, params: Any) -> Any:
        server.counters["requests"] += 1
        try:
            if method in server.faults:
                raise RuntimeError(f"fault injected into {method} ({FAULT_ENV})")
            if method in server.delays:
                await server.run(_sleep(server.delays[method]))
            return await handler(ls, params)
        except (asyncio.CancelledError, JsonRpcException):
            raise
        except Cancelled:
            raise asyncio.CancelledError() from None
        except Exception as exc:
            server.counters["errors"] += 1
            log.exception("internal error in %s", method)
            error = JsonRpcInternalError(
                message=f"forge-lsp internal error in {method}: {exc!r} (traceback in the log)"
            )
            error.forge_logged = True  # type: ignore[attr-defined]
            raise error from exc

    return run_guarded


def request(server: ForgeServer, method: str) -> Callable[[Handler], Handler]:
    """Register an async request handler, guarded."""

    def decorate(handler: Handler) -> Handler:
        server.feature(method)(guarded(server, method, handler))
        return handler

    return decorate


def command(server: ForgeServer, name: str) -> Callable[[Handler], Handler]:
    """Register a `workspace/executeCommand` command (advertised in the capabilities) whose
    one argument is the params of `handler`, guarded as a request is."""

    def decorate(handler: Handler) -> Handler:
        run = guarded(server, name, handler)

        async def execute(ls: ForgeServer, *arguments: Any) -> Any:
            return await run(ls, arguments[0] if arguments else None)

        execute.__name__ = execute.__qualname__ = f"command_{name.replace('.', '_')}"
        server.command(name)(execute)
        return handler

    return decorate


class ExpectedErrorFilter(logging.Filter):
    """Keeps pygls' log about expected failures short.

    pygls logs every error answer with a traceback. A client's bad params (InvalidParams) are
    the client's business: one line is enough. An internal error the request guard already
    logged with its traceback is not logged twice.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Ignoring notification for unknown method '$/forge/"):
            return False
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, JsonRpcInternalError) and getattr(exc, "forge_logged", False):
            return False
        expected = isinstance(exc, JsonRpcInvalidParams) or record.getMessage().startswith(
            "Unable to deserialize message"
        )
        if expected:
            first = record.getMessage().split("\n", 1)[0]
            record.msg, record.args = f"{first}: {exc}" if exc is not None else first, None
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.exc_info, record.exc_text = None, None
        return True


def configure_logging(level: int, log_file: str | None = None) -> None:
    """Log to stderr (editors show it) or a file; pygls' own chatter only when debugging."""
    handler: logging.Handler = (
        logging.FileHandler(log_file, encoding="utf-8")
        if log_file
        else logging.StreamHandler(sys.stderr)
    )
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    set_log_level(level)


def set_log_level(level: int) -> None:
    logging.getLogger("forge_lsp").setLevel(level)
    logging.getLogger("pygls").setLevel(
        logging.DEBUG if level <= logging.DEBUG else logging.WARNING
    )
