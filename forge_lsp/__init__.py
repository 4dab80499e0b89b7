"""forge_lsp: a code-intelligence language server backed by a persistent SQLite code graph."""

__version__ = "0.1.0"
