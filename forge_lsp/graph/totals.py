"""The graph totals (symbols, references, resolved references), kept exact as a writer writes.

Counting ten million references takes a third of a second and reads every page of the refs
table (a quarter of a gigabyte mapped at 100,000 files), and `forge/status` is asked after every
change. So the writer adds up what each write did, and an update adds that to the totals the
last count stored rather than forgetting them. Invariant: stored totals, when present, equal
`count_totals` (tests/test_live_properties.py checks it after every update).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

from forge_lsp.graph.store import TOTALS, stored_totals

_TARGET = 7  # the target column of a reference row, as GraphWriter.insert_refs takes them


class TotalsDelta:
    """What the writes since the last `store` added to each total (negative: removed)."""

    __slots__ = ("references", "resolved", "symbols")

    def __init__(self) -> None:
        self.symbols = self.references = self.resolved = 0

    def refs(self, rows: Sequence[Sequence[Any]], sign: int) -> None:
        """Reference rows inserted (sign 1) or deleted (-1)."""
        self.references += sign * len(rows)
        self.resolved += sign * sum(1 for row in rows if row[_TARGET] is not None)

    def retargeted(self, old: int | None, new: int | None) -> None:
        self.resolved += (new is not None) - (old is not None)

    def store(self, conn: apsw.Connection) -> None:
        """Add the delta to the stored totals, if there are any (a first index counts them
        at its end), and start again from zero."""
        stored = stored_totals(conn)
        if stored is not None:
            delta = (self.symbols, self.references, self.resolved)
            conn.executemany(
                "UPDATE meta SET value=? WHERE key=?",
                [(s + d, k) for s, d, k in zip(stored, delta, TOTALS, strict=True)],
            )
        self.symbols = self.references = self.resolved = 0
