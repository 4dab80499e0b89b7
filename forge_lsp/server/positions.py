"""Column conversion between the graph (Unicode code points) and the client's position encoding.

The graph stores 0-based lines and columns counted in code points, which is LSP's "utf-32". Clients
negotiate utf-8 (Neovim), utf-16 (VS Code, the LSP default) or utf-32 (Emacs). Every position
crosses this boundary exactly once, here, with the text of the line it lies on. Lines are split on
"\\n" only, as the parser counts rows; a trailing "\\r" stays part of the line and never shifts a
column that precedes it.

Everything in this module is pure: no I/O, no LSP objects, so it is easy to test exhaustively.
"""

from __future__ import annotations

from typing import Final

UTF8: Final = "utf-8"
UTF16: Final = "utf-16"
UTF32: Final = "utf-32"
ENCODINGS: Final = (UTF8, UTF16, UTF32)


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


def to_client(line: str, column: int, encoding: str) -> int:
    """A code-point column on `line` as a column in the client's encoding.

    Columns past the end of the line (a stale graph, or an end-of-line position) keep their
    excess unchanged, so that a range never collapses or inverts.
    """
    if encoding == UTF32 or column <= 0:
        return column
    prefix = line[:column]
    excess = column - len(prefix)
    if prefix.isascii():
        return column
    if encoding == UTF8:
        return len(prefix.encode("utf-8", "surrogatepass")) + excess
    return sum(_units(c, encoding) for c in prefix) + excess


def from_client(line: str, column: int, encoding: str) -> int:
    """A column in the client's encoding as a code-point column on `line`.

    A column inside a multi-unit character (half a surrogate pair, or the middle of a UTF-8
    sequence) maps to that character's start; a column past the end of the line maps to the end.
    """
    if column <= 0:
        return 0
    if encoding == UTF32:
        return min(column, len(line))
    if line.isascii():
        return min(column, len(line))
    units = 0
    for index, char in enumerate(line):
        units += _units(char, encoding)
        if units > column:
            return index
        if units == column:
            return index + 1
    return len(line)


def split_lines(text: str) -> list[str]:
    """The lines of a document as the parser numbers them (split on "\\n" only)."""
    return text.split("\n")
