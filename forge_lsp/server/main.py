"""The language server assembled: every request family registered (one module each, as
ruff's server has one per request), logs sent to the client, and the process that runs it.

Only this module imports the request modules, and they import `server.app` for the server
class and the `request` decorator: no import cycle.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

from forge_lsp import __version__
from forge_lsp.server import (
    call_hierarchy,
    commands,
    definition,
    impact,
    lifecycle,
    references,
    reindex,
    status,
    symbols,
)
from forge_lsp.server.app import ClientLogHandler, ExpectedErrorFilter, ForgeServer
from forge_lsp.server.live import abandon

log = logging.getLogger("forge_lsp.server")

REQUEST_FAMILIES = (
    references,
    definition,
    call_hierarchy,
    symbols,
    impact,
    status,
    reindex,
    commands,
)


def create_server() -> ForgeServer:
    """A server with every feature registered."""
    server = ForgeServer()
    lifecycle.register(server)
    for family in REQUEST_FAMILIES:
        family.register(server)
    client_log = ClientLogHandler(server)
    client_log.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("forge_lsp").addHandler(client_log)
    logging.getLogger("pygls").addHandler(client_log)
    logging.getLogger("pygls.protocol.json_rpc").addFilter(ExpectedErrorFilter())
    return server


def serve(*, tcp: bool = False, host: str = "127.0.0.1", port: int = 2087) -> int:
    """Run until the client says `exit` (stdio) or the connection ends (TCP); SIGTERM and
    SIGINT stop it as `exit` would: what is not committed never will be (one transaction per
    update), the parse workers are ended, the process exits 0 at once."""
    server = create_server()

    def stop(signum: int, frame: object) -> None:
        log.warning("forge-lsp: %s: stopping", signal.Signals(signum).name)
        if server.busy:
            abandon()
        logging.shutdown()
        os._exit(0)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    if tcp:
        log.info("forge-lsp %s listening on %s:%d", __version__, host, port)
        server.start_tcp(host, port)
    else:
        server.start_io()
    if server.busy:  # the client went away mid-update (no `exit`): do not wait for it
        log.warning("connection closed while indexing: the update is not committed")
        abandon()
        logging.shutdown()
        os._exit(0)
    return 0
