"""Parse layer: source bytes in, language-neutral facts out. Knows nothing of storage or LSP."""

from forge_lsp.parsing.base import extractor_for, supported_suffixes
from forge_lsp.parsing.facts import FileFacts, ImportFact, RefFact, SymbolFact

__all__ = [
    "FileFacts",
    "ImportFact",
    "RefFact",
    "SymbolFact",
    "extractor_for",
    "supported_suffixes",
]
