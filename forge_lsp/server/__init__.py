"""The language server: thin LSP wiring over the graph's query API (no SQL, no parsing here).

Modules: app (server object, request plumbing, logging), lifecycle (initialize … exit, document
sync), handlers (the features), workspace (folders, routing, read connections), background
(indexing with $/progress), convert (graph records → LSP), positions and documents (position
encodings), options (initializationOptions), cancellation ($/cancelRequest down to SQLite).
"""

from __future__ import annotations

from forge_lsp.server.app import create_server, serve

__all__ = ["create_server", "serve"]
