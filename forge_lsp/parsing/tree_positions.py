"""Where things are in a parsed file, cheaply: code-point columns from byte columns, and how much
of a tree lies deeper than the query cursor goes. Knows nothing of any language's grammar."""

from __future__ import annotations

import re
from bisect import bisect_left

from tree_sitter import Node

# Tree levels below which no pattern starts. Deeper trees are chains or nests of tens of thousands
# of calls or operators, which CPython cannot compile (it stops near 3,000); the query cursor slows
# quadratically with depth and cannot go past 65,535, so what lies deeper is counted, not indexed.
MAX_QUERY_DEPTH = 8000
_CONTINUATION = re.compile(rb"[\x80-\xbf]")  # UTF-8 bytes that continue a character


def identifiers_below(root: Node, depth: int) -> int:
    """How many identifiers lie deeper than `depth` levels. An iterative walk that enters only
    subtrees big enough to reach that depth (n nodes reach at most n - 1 levels below their
    root), so a file of ordinary depth costs a look at its top-level statements."""
    cursor = root.walk()
    level = found = 0
    while True:
        node = cursor.node
        assert node is not None
        if level > depth and node.type == "identifier":
            found += 1
        if level + node.descendant_count - 1 > depth and cursor.goto_first_child():
            level += 1
            continue
        while not cursor.goto_next_sibling():
            if not cursor.goto_parent():
                return found
            level -= 1


class ByteColumns:
    """Byte -> code-point columns on one line, in O(log n) a query.

    A column is the byte column less the UTF-8 continuation bytes before it. Slicing and decoding
    the line for every reference instead is quadratic: one 1 MB line with non-ASCII text took
    minutes. A line that is not valid UTF-8 keeps the slow, exact path (replacement characters).
    """

    def __init__(self, line: bytes, *, bom: bool) -> None:
        self.line = line
        self.bom = bom and line.startswith(b"\xef\xbb\xbf")
        self.continuations: list[int] | None
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            self.continuations = None
        else:
            self.continuations = [m.start() for m in _CONTINUATION.finditer(line)]

    def code_points(self, byte_col: int) -> int:
        if self.continuations is None:
            col = len(self.line[:byte_col].decode("utf-8", "replace"))
        else:
            col = byte_col - bisect_left(self.continuations, byte_col)
        if self.bom and col:
            col -= 1  # editors do not show a byte-order mark, nor count it as a column
        return col
