"""The language server: thin LSP wiring over the graph's query API (no SQL, no parsing here).

Modules: app (server object, request plumbing, logging), main (every feature registered, the
process), lifecycle (initialize … exit, document sync), one module per request family
(references, definition, call_hierarchy, symbols, impact, status, reindex, commands) with their
shared prologue in requests, workspace (folders, routing, read connections), live (indexing with
$/progress), convert (graph records → LSP), positions and documents (position encodings),
options (initializationOptions), cancellation ($/cancelRequest down to SQLite).
"""

from __future__ import annotations

from forge_lsp.server.main import create_server, serve

__all__ = ["create_server", "serve"]
