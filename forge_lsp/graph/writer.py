"""Every write to the graph: one class, used inside one transaction per update.

Symbol ids are stable across re-indexing: a symbol that keeps its qualified name and kind keeps
its id, so references from other files stay valid without being touched (the basis of early cutoff).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, NamedTuple

import apsw

from forge_lsp.graph.schema import ROLE_CODES, ROLE_NAMES
from forge_lsp.parsing.facts import NO_TARGET, FileFacts


class FileState(NamedTuple):
    id: int
    size: int
    mtime_ns: int
    content_hash: bytes
    interface_hash: bytes


class StoredRef(NamedTuple):
    id: int
    file_id: int
    name: str
    receiver: str | None
    scope_id: int
    target_id: int | None
    role: str


class GraphWriter:
    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn
        self._names: dict[str, int] = dict(
            (text, nid) for nid, text in conn.execute("SELECT id, text FROM names")
        )
        self._new_names: list[tuple[int, str]] = []
        self._next_name = max(self._names.values(), default=0) + 1
        row = conn.execute("SELECT max(id) FROM symbols").fetchall()[0][0]
        self._next_symbol = (row or 0) + 1

    # ----- names -----------------------------------------------------------------------------

    def name_id(self, text: str) -> int:
        nid = self._names.get(text)
        if nid is None:
            nid = self._next_name
            self._next_name += 1
            self._names[text] = nid
            self._new_names.append((nid, text))
        return nid

    def flush_names(self) -> None:
        """Write interned names; called before anything reads the names table back."""
        if self._new_names:
            self.conn.executemany("INSERT INTO names(id, text) VALUES (?, ?)", self._new_names)
            self._new_names = []

    # ----- files -----------------------------------------------------------------------------

    def file_states(self) -> dict[str, FileState]:
        return {
            path: FileState(fid, size, mtime, chash, ihash)
            for fid, path, size, mtime, chash, ihash in self.conn.execute(
                "SELECT id, path, size, mtime_ns, content_hash, interface_hash FROM files"
            )
        }

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        self.conn.execute(
            "UPDATE files SET size=?, mtime_ns=? WHERE id=?", (size, mtime_ns, file_id)
        )

    def clear_file(self, file_id: int, *, remove: bool) -> list[tuple[int, str, str]]:
        """Delete what a file contributed; return its old symbols (id, qualname, kind)."""
        conn = self.conn
        old = list(
            conn.execute("SELECT id, qualname, kind FROM symbols WHERE file_id=?", (file_id,))
        )
        conn.execute("DELETE FROM symbols WHERE file_id=?", (file_id,))
        conn.execute("DELETE FROM refs WHERE file_id=?", (file_id,))
        conn.execute("DELETE FROM imports WHERE file_id=?", (file_id,))
        if remove:
            conn.execute("DELETE FROM modules WHERE file_id=?", (file_id,))
            conn.execute("DELETE FROM files WHERE id=?", (file_id,))
        return old

    def upsert_file(
        self,
        file_id: int | None,
        path: str,
        facts: FileFacts,
        size: int,
        mtime_ns: int,
        content_hash: bytes,
        is_test: bool,
    ) -> int:
        exports = "\n".join(facts.exports) if facts.exports is not None else None
        values = (
            facts.language,
            content_hash,
            size,
            mtime_ns,
            facts.interface,
            int(facts.parse_ok),
            int(facts.is_ascii),
            int(is_test),
            exports,
        )
        if file_id is None:
            self.conn.execute(
                "INSERT INTO files(path, language, content_hash, size, mtime_ns, interface_hash,"
                " parse_ok, is_ascii, is_test, exports) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (path, *values),
            )
            return self.conn.last_insert_rowid()
        self.conn.execute(
            "UPDATE files SET language=?, content_hash=?, size=?, mtime_ns=?, interface_hash=?,"
            " parse_ok=?, is_ascii=?, is_test=?, exports=? WHERE id=?",
            (*values, file_id),
        )
        return file_id

    def replace_modules(self, rows: Iterable[tuple[str, int]]) -> bool:
        """Make the module table exactly `rows`; True when anything changed."""
        wanted = set(rows)
        have = set(self.conn.execute("SELECT name, file_id FROM modules"))
        if wanted == have:
            return False
        self.conn.executemany("DELETE FROM modules WHERE name=? AND file_id=?", have - wanted)
        self.conn.executemany("INSERT INTO modules(name, file_id) VALUES (?, ?)", wanted - have)
        return True

    # ----- symbols, imports, references ------------------------------------------------------

    def insert_symbols(
        self, file_id: int, facts: FileFacts, old: list[tuple[int, str, str]]
    ) -> list[int]:
        """Insert a file's symbols, reusing old ids by (qualname, kind); returns ids by index."""
        reusable: dict[tuple[str, str], list[int]] = {}
        for sid, qualname, kind in old:
            reusable.setdefault((qualname, kind), []).append(sid)
        ids: list[int] = []
        rows = []
        for sym in facts.symbols:
            pool = reusable.get((sym.qualname, sym.kind))
            if pool:
                sid = pool.pop(0)
            else:
                sid = self._next_symbol
                self._next_symbol += 1
            ids.append(sid)
            rows.append(
                (
                    sid,
                    file_id,
                    self.name_id(sym.name),
                    sym.qualname,
                    sym.kind,
                    ids[sym.parent] if sym.parent >= 0 else None,
                    sym.line,
                    sym.col,
                    sym.end_line,
                    sym.end_col,
                    sym.sel_line,
                    sym.sel_col,
                    sym.sel_end_col,
                    sym.signature,
                )
            )
        self.conn.executemany("INSERT INTO symbols VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
        return ids

    def insert_imports(self, file_id: int, facts: FileFacts) -> None:
        self.conn.executemany(
            "INSERT INTO imports(file_id, line, module, name, alias, level, module_level)"
            " VALUES (?,?,?,?,?,?,?)",
            [
                (file_id, i.line, i.module, i.name, i.alias, i.level, int(i.module_level))
                for i in facts.imports
            ],
        )

    def insert_refs(self, rows: Iterable[Sequence[Any]]) -> None:
        """Rows of (file_id, line, col, end_col, name_id, role, scope_id, target_id, receiver_id)."""
        self.conn.executemany(
            "INSERT INTO refs(file_id, line, col, end_col, name_id, role, scope_id, target_id,"
            " receiver_id) VALUES (?,?,?,?,?,?,?,?,?)",
            rows,
        )

    def ref_rows(self, file_id: int, facts: FileFacts, symbol_ids: list[int]) -> list[list[Any]]:
        """Rows for insert_refs, in the order of facts.refs; targets not decided in-file are None
        for resolution to fill in."""
        refs = facts.refs
        names = self._names
        wanted = {r.name for r in refs}
        wanted.update(r.receiver for r in refs if r.receiver is not None)
        for text in wanted:
            if text not in names:
                self.name_id(text)
        roles = ROLE_CODES
        return [
            [
                file_id,
                r.line,
                r.col,
                r.end_col,
                names[r.name],
                roles[r.role],
                symbol_ids[r.scope],
                symbol_ids[r.target] if r.target != NO_TARGET else None,
                names[r.receiver] if r.receiver is not None else None,
            ]
            for r in refs
        ]

    def set_targets(self, changes: list[tuple[int | None, int]]) -> None:
        self.conn.executemany("UPDATE refs SET target_id=? WHERE id=?", changes)

    def set_import_targets(self, changes: list[tuple[int | None, int]]) -> None:
        self.conn.executemany("UPDATE imports SET target_file_id=? WHERE id=?", changes)

    # ----- reading back what resolution needs ------------------------------------------------

    def program_rows(
        self, file_id: int | None = None
    ) -> list[tuple[int, int, str, str, int | None]]:
        """(id, file_id, name, kind, parent_id) of every symbol, or of one file's."""
        self.flush_names()
        sql = (
            "SELECT s.id, s.file_id, n.text, s.kind, s.parent_id FROM symbols s"
            " JOIN names n ON n.id = s.name_id"
        )
        if file_id is None:
            return self.conn.execute(sql).fetchall()
        return self.conn.execute(sql + " WHERE s.file_id=?", (file_id,)).fetchall()

    def file_exports(self, file_id: int | None = None) -> list[tuple[int, str, list[str] | None]]:
        """(file_id, path, `__all__` or None) of every file, or of one."""
        sql = "SELECT id, path, exports FROM files"
        rows = (
            self.conn.execute(sql)
            if file_id is None
            else self.conn.execute(sql + " WHERE id=?", (file_id,))
        )
        return [
            (fid, path, exports.split("\n") if exports else None) for fid, path, exports in rows
        ]

    def module_imports(
        self, file_id: int | None = None
    ) -> Iterator[tuple[int, int, str, str | None, str | None, int, int]]:
        sql = "SELECT id, file_id, module, name, alias, level, module_level FROM imports"
        if file_id is None:
            yield from self.conn.execute(sql)
        else:
            yield from self.conn.execute(sql + " WHERE file_id=?", (file_id,))

    def stored_bases(
        self, file_id: int | None = None
    ) -> Iterator[tuple[int, int, str, str | None, int | None]]:
        """Base-class references: (class, file, name, receiver, target)."""
        sql = (
            "SELECT r.scope_id, r.file_id, n.text, rn.text, r.target_id FROM refs r"
            " JOIN names n ON n.id = r.name_id LEFT JOIN names rn ON rn.id = r.receiver_id"
            " WHERE r.role = ?"
        )
        params: tuple[int, ...] = (ROLE_CODES["inherit"],)
        if file_id is not None:
            sql += " AND r.file_id = ?"
            params += (file_id,)
        yield from self.conn.execute(sql, params)

    def refs_of_files(self, file_ids: Iterable[int]) -> list[StoredRef]:
        self.flush_names()
        out: list[StoredRef] = []
        for fid in file_ids:
            for rid, name, receiver, scope, target, role in self.conn.execute(
                "SELECT r.id, n.text, rn.text, r.scope_id, r.target_id, r.role FROM refs r"
                " JOIN names n ON n.id = r.name_id LEFT JOIN names rn ON rn.id = r.receiver_id"
                " WHERE r.file_id = ?",
                (fid,),
            ):
                out.append(StoredRef(rid, fid, name, receiver, scope, target, ROLE_NAMES[role]))
        return out

    def files_referencing(self, symbol_ids: Iterable[int]) -> set[int]:
        return self._distinct_files(
            "SELECT DISTINCT file_id FROM refs WHERE target_id IN (SELECT value FROM json_each(?))",
            list(symbol_ids),
        )

    def files_with_unresolved(self, names: Iterable[str]) -> set[int]:
        ids = [self._names[n] for n in names if n in self._names]
        return self._distinct_files(
            "SELECT DISTINCT file_id FROM refs WHERE target_id IS NULL"
            " AND name_id IN (SELECT value FROM json_each(?))",
            ids,
        )

    def importers_of(self, file_ids: Iterable[int]) -> set[int]:
        return self._distinct_files(
            "SELECT DISTINCT file_id FROM imports"
            " WHERE target_file_id IN (SELECT value FROM json_each(?))",
            list(file_ids),
        )

    def _distinct_files(self, sql: str, values: list[int]) -> set[int]:
        if not values:
            return set()
        return {fid for (fid,) in self.conn.execute(sql, (json.dumps(values),))}

    def set_meta(self, values: dict[str, object]) -> None:
        self.conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            list(values.items()),
        )

    def replace_skipped(self, skipped: list[tuple[str, str]]) -> None:
        self.conn.execute("DELETE FROM skipped")
        self.conn.executemany("INSERT OR REPLACE INTO skipped(path, reason) VALUES (?, ?)", skipped)
