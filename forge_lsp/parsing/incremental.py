"""Open documents: their bytes, edited in place, and their trees, reparsed incrementally.

tree-sitter reparses an edited tree in a fraction of a full parse, but only if it is told every
edit in bytes and (row, byte column) points, in order. `SourceText` applies range edits to a
document's bytes and returns exactly that description (`ByteEdit`); `DocumentTree` replays the
edits on the tree it kept and reparses. Positions here are bytes: converting an editor's
positions (utf-8/16/32 columns) to bytes is the caller's job, done once at its boundary.

Trees cost about 20 bytes of memory per source byte: keep them for open documents only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from tree_sitter import Point, Tree

from forge_lsp.parsing.base import complete, extractor_for
from forge_lsp.parsing.facts import FileFacts


class ByteEdit(NamedTuple):
    """One edit as tree-sitter's `Tree.edit` takes it."""

    start_byte: int
    old_end_byte: int
    new_end_byte: int
    start_point: tuple[int, int]
    old_end_point: tuple[int, int]
    new_end_point: tuple[int, int]


class SourceText:
    """A document's bytes and the byte offset of each line, kept up to date across edits."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._starts: list[int] | None = None

    @property
    def starts(self) -> list[int]:
        """Byte offset of the start of each line (lines end at b"\\n", as the parser counts)."""
        if self._starts is None:
            starts = [0]
            find = self.data.find
            at = find(b"\n")
            while at >= 0:
                starts.append(at + 1)
                at = find(b"\n", at + 1)
            self._starts = starts
        return self._starts

    def line(self, row: int) -> bytes:
        """The bytes of a line without its newline; b"" past the end."""
        starts = self.starts
        if not 0 <= row < len(starts):
            return b""
        end = starts[row + 1] - 1 if row + 1 < len(starts) else len(self.data)
        return self.data[starts[row] : end]

    def offset(self, row: int, byte_col: int) -> tuple[int, tuple[int, int]]:
        """The byte offset of a (row, byte column), clamped into the document, and its point."""
        starts = self.starts
        if row >= len(starts):
            last = len(starts) - 1
            return len(self.data), (last, len(self.data) - starts[last])
        row = max(row, 0)
        col = min(max(byte_col, 0), len(self.line(row)))
        return starts[row] + col, (row, col)

    def edit(self, start: tuple[int, int], end: tuple[int, int], text: bytes) -> ByteEdit:
        """Replace the bytes between two (row, byte column) positions with `text`."""
        begin, start_point = self.offset(*start)
        stop, end_point = self.offset(*end)
        if stop < begin:  # an inverted range: treat as empty at its start
            stop, end_point = begin, start_point
        starts = self.starts
        self.data = self.data[:begin] + text + self.data[stop:]
        delta = len(text) - (stop - begin)
        inserted = []
        at = text.find(b"\n")
        while at >= 0:
            inserted.append(begin + at + 1)
            at = text.find(b"\n", at + 1)
        row = start_point[0]
        self._starts = (
            starts[: row + 1] + inserted + [s + delta for s in starts[end_point[0] + 1 :]]
        )
        if inserted:
            new_end = (row + len(inserted), begin + len(text) - inserted[-1])
        else:
            new_end = (row, start_point[1] + len(text))
        return ByteEdit(begin, stop, begin + len(text), start_point, end_point, new_end)

    def replace(self, data: bytes) -> None:
        self.data = data
        self._starts = None


class DocumentTree:
    """The syntax tree and facts of one open document, both brought up to date incrementally
    after each batch of edits (facts: see Extractor.reextract)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.extractor = extractor_for(path)
        self.tree: Tree | None = None
        self.facts: FileFacts | None = None
        self.errors: list[tuple[int, int]] = []  # byte spans of parse errors in `tree`
        self.reextracted = 0  # how often facts came from a partial extraction

    def update(self, data: bytes, edits: Sequence[ByteEdit] | None) -> Tree | None:
        """The tree for `data`, which is the previous text with `edits` applied in order.

        Without edits (a new document, a full-text change) the document is parsed afresh.
        None for a language without an extractor.
        """
        if self.extractor is None:
            return None
        old = self.tree
        if old is not None and edits:
            for e in edits:
                old.edit(
                    e.start_byte,
                    e.old_end_byte,
                    e.new_end_byte,
                    Point(*e.start_point),
                    Point(*e.old_end_point),
                    Point(*e.new_end_point),
                )
            self.tree = self.extractor.parse(data, old)
        else:
            self.tree = self.extractor.parse(data)
        return self.tree

    def extract(self, data: bytes, edits: Sequence[ByteEdit] | None) -> FileFacts | None:
        """The document's facts after `update(data, edits)`: partly from the previous facts
        when the extractor can, else in full."""
        if self.extractor is None or self.tree is None:
            return None
        facts = None
        old_errors, self.errors = self.errors, error_spans(self.tree)
        if self.facts is not None and edits:
            facts = self.extractor.reextract(
                self.path, data, self.tree, self.facts, edits, old_errors, self.errors
            )
            self.reextracted += facts is not None
        if facts is None:
            facts = self.extractor.extract(self.path, data, self.tree)
        self.facts = complete(facts, data)
        return self.facts


def error_spans(tree: Tree) -> list[tuple[int, int]]:
    """Byte spans of the error and missing nodes of a tree (only error paths are walked)."""
    root = tree.root_node
    if not root.has_error:
        return []
    spans = []
    stack = [root]
    while stack:
        node = stack.pop()
        if node.is_error or node.is_missing:
            spans.append((node.start_byte, node.end_byte))
            continue
        stack.extend(child for child in node.children if child.has_error)
    return spans
