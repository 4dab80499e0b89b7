"""The text that positions are converted against: the editor's open buffer, else the file on disk.

Converting a column needs the line it lies on. An open document's buffer is what the user sees,
so it wins; any other file is read from disk once and cached while its size and mtime stay the
same. Pure-ASCII files are remembered as such without keeping their text: every encoding counts
their columns the same way, so no conversion (and no read) is needed the next time.

`OpenDocuments` keeps each open document's bytes as the live graph last received them, and turns
`didChange` edits (ranges in the client's encoding) into byte edits against them: pygls has
applied the change to its own copy before our handler runs, so the text before the change is
ours to keep.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence

from lsprotocol import types

from forge_lsp.parsing.incremental import ByteEdit, SourceText
from forge_lsp.server.positions import (
    UTF8,
    LineColumns,
    from_client,
    needs_text,
    split_lines,
)

_CACHE_FILES = 512


class DiskLines:
    """A thread-safe LRU of the lines of non-ASCII files, validated by (size, mtime)."""

    def __init__(self, capacity: int = _CACHE_FILES) -> None:
        self._capacity = capacity
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, tuple[int, int, list[str] | None]] = OrderedDict()

    def lines(self, path: str) -> list[str] | None:
        """The file's lines, or None when it is pure ASCII, unreadable or gone."""
        try:
            st = os.stat(path)
        except OSError:
            return None
        with self._lock:
            entry = self._entries.get(path)
            if entry is not None and entry[0] == st.st_size and entry[1] == st.st_mtime_ns:
                self._entries.move_to_end(path)
                return entry[2]
        try:
            with open(path, "rb") as handle:
                data = handle.read()
        except OSError:
            return None
        lines = None if data.isascii() else split_lines(data.decode("utf-8", "replace"))
        with self._lock:
            self._entries[path] = (st.st_size, st.st_mtime_ns, lines)
            self._entries.move_to_end(path)
            while len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        return lines


class TextSnapshot:
    """Line text for one request: open buffers captured on the event loop, then the disk cache.

    A request is answered on a worker thread; capturing the open buffers up front means the
    worker never touches pygls' workspace while the loop thread mutates it.
    """

    def __init__(self, encoding: str, open_texts: Mapping[str, str], disk: DiskLines) -> None:
        self.encoding = encoding
        self._open = open_texts
        self._open_lines: dict[str, list[str] | None] = {}
        self._columns: dict[tuple[str, int], LineColumns | None] = {}  # built once a request
        self._disk = disk

    def _lines(self, path: str) -> list[str] | None:
        text = self._open.get(path)
        if text is None:
            return self._disk.lines(path)
        if path not in self._open_lines:
            self._open_lines[path] = None if text.isascii() else split_lines(text)
        return self._open_lines[path]

    def open_text(self, path: str) -> str | None:
        """The buffer of an open document (None when it is not open)."""
        return self._open.get(path)

    def line(self, path: str, line: int) -> str | None:
        """The text of a 0-based line, or None when no conversion is needed (ASCII, unknown)."""
        lines = self._lines(path)
        if lines is None or not 0 <= line < len(lines):
            return None
        return lines[line]

    def _line_columns(self, path: str, line: int) -> LineColumns | None:
        key = (path, line)
        if key not in self._columns:
            text = self.line(path, line)
            self._columns[key] = None if text is None else LineColumns(text, self.encoding)
        return self._columns[key]

    def to_client(self, path: str, line: int, column: int) -> int:
        """A graph column (code points) as a client column."""
        if not needs_text(self.encoding) or column == 0:
            return column
        columns = self._line_columns(path, line)
        return column if columns is None else columns.to_client(column)

    def from_client(self, path: str, line: int, column: int) -> int:
        """A client column as a graph column (code points)."""
        if not needs_text(self.encoding) or column == 0:
            return column
        columns = self._line_columns(path, line)
        return column if columns is None else columns.from_client(column)


class OpenDocuments:
    """The bytes of every open document, by URI, as last sent to the live graph."""

    def __init__(self) -> None:
        self._texts: dict[str, SourceText] = {}

    def open(self, uri: str, text: str) -> bytes:
        data = text.encode("utf-8", "surrogatepass")
        self._texts[uri] = SourceText(data)
        return data

    def close(self, uri: str) -> None:
        self._texts.pop(uri, None)

    def change(
        self,
        uri: str,
        changes: Sequence[types.TextDocumentContentChangeEvent],
        encoding: str,
        current: str,
    ) -> tuple[bytes, list[ByteEdit] | None]:
        """Apply a didChange's edits; return the new bytes and the byte edits (None when a
        whole-document change, or an unknown document, calls for a fresh parse).

        `current` is pygls' copy after the change: used when we have no text of our own.
        """
        text = self._texts.get(uri)
        if text is None:
            return self.open(uri, current), None
        edits: list[ByteEdit] | None = []
        for change in changes:
            if isinstance(change, types.TextDocumentContentChangePartial):
                start = _byte_position(text, change.range.start, encoding)
                end = _byte_position(text, change.range.end, encoding)
                edit = text.edit(start, end, change.text.encode("utf-8", "surrogatepass"))
                if edits is not None:
                    edits.append(edit)
            else:
                text.replace(change.text.encode("utf-8", "surrogatepass"))
                edits = None
        return text.data, edits


def _byte_position(text: SourceText, position: types.Position, encoding: str) -> tuple[int, int]:
    """An LSP position (client encoding) as (line, byte column) in the document."""
    line = text.line(position.line)
    if encoding == UTF8:
        return position.line, position.character
    decoded = line.decode("utf-8", "surrogateescape")
    column = from_client(decoded, position.character, encoding)
    return position.line, len(decoded[:column].encode("utf-8", "surrogateescape"))
