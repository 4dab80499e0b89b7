"""The seam for languages: one extractor per language, chosen by file suffix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from tree_sitter import Tree

from forge_lsp.parsing.facts import FileFacts

if TYPE_CHECKING:
    from forge_lsp.parsing.incremental import ByteEdit


class Extractor(Protocol):
    language: str
    suffixes: tuple[str, ...]

    def parse(self, source: bytes, old_tree: Tree | None = None) -> Tree:
        """A syntax tree; with `old_tree` (already edited to match), an incremental reparse."""
        ...

    def extract(self, path: str, source: bytes, tree: Tree | None = None) -> FileFacts:
        """Facts for one file. Must not raise on any input: broken code yields partial facts."""
        ...

    def reextract(
        self,
        path: str,
        source: bytes,
        tree: Tree,
        old: FileFacts,
        edits: Sequence[ByteEdit],
        old_errors: Sequence[tuple[int, int]],
        errors: Sequence[tuple[int, int]],
    ) -> FileFacts | None:
        """The facts of `source` from `old`, the facts before `edits`, doing less than a full
        extraction; None when that is not possible (the caller extracts in full). The result
        must equal `extract(path, source, tree)`. `old_errors` and `errors`: byte spans of
        parse errors before and after the edits (error recovery is not local)."""
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


def complete(facts: FileFacts, source: bytes) -> FileFacts:
    """What every extraction ends with: the interface hash, and a note on invalid UTF-8."""
    facts.interface = facts.interface_hash()
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as exc:
        note = f"invalid UTF-8 at byte {exc.start}; indexed with replacement characters"
        facts.error = f"{facts.error}; {note}" if facts.error else note
    return facts


def extract_facts(path: str, source: bytes, tree: Tree | None = None) -> FileFacts | None:
    """The complete facts of one file (`tree`: its parse already); None for an unknown language."""
    extractor = extractor_for(path)
    if extractor is None:
        return None
    return complete(extractor.extract(path, source, tree), source)
