"""Column conversion between the graph (Unicode code points) and the client's position encoding.

The graph stores 0-based lines and columns counted in code points, which is LSP's "utf-32". Clients
negotiate utf-8 (Neovim), utf-16 (VS Code, the LSP default) or utf-32 (Emacs). Every position
crosses this boundary exactly once, here, with the text of the line it lies on. Lines are split on
"\\n" only, as the parser counts rows; a trailing "\\r" stays part of the line and never shifts a
column that precedes it.

Everything in this module is pure: no I/O, no LSP objects, so it is easy to test exhaustively.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from typing import Final

UTF8: Final = "utf-8"
UTF16: Final = "utf-16"
UTF32: Final = "utf-32"
ENCODINGS: Final = (UTF8, UTF16, UTF32)
# the characters that take more than one unit in each encoding
_WIDE: Final = {UTF8: re.compile("[^\x00-\x7f]"), UTF16: re.compile("[\U00010000-\U0010ffff]")}


def _units(char: str, encoding: str) -> int:
    code = ord(char)
    if encoding == UTF16:
        return 2 if code > 0xFFFF else 1
    if code < 0x80:
        return 1
    if code < 0x800:
        return 2
    return 3 if code < 0x10000 else 4


def needs_text(encoding: str) -> bool:
    """utf-32 columns are code points already: no line text is needed to convert them."""
    return encoding != UTF32


class LineColumns:
    """Column conversion on one line, O(log n) a query after one pass over its non-ASCII text.

    Converting each position by walking the line's prefix is quadratic on a long line: a 1 MB
    line holding 50,000 references would hold the request for minutes. Here the wide characters'
    code-point indices and the extra units before each are found once; a column is then shifted
    by a bisection.
    """

    def __init__(self, line: str, encoding: str) -> None:
        self.length = len(line)
        self.indices: list[int] = []  # code-point index of each wide character
        self.extra_before: list[int] = [0]  # extra units of the wide characters before the k-th
        self.starts: list[int] = []  # client column where each wide character starts
        if encoding == UTF32 or line.isascii():
            return
        extra = 0
        for match in _WIDE[encoding].finditer(line):
            index = match.start()
            self.indices.append(index)
            self.starts.append(index + extra)
            extra += _units(match.group(), encoding) - 1
            self.extra_before.append(extra)

    def to_client(self, column: int) -> int:
        """A code-point column as a client column; past the end, the excess is kept unchanged."""
        if column <= 0:
            return column
        inside = min(column, self.length)
        return column + self.extra_before[bisect_left(self.indices, inside)]

    def from_client(self, column: int) -> int:
        """A client column as a code-point column; inside a wide character, that character."""
        if column <= 0:
            return 0
        k = bisect_right(self.starts, column) - 1
        if k >= 0 and column < self.starts[k] + 1 + self.extra_before[k + 1] - self.extra_before[k]:
            return self.indices[k]
        return min(column - self.extra_before[k + 1], self.length)


def to_client(line: str, column: int, encoding: str) -> int:
    """A code-point column on `line` as a column in the client's encoding.

    Columns past the end of the line (a stale graph, or an end-of-line position) keep their
    excess unchanged, so that a range never collapses or inverts.
    """
    if encoding == UTF32 or column <= 0 or line[:column].isascii():
        return column
    return LineColumns(line, encoding).to_client(column)


def from_client(line: str, column: int, encoding: str) -> int:
    """A column in the client's encoding as a code-point column on `line`.

    A column inside a multi-unit character (half a surrogate pair, or the middle of a UTF-8
    sequence) maps to that character's start; a column past the end of the line maps to the end.
    """
    if column <= 0:
        return 0
    if encoding == UTF32 or line.isascii():
        return min(column, len(line))
    return LineColumns(line, encoding).from_client(column)


def split_lines(text: str) -> list[str]:
    """The lines of a document as the parser numbers them (split on "\\n" only)."""
    return text.split("\n")
