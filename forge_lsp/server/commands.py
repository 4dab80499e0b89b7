"""`workspace/executeCommand`: `forge.impact`, `forge.status` and `forge.reindex`, so that a
plain LSP client, without our editor plugins, reaches what the custom `forge/*` requests do.

Each command takes, as its one argument, the params of the request it stands for (docs/lsp.md)
and gives its answer.
"""

from __future__ import annotations

from forge_lsp.server.app import ForgeServer, command
from forge_lsp.server.impact import forge_impact
from forge_lsp.server.reindex import forge_reindex
from forge_lsp.server.status import forge_status

COMMANDS = {
    "forge.impact": forge_impact,
    "forge.status": forge_status,
    "forge.reindex": forge_reindex,
}


def register(server: ForgeServer) -> None:
    for name, handler in COMMANDS.items():
        command(server, name)(handler)
