"""`workspace/executeCommand`: `forge-lsp.impact`, `forge-lsp.status` and `forge-lsp.reindex`,
so that a plain LSP client, without our editor plugins, reaches what the custom `forge/*`
requests do.

Each command takes, as its one argument, the params of the request it stands for (docs/lsp.md)
and gives its answer. The names are not the VS Code extension's `forge.*` commands:
vscode-languageclient registers a command of the server's under its own name, and two
registrations of one name fail.
"""

from __future__ import annotations

from forge_lsp.server.app import ForgeServer, command
from forge_lsp.server.impact import forge_impact
from forge_lsp.server.reindex import forge_reindex
from forge_lsp.server.status import forge_status

COMMANDS = {
    "forge-lsp.impact": forge_impact,
    "forge-lsp.status": forge_status,
    "forge-lsp.reindex": forge_reindex,
}


def register(server: ForgeServer) -> None:
    for name, handler in COMMANDS.items():
        command(server, name)(handler)
