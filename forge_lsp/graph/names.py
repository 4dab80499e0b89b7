"""Name interning: the `names` table's strings and ids, in memory, loaded on first use.

Every name the graph stores (symbol names, reference names, receivers, module names) is an id
into `names`. Ids are handed out here before the rows are written; `flush` writes the new ones,
and must run before anything reads `names` back. A no-op re-index never needs a name, and
loading Django's 54,000 was a tenth of its time: hence lazily.
"""

from __future__ import annotations

import apsw


class NameTable:
    def __init__(self, conn: apsw.Connection) -> None:
        self._conn = conn
        self._ids: dict[str, int] | None = None  # None until first use
        self._texts: dict[int, str] = {}
        self._new: list[tuple[int, str]] = []
        self._next = 1

    def ids(self) -> dict[str, int]:
        """Every interned name's id by text, including those not flushed yet."""
        if self._ids is None:
            self._ids = {
                text: nid for nid, text in self._conn.execute("SELECT id, text FROM names")
            }
            self._texts = {nid: text for text, nid in self._ids.items()}
            self._next = max(self._texts, default=0) + 1
        return self._ids

    def texts(self) -> dict[int, str]:
        """Every interned name by id (the same table, kept up to date)."""
        self.ids()
        return self._texts

    def id(self, text: str) -> int:
        """The id of `text`, interned now if it is new."""
        ids = self._ids if self._ids is not None else self.ids()
        nid = ids.get(text)
        if nid is None:
            nid = self._next
            self._next += 1
            ids[text] = nid
            self._texts[nid] = text
            self._new.append((nid, text))
        return nid

    def known(self, text: str) -> int | None:
        """The id of a name already interned, without interning it."""
        return self.ids().get(text)

    def flush(self) -> None:
        if self._new:
            self._conn.executemany("INSERT INTO names(id, text) VALUES (?, ?)", self._new)
            self._new = []
