"""Every write to the graph: one class, used inside one transaction per update.

Symbol ids are stable across re-indexing: a symbol that keeps its qualified name and kind keeps
its id, so references from other files stay valid without being touched (the basis of early cutoff).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence, Set
from typing import Any, NamedTuple

import apsw

from forge_lsp.graph.consulted import consulting, write_consulted
from forge_lsp.graph.names import NameTable
from forge_lsp.graph.schema import ROLE_CODES
from forge_lsp.graph.totals import TotalsDelta
from forge_lsp.parsing.facts import NO_TARGET, FileFacts


class FileState(NamedTuple):
    """What the updater keeps in memory of each stored file: enough to tell from a stat that it
    may have changed. Its hashes stay in `files` (`hashes`), read for the files that did: two
    bytes objects per file were 13 MB of a server at 100,000 files."""

    id: int
    size: int
    mtime_ns: int


class SymbolDelta(NamedTuple):
    """What write_symbols did: ids by facts index, and (id, parent id, name id) per change."""

    ids: list[int]
    added: list[tuple[int, int | None, int]]
    removed: list[tuple[int, int | None, int]]
    changed: list[tuple[int, int | None, int]]


_SYMBOL_COLUMNS = (
    "id, file_id, name_id, qualname, kind, parent_id, line, col, end_line, end_col,"
    " sel_line, sel_col, sel_end_col, signature, type_id"
)
# A reference row written before its target is known holds this placeholder, stored in 3 bytes
# as symbol ids are up to 8M (about 350,000 files), so that writing the target later does not
# grow the row: a row that grows moves out of its full page, and the table ends up 10% larger.
PENDING = -(2**23)
_REF_COLUMNS = "file_id, line, col, end_col, name_id, role, scope_id, target_id, receiver_id"
# a stored reference as re-resolution reads it: (id, name id, receiver name id, scope id, target)
StoredRef = tuple[int, int, int | None, int, int | None]


class GraphWriter:
    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn
        self.names = NameTable(conn)
        self.name_id = self.names.id  # the hot path: no indirection
        row = conn.execute("SELECT max(id) FROM symbols").fetchall()[0][0]
        self._next_symbol = (row or 0) + 1
        self.totals = TotalsDelta()  # what the writes of the update under way add to the totals

    # ----- names -----------------------------------------------------------------------------

    def known_name_id(self, text: str) -> int | None:
        """The id of a name already interned, without interning it."""
        return self.names.known(text)

    def flush_names(self) -> None:
        """Write interned names; called before anything reads the names table back."""
        self.names.flush()

    # ----- files -----------------------------------------------------------------------------

    def file_states(self) -> dict[str, FileState]:
        return {
            path: FileState(fid, size, mtime)
            for fid, path, size, mtime in self.conn.execute(
                "SELECT id, path, size, mtime_ns FROM files"
            )
        }

    def hashes(self, file_id: int) -> tuple[bytes, bytes]:
        """A stored file's content hash and interface hash."""
        rows = self.conn.execute(
            "SELECT content_hash, interface_hash FROM files WHERE id=?", (file_id,)
        ).fetchall()
        return rows[0]

    def touch_file(self, file_id: int, size: int, mtime_ns: int) -> None:
        self.conn.execute(
            "UPDATE files SET size=?, mtime_ns=? WHERE id=?", (size, mtime_ns, file_id)
        )

    def clear_file(
        self, file_id: int
    ) -> tuple[list[tuple[int, int | None, int]], list[tuple[Any, ...]]]:
        """Delete a file and what it contributed; return its symbols (id, parent, name id) and
        its reference rows (as insert_refs takes them)."""
        conn = self.conn
        symbols = conn.execute(
            "SELECT id, parent_id, name_id FROM symbols WHERE file_id=?", (file_id,)
        ).fetchall()
        refs = conn.execute(
            f"SELECT {_REF_COLUMNS} FROM refs WHERE file_id=?", (file_id,)
        ).fetchall()
        for table in ("symbols", "refs", "import_rows", "modules", "file_deps", "module_deps"):
            conn.execute(f"DELETE FROM {table} WHERE file_id=?", (file_id,))
        self.totals.symbols -= len(symbols)
        self.totals.refs(refs, -1)
        conn.execute("DELETE FROM files WHERE id=?", (file_id,))
        return symbols, refs

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
        # JSON keeps `__all__ = []` (nothing public) apart from no `__all__` at all (NULL).
        exports = json.dumps(facts.exports) if facts.exports is not None else None
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
            facts.error,
        )
        if file_id is None:
            self.conn.execute(
                "INSERT INTO files(path, language, content_hash, size, mtime_ns, interface_hash,"
                " parse_ok, is_ascii, is_test, exports, note) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (path, *values),
            )
            return self.conn.last_insert_rowid()
        self.conn.execute(
            "UPDATE files SET language=?, content_hash=?, size=?, mtime_ns=?, interface_hash=?,"
            " parse_ok=?, is_ascii=?, is_test=?, exports=?, note=? WHERE id=?",
            (*values, file_id),
        )
        return file_id

    def set_modules(self, file_id: int, names: list[str], existing: bool) -> None:
        """The dotted names a file is importable as, the one it is shown by first."""
        if existing:
            self.conn.execute("DELETE FROM modules WHERE file_id=?", (file_id,))
        self.conn.executemany(
            "INSERT INTO modules(name, file_id, rank) VALUES (?, ?, ?)",
            [(n, file_id, rank) for rank, n in enumerate(names)],
        )

    def rank_modules(self, names_by_file: Callable[[], Mapping[int, list[str]]]) -> None:
        """Rank the module names of a graph from before v8 (graph/schema.py), which has none,
        so that it shows modules as a new one does; a read-only graph is left as it is.
        `names_by_file` is asked only then: a restart must not compute every file's names."""
        unranked = "SELECT 1 FROM meta WHERE key='modules_unranked'"
        if self.conn.readonly("main") or not self.conn.execute(unranked).fetchall():
            return
        with self.conn:
            self.conn.executemany(
                "UPDATE modules SET rank=? WHERE name=? AND file_id=?",
                [(r, n, f) for f, names in names_by_file().items() for r, n in enumerate(names)],
            )
            self.conn.execute("DELETE FROM meta WHERE key='modules_unranked'")

    # ----- symbols, imports, references ------------------------------------------------------

    def write_symbols(self, file_id: int, facts: FileFacts, existing: bool) -> SymbolDelta:
        """Make a file's symbol rows match its facts, writing only the rows that differ.

        Old ids are reused by (qualname, kind) in order, so a symbol that stays keeps its id and
        every reference to it from other files stays valid untouched.
        """
        old: dict[int, tuple[Any, ...]] = {}
        reusable: dict[tuple[str, str], list[int]] = {}
        if existing:
            for row in self.conn.execute(
                f"SELECT {_SYMBOL_COLUMNS} FROM symbols WHERE file_id=? ORDER BY id", (file_id,)
            ):
                old[row[0]] = row
                reusable.setdefault((row[3], row[4]), []).append(row[0])
        delta = SymbolDelta([], [], [], [])
        ids = delta.ids
        inserts = []
        updates = []
        for sym in facts.symbols:
            pool = reusable.get((sym.qualname, sym.kind))
            if pool:
                sid = pool.pop(0)
            else:
                sid = self._next_symbol
                self._next_symbol += 1
            ids.append(sid)
            row = (
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
                self.name_id(sym.type) if sym.type else None,
            )
            before = old.pop(sid, None)
            if before is None:
                inserts.append(row)
                delta.added.append((sid, row[5], row[2]))
            elif before != row:
                updates.append((*row[2:], sid))
                delta.changed.append((sid, row[5], row[2]))
        self.totals.symbols += len(inserts) - len(old)
        if old:
            self.conn.executemany("DELETE FROM symbols WHERE id=?", [(sid,) for sid in old])
            delta.removed.extend((sid, row[5], row[2]) for sid, row in old.items())
        if updates:
            self.conn.executemany(
                "UPDATE symbols SET name_id=?, qualname=?, kind=?, parent_id=?, line=?, col=?,"
                " end_line=?, end_col=?, sel_line=?, sel_col=?, sel_end_col=?, signature=?, type_id=?"
                " WHERE id=?",
                updates,
            )
        self.conn.executemany("INSERT INTO symbols VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", inserts)
        return delta

    def replace_imports(
        self, file_id: int, facts: FileFacts, targets: list[int | None], existing: bool
    ) -> None:
        """A file's import statements, each with the file it leads to (or None)."""
        if existing:
            self.conn.execute("DELETE FROM import_rows WHERE file_id=?", (file_id,))
        name_id = self.name_id
        self.conn.executemany(
            "INSERT INTO import_rows(file_id, line, module_id, name_id, alias_id, level,"
            " module_level, target_file_id) VALUES (?,?,?,?,?,?,?,?)",
            [
                (
                    file_id,
                    i.line,
                    name_id(i.module),
                    name_id(i.name) if i.name is not None else None,
                    name_id(i.alias) if i.alias is not None else None,
                    i.level,
                    int(i.module_level),
                    t,
                )
                for i, t in zip(facts.imports, targets, strict=True)
            ],
        )

    def append_imports(self, file_id: int, facts: FileFacts) -> tuple[int, int]:
        """A new file's import statements, the files they lead to still PENDING; the (first,
        last) row ids they got (see append_refs)."""
        self.replace_imports(file_id, facts, [PENDING] * len(facts.imports), False)
        return self._inserted(len(facts.imports))

    def pending_imports(self, first: int, last: int) -> list[tuple[int, str, str | None, int]]:
        """(id, module, name, level) of the imports in an id range, for set_import_targets."""
        texts = self.names.texts()  # names not flushed yet too
        return [
            (iid, texts[module], texts[name] if name is not None else None, level)
            for iid, module, name, level in self.conn.execute(
                "SELECT id, module_id, name_id, level FROM import_rows WHERE id BETWEEN ? AND ?",
                (first, last),
            )
        ]

    def insert_refs(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows of (file_id, line, col, end_col, name_id, role, scope_id, target_id, receiver_id)."""
        self.totals.refs(rows, 1)
        self.conn.executemany(f"INSERT INTO refs({_REF_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)", rows)

    def append_refs(self, rows: list[list[Any]]) -> tuple[int, int]:
        """Insert a new file's rows, their targets still to be resolved marked PENDING; the
        (first, last) row ids they got, consecutive because this connection is the only writer
        (an empty file gets an empty range)."""
        for row in rows:
            if row[7] is None:
                row[7] = PENDING
        self.insert_refs(rows)
        return self._inserted(len(rows))

    def _inserted(self, count: int) -> tuple[int, int]:
        """The row ids the last `count` inserts got: consecutive, as this connection is the
        only writer; (1, 0), an empty range, for none."""
        if not count:
            return (1, 0)
        last = self.conn.last_insert_rowid()
        return (last - count + 1, last)

    def unresolved_refs(
        self, first: int, last: int
    ) -> list[tuple[int, int, int | None, int, int | None]]:
        """(id, name id, receiver name id, scope id, PENDING) of the PENDING rows in an id
        range; each must get its target, or NULL, with set_targets."""
        return self.conn.execute(
            "SELECT id, name_id, receiver_id, scope_id, target_id FROM refs"
            " WHERE id BETWEEN ? AND ? AND target_id = ?",
            (first, last, PENDING),
        ).fetchall()

    def name_texts(self) -> list[str]:
        """Every interned name by id, including those not flushed yet (kept up to date)."""
        return self.names.texts()

    def write_refs(
        self, file_id: int, rows: list[list[Any]], existing: bool
    ) -> tuple[list[Sequence[Any]], list[Sequence[Any]]]:
        """Make a file's reference rows equal `rows` (as a multiset), writing only the difference.

        Rows are insert_refs rows; returns (added, removed), each a row without its id.
        """
        if not existing:
            self.insert_refs(rows)
            return list(rows), []
        wanted: dict[tuple[Any, ...], int] = {}
        for row in rows:
            key = tuple(row)
            wanted[key] = wanted.get(key, 0) + 1
        gone: list[tuple[int]] = []
        removed: list[Sequence[Any]] = []
        for rid, *rest in self.conn.execute(
            f"SELECT id, {_REF_COLUMNS} FROM refs WHERE file_id=?", (file_id,)
        ):
            key = tuple(rest)
            count = wanted.get(key, 0)
            if count:
                wanted[key] = count - 1
            else:
                gone.append((rid,))
                removed.append(key)
        added: list[Sequence[Any]] = [key for key, count in wanted.items() for _ in range(count)]
        self.conn.executemany("DELETE FROM refs WHERE id=?", gone)
        self.totals.refs(removed, -1)
        self.insert_refs(added)
        return added, removed

    def ref_rows(self, file_id: int, facts: FileFacts, symbol_ids: list[int]) -> list[list[Any]]:
        """Rows for insert_refs, in the order of facts.refs; targets not decided in-file are None
        for resolution to fill in."""
        refs = facts.refs
        names = self.names.ids()
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

    def set_targets(self, changes: list[tuple[int | None, int, int | None]]) -> None:
        """(new target, row id, old target) of the references whose target changes."""
        for new, _rid, old in changes:
            self.totals.retargeted(old, new)
        self.conn.executemany(
            "UPDATE refs SET target_id=? WHERE id=?", [(new, rid) for new, rid, _ in changes]
        )

    def set_import_targets(self, changes: list[tuple[int | None, int]]) -> None:
        self.conn.executemany("UPDATE import_rows SET target_file_id=? WHERE id=?", changes)

    # ----- reading back what resolution needs ------------------------------------------------

    def file_refs(self, file_id: int, names: Collection[int] | None = None) -> list[StoredRef]:
        """A file's references as re-resolution needs them, all or those spelled with one of
        `names`: (id, name id, receiver name id, scope id, target id); name texts come from
        `name_texts` (no join: this runs for the thousand files an interface change reaches)."""
        return self.files_refs({file_id: names})[file_id]

    def files_refs(
        self, names_by_file: Mapping[int, Collection[int] | None]
    ) -> dict[int, list[StoredRef]]:
        """`file_refs` of many files: one query per set of names among them (the thousand files
        an interface change reaches mostly share one), not one per file."""
        found: dict[int, list[StoredRef]] = {}
        by_names: dict[frozenset[int] | None, list[int]] = {}
        for file_id, names in names_by_file.items():
            found[file_id] = []
            by_names.setdefault(frozenset(names) if names is not None else None, []).append(file_id)
        for names, file_ids in by_names.items():
            wanted = json.dumps(sorted(names)) if names is not None else None
            for file_id, *row in self.conn.execute(
                "SELECT file_id, id, name_id, receiver_id, scope_id, target_id FROM refs"
                " WHERE file_id IN (SELECT value FROM json_each(?1))"
                " AND (?2 IS NULL OR name_id IN (SELECT value FROM json_each(?2)))",
                (json.dumps(file_ids), wanted),
            ):
                found[file_id].append(tuple(row))
        return found

    def import_rows(self, file_id: int) -> list[tuple[Any, ...]]:
        """(id, file_id, module, name, level, target_file_id) of a file's imports."""
        texts = self.names.texts()  # names not flushed yet too
        return [
            (iid, fid, texts[module], texts[name] if name is not None else None, level, target)
            for iid, fid, module, name, level, target in self.conn.execute(
                "SELECT id, file_id, module_id, name_id, level, target_file_id FROM import_rows"
                " WHERE file_id=?",
                (file_id,),
            )
        ]

    # ----- resolution dependencies -----------------------------------------------------------

    def write_deps(
        self,
        file_id: int,
        files: Mapping[int, Collection[int]],
        modules: Mapping[str, Collection[int]],
        existing: bool,
        redone: Set[int] | None = None,
    ) -> None:
        """Record what resolving a file's references consulted: per other file and per dotted
        module name, the names of the references that read it (graph/consulted.py). `redone`:
        the names just re-resolved, when not the whole file."""
        write_consulted(self.conn, "file_deps", file_id, files, existing, redone)
        named = {self.name_id(m): names for m, names in modules.items()}
        write_consulted(self.conn, "module_deps", file_id, named, existing, redone)

    def dependents(
        self, file_ids: Iterable[int], modules: Iterable[str]
    ) -> dict[int, set[int] | None]:
        """Files whose resolution consulted any of these files or module names, each with the
        names of its references that did (None: all of them)."""
        self.flush_names()
        known = self.names.ids()
        return consulting(self.conn, file_ids, [known[m] for m in modules if m in known])

    def consulted_modules(self, file_ids: Iterable[int]) -> set[str]:
        """The dotted module names the resolution of these files consulted, found or not."""
        ids = json.dumps(list(file_ids))
        return {
            text
            for (text,) in self.conn.execute(
                "SELECT DISTINCT n.text FROM module_deps d JOIN names n ON n.id = d.name_id"
                " WHERE d.file_id IN (SELECT value FROM json_each(?))",
                (ids,),
            )
        }

    def files_spelling(self, names: Iterable[str]) -> set[int]:
        """Files with a reference or a symbol spelled with one of these names."""
        known = self.names.ids()
        name_ids = [known[n] for n in names if n in known]
        return self._distinct_files(
            "SELECT file_id FROM refs WHERE name_id IN (SELECT value FROM json_each(?1))"
            " UNION SELECT file_id FROM symbols WHERE name_id IN (SELECT value FROM json_each(?1))",
            name_ids,
        )

    def _distinct_files(self, sql: str, values: list[int]) -> set[int]:
        if not values:
            return set()
        self.flush_names()
        return {fid for (fid,) in self.conn.execute(sql, (json.dumps(values),))}

    def set_meta(self, values: dict[str, object]) -> None:
        self.conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value=excluded.value",
            list(values.items()),
        )

    def store_totals(self) -> None:
        """The stored graph totals, updated by what this update wrote."""
        self.totals.store(self.conn)

    def replace_skipped(self, skipped: list[tuple[str, str]]) -> None:
        self.conn.execute("DELETE FROM skipped")
        self.conn.executemany("INSERT OR REPLACE INTO skipped(path, reason) VALUES (?, ?)", skipped)
