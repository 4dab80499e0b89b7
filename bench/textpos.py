"""Text and position helpers shared by every oracle adapter.

All tools report positions differently (ast: UTF-8 byte columns, jedi: 0-based code points,
LSP: 0-based UTF-16 units, forge: 1-based code points).  Everything is normalised here to one
``Location`` = (corpus-relative posix path, 1-based line, 1-based code-point column) so that sets
of locations from different tools can be compared directly.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote, urlparse

Location = tuple[str, int, int]
"""(corpus-relative posix path, 1-based line, 1-based column in code points)."""

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


def split_lines(text: str) -> list[str]:
    """Split like LSP and parso do (only CR, LF, CRLF), unlike ``str.splitlines``.

    ``str.splitlines`` also breaks on form feeds and U+2028, which would shift every later
    line number relative to what the tools report.
    """
    return _LINE_BREAK.split(text)


def utf16_to_codepoint(line: str, utf16_col: int) -> int:
    """Convert a 0-based UTF-16 offset in ``line`` to a 0-based code-point offset.

    Characters outside the BMP take two UTF-16 units but one code point.  An offset that points
    into the middle of a surrogate pair is rounded up to the next character; offsets past the end
    of the line are extended as if the line were padded with BMP characters.
    """
    units = 0
    for index, char in enumerate(line):
        if units >= utf16_col:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(line) + max(0, utf16_col - units)


def codepoint_to_utf16(line: str, cp_col: int) -> int:
    """Convert a 0-based code-point offset in ``line`` to a 0-based UTF-16 offset (for LSP)."""
    return cp_col + sum(1 for char in line[:cp_col] if ord(char) > 0xFFFF)


def byte_to_codepoint(line: str, byte_col: int) -> int:
    """Convert a 0-based UTF-8 byte offset (``ast`` col_offset) to a 0-based code-point offset."""
    return len(line.encode("utf-8")[:byte_col].decode("utf-8", errors="ignore"))


_DEF_HEAD = re.compile(r"(?:async\s+)?def\s+|class\s+")
_IDENTIFIER = re.compile(r"\w+")


def find_def_name_column(line: str, keyword_col: int, name: str) -> int | None:
    """Return the 0-based code-point column of ``name`` in a ``def``/``class`` line.

    ``keyword_col`` is where the statement starts (the ``def``/``async``/``class`` keyword, as
    ast reports it once converted to code points).  The name is not at that column, so scan past
    the keyword.  Returns None when the name is not on this line (e.g. a backslash continuation).
    """
    head = _DEF_HEAD.match(line, keyword_col)
    if head is None:
        return None
    ident = _IDENTIFIER.match(line, head.end())
    if ident is None or ident.group() != name:
        return None
    return head.end()


@lru_cache(maxsize=4096)
def read_lines(path: str) -> list[str]:
    """Read a source file as lines, cached because reports look at the same files repeatedly."""
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        return split_lines(handle.read())


def relativize(path: str | os.PathLike[str], root: Path) -> str | None:
    """Return ``path`` relative to ``root`` as a posix string, or None if it lies outside.

    Every tool's hits are filtered through this so that typeshed, stdlib and site-packages hits
    drop out and only corpus locations are compared.
    """
    absolute = Path(os.path.realpath(os.path.abspath(path)))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return None


def path_to_uri(path: Path) -> str:
    """Build a ``file://`` URI the way VS Code does (percent-encoded, absolute)."""
    return "file://" + quote(str(path.resolve()))


def uri_to_path(uri: str) -> str:
    """Inverse of :func:`path_to_uri` for the ``file://`` URIs a language server sends back."""
    return unquote(urlparse(uri).path)


def format_location(loc: Location) -> str:
    """Render a location as ``path:line:col`` (the forge CLI's query syntax)."""
    return f"{loc[0]}:{loc[1]}:{loc[2]}"


def lsp_position(root: Path, rel: str, line: int, column: int) -> dict[str, int]:
    """A corpus position (1-based line, code-point column) as an LSP utf-16 position."""
    text = read_lines(str(root / rel))[line - 1]
    return {"line": line - 1, "character": codepoint_to_utf16(text, column - 1)}


def corpus_location(root: Path, uri: str, start: dict[str, int]) -> Location | None:
    """An LSP position (utf-16, 0-based) in `uri` as a corpus location, None if outside."""
    rel = relativize(uri_to_path(uri), root)
    if rel is None:
        return None
    lines = read_lines(str(root / rel))
    text = lines[start["line"]] if start["line"] < len(lines) else ""
    return (rel, start["line"] + 1, utf16_to_codepoint(text, start["character"]) + 1)
