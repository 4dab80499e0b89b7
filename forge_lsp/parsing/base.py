"""The seam for languages: one extractor per language, chosen by file suffix."""

from __future__ import annotations

from typing import Protocol

from tree_sitter import Tree

from forge_lsp.parsing.facts import FileFacts


class Extractor(Protocol):
    language: str
    suffixes: tuple[str, ...]

    def parse(self, source: bytes, old_tree: Tree | None = None) -> Tree:
        """A syntax tree; with `old_tree` (already edited to match), an incremental reparse."""
        ...

    def extract(self, path: str, source: bytes, tree: Tree | None = None) -> FileFacts:
        """Facts for one file. Must not raise on any input: broken code yields partial facts."""
        ...


_REGISTRY: dict[str, Extractor] = {}


def _load() -> None:
    if _REGISTRY:
        return
    from forge_lsp.parsing.python import PythonExtractor

    for extractor in (PythonExtractor(),):
        for suffix in extractor.suffixes:
            _REGISTRY[suffix] = extractor


def extractor_for(path: str) -> Extractor | None:
    _load()
    dot = path.rfind(".")
    return _REGISTRY.get(path[dot:]) if dot >= 0 else None


def supported_suffixes() -> tuple[str, ...]:
    _load()
    return tuple(_REGISTRY)
