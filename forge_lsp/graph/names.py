"""Name interning: the `names` table's strings and ids, in memory, loaded on first use.

Every name the graph stores (symbol names, reference names, receivers, module names) is an id
into `names`. Ids are handed out here before the rows are written; `flush` writes the new ones,
and must run before anything reads `names` back. A no-op re-index never needs a name, and
loading Django's 54,000 was a tenth of its time: hence lazily.
"""

from __future__ import annotations

from sys import intern

import apsw


class NameTable:
    def __init__(self, conn: apsw.Connection) -> None:
        self._conn = conn
        self._ids: dict[str, int] | None = None  # None until first use
        # text by id: ids are dense from 1 (a hole, never seen, would read ""); a list costs
        # 8 bytes a name where a dict by int cost 70 (372,718 names at 100,000 files)
        self._texts: list[str] = [""]
        self._new: list[tuple[int, str]] = []
        self._next = 1

    def ids(self) -> dict[str, int]:
        """Every interned name's id by text, including those not flushed yet."""
        if self._ids is None:
            top = self._conn.execute("SELECT max(id) FROM names").fetchall()[0][0] or 0
            ids: dict[str, int] = {}
            texts = [""] * (top + 1)
            for nid, text in self._conn.execute("SELECT id, text FROM names"):
                # interned: the very strings the resolution model holds its names in
                text = intern(text)
                ids[text] = nid
                texts[nid] = text
            self._ids, self._texts, self._next = ids, texts, top + 1
        return self._ids

    def texts(self) -> list[str]:
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
            text = intern(text)
            ids[text] = nid
            self._texts.append(text)  # at index nid: the list is as long as the next id
            self._new.append((nid, text))
        return nid

    def known(self, text: str) -> int | None:
        """The id of a name already interned, without interning it."""
        return self.ids().get(text)

    def flush(self) -> None:
        if self._new:
            self._conn.executemany("INSERT INTO names(id, text) VALUES (?, ?)", self._new)
            self._new = []
