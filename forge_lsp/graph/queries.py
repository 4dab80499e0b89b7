"""Read-side API over the graph: the questions the CLI and the language server ask.

Each GraphQuery owns one read connection; in WAL mode it never waits for the writer. Every answer
is a handful of indexed lookups. Probable answers (attribute uses whose receiver type is unknown)
are computed at query time by name, so the stored graph only ever holds exact edges.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import apsw

from forge_lsp.graph.dependencies import CONSTRUCTORS
from forge_lsp.graph.hierarchy import classes_inheriting
from forge_lsp.graph.model import (
    EXACT,
    PROBABLE,
    CallGroup,
    DocumentSymbol,
    Location,
    Reference,
    Symbol,
)
from forge_lsp.graph.schema import ROLE_CODES, ROLE_NAMES
from forge_lsp.graph.spellings import spellings
from forge_lsp.graph.status import graph_status
from forge_lsp.graph.store import open_reader
from forge_lsp.graph.symbol_search import search_symbols
from forge_lsp.parsing.facts import FIXTURE_RECEIVER, FIXTURE_VALUE_HEAD, PROPERTY_MARK

# A module symbol is shown by its file's first-ranked module name (graph/schema.py, `modules`).
_SYMBOL_COLUMNS = (
    "s.id, s.file_id, f.path, n.text, s.qualname, s.kind, s.parent_id, s.line, s.col, s.end_line,"
    " s.end_col, s.sel_line, s.sel_col, s.sel_end_col, s.signature, f.is_test,"
    " CASE WHEN s.kind = 'module' THEN (SELECT m.name FROM modules m WHERE m.file_id = s.file_id"
    " ORDER BY m.rank IS NULL, m.rank, length(m.name), m.name LIMIT 1) END"
)
_SYMBOL_FROM = " FROM symbols s JOIN names n ON n.id = s.name_id JOIN files f ON f.id = s.file_id"
_CALL = ROLE_CODES["call"]
_KEYWORD_SPAN = len("async def ")  # the widest text before a definition's name on its line
_ATTRIBUTE = ROLE_CODES["attribute"]
_WRITE = ROLE_CODES["write"]
_DECORATE = ROLE_CODES["decorate"]
# A property's type starts with PROPERTY_MARK (parsing.facts.SymbolFact.type): reading it runs the
# getter, so a function's property reads are among its outgoing calls, as in pyright's.
_IS_PROPERTY = (
    "EXISTS (SELECT 1 FROM symbols ps JOIN names pn ON pn.id = ps.type_id"
    f" WHERE ps.id = r.target_id AND pn.text LIKE '{PROPERTY_MARK}%')"
)
_IMPORT_RECEIVER = "<%"


def _symbol(row: Sequence[Any]) -> Symbol:
    (
        sid,
        fid,
        path,
        name,
        qualname,
        kind,
        parent,
        line,
        col,
        eline,
        ecol,
        sline,
        scol,
        secol,
        sig,
        test,
        module,
    ) = row
    return Symbol(
        id=sid,
        file_id=fid,
        path=path,
        name=name,
        qualname=qualname,
        kind=kind,
        parent_id=parent,
        range=Location(path, line, col, eline, ecol),
        selection=Location(path, sline, scol, sline, secol),
        signature=sig,
        is_test=bool(test),
        module_name=module or "",
    )


def _ids_json(ids: Iterable[int]) -> str:
    return json.dumps(sorted(set(ids)))


def through_fixture(receiver: str | None) -> bool:
    """A use on what a pytest fixture gives a test (`client.get()` where `client` is a fixture
    parameter): exact to impact, which must see how tests reach code, but no type checker sees
    it, so references and the call hierarchy list it as probable."""
    return receiver is not None and FIXTURE_VALUE_HEAD in receiver


class QueryInterrupted(Exception):
    """A statement stopped because the caller's `should_stop` said so."""


_INTERRUPT_STEPS = 10_000  # ~1-2 ms of SQLite work between checks: negligible cost, prompt stop
_INTERRUPT_ID = "forge-lsp-interrupt"


class GraphQuery:
    def __init__(self, conn: apsw.Connection) -> None:
        self.conn = conn

    @contextmanager
    def interruptible(self, should_stop: Callable[[], bool]) -> Iterator[None]:
        """While inside, every statement stops soon after `should_stop()` turns true.

        SQLite calls the check every few thousand VM steps, so a long walk can be abandoned
        mid-statement (a cancelled editor request) without the caller touching apsw.
        """
        self.conn.set_progress_handler(should_stop, _INTERRUPT_STEPS, id=_INTERRUPT_ID)
        try:
            yield
        except apsw.InterruptError as exc:
            raise QueryInterrupted() from exc
        finally:
            self.conn.set_progress_handler(None, id=_INTERRUPT_ID)

    @classmethod
    def open(cls, db_path: Path) -> GraphQuery:
        return cls(open_reader(db_path))

    def close(self) -> None:
        self.conn.close()

    # ----- files and symbols -----------------------------------------------------------------

    def file_id(self, path: str) -> int | None:
        rows = self.conn.execute("SELECT id FROM files WHERE path=?", (path,)).fetchall()
        return rows[0][0] if rows else None

    def file_path(self, file_id: int) -> str:
        return str(
            self.conn.execute("SELECT path FROM files WHERE id=?", (file_id,)).fetchall()[0][0]
        )

    def symbols(self, ids: Iterable[int]) -> dict[int, Symbol]:
        wanted = _ids_json(ids)
        return {
            row[0]: _symbol(row)
            for row in self.conn.execute(
                f"SELECT {_SYMBOL_COLUMNS}{_SYMBOL_FROM} WHERE s.id IN (SELECT value FROM json_each(?))",
                (wanted,),
            )
        }

    def symbol(self, symbol_id: int) -> Symbol | None:
        return self.symbols([symbol_id]).get(symbol_id)

    def module_symbol(self, path: str) -> Symbol | None:
        rows = self.conn.execute(
            f"SELECT {_SYMBOL_COLUMNS}{_SYMBOL_FROM} WHERE f.path=? AND s.kind='module'", (path,)
        ).fetchall()
        return _symbol(rows[0]) if rows else None

    def file_symbols(self, path: str) -> list[Symbol]:
        return [
            _symbol(row)
            for row in self.conn.execute(
                f"SELECT {_SYMBOL_COLUMNS}{_SYMBOL_FROM} WHERE f.path=? ORDER BY s.line, s.col, s.id",
                (path,),
            )
        ]

    def name_ids(self, symbol_ids: Iterable[int]) -> set[int]:
        """The interned name ids of some symbols (what probable answers match on)."""
        return {
            nid
            for (nid,) in self.conn.execute(
                "SELECT DISTINCT name_id FROM symbols WHERE id IN (SELECT value FROM json_each(?))",
                (_ids_json(symbol_ids),),
            )
        }

    def document_symbols(
        self, path: str, symbols: Sequence[Symbol] | None = None
    ) -> list[DocumentSymbol]:
        """The file's symbols as a tree (the module symbol itself is the implicit root);
        `symbols`: the file's symbols, when the caller has them already."""
        nodes: dict[int, DocumentSymbol] = {}
        roots: list[DocumentSymbol] = []
        module_id: int | None = None
        for sym in self.file_symbols(path) if symbols is None else symbols:
            if sym.kind == "module":
                module_id = sym.id
                continue
            node = DocumentSymbol(sym)
            nodes[sym.id] = node
            parent_id = sym.parent_id
            parent = (
                nodes.get(parent_id) if parent_id is not None and parent_id != module_id else None
            )
            (parent.children if parent is not None else roots).append(node)
        return roots

    def symbol_at(self, path: str, line: int, col: int) -> Symbol | None:
        """The symbol named at a position: a definition's name, or what a reference points to."""
        fid = self.file_id(path)
        if fid is None:
            return None
        for row in self.conn.execute(
            f"SELECT {_SYMBOL_COLUMNS}{_SYMBOL_FROM} WHERE s.file_id=? AND s.sel_line=?"
            " AND s.sel_col<=? AND s.sel_end_col>=? AND s.kind!='module'",
            (fid, line, col, col),
        ):
            return _symbol(row)
        ref = self._ref_at(fid, line, col)
        if ref is not None and ref[0] is not None:
            return self.symbol(ref[0])
        if ref is None:  # on `def`, `async def` or `class` (or their indent): what they define
            for row in self.conn.execute(
                f"SELECT {_SYMBOL_COLUMNS}{_SYMBOL_FROM} WHERE s.file_id=? AND s.sel_line=?"
                " AND s.sel_col>? AND s.sel_col<=?+? AND s.kind IN ('function','method','class')"
                " ORDER BY s.sel_col LIMIT 1",
                (fid, line, col, col, _KEYWORD_SPAN),
            ):
                return _symbol(row)
        return None

    def enclosing_symbol(self, path: str, line: int, col: int | None = None) -> Symbol | None:
        """The innermost function, class or variable whose text holds the position (a whole
        line when `col` is None), else the file's module: what "the code here" means."""
        fid = self.file_id(path)
        if fid is None:
            return None
        start, end = (col, col) if col is not None else (1 << 30, 0)
        rows = self.conn.execute(
            f"SELECT {_SYMBOL_COLUMNS}{_SYMBOL_FROM} WHERE s.file_id=? AND s.kind!='module'"
            " AND (s.line < ? OR s.line = ? AND s.col <= ?)"
            " AND (s.end_line > ? OR s.end_line = ? AND s.end_col >= ?)"
            " ORDER BY s.line DESC, s.col DESC LIMIT 1",
            (fid, line, line, start, line, line, end),
        ).fetchall()
        return _symbol(rows[0]) if rows else self.module_symbol(path)

    def _ref_at(
        self, file_id: int, line: int, col: int
    ) -> tuple[int | None, int, str | None] | None:
        rows = self.conn.execute(
            "SELECT r.target_id, r.name_id, rn.text FROM refs r LEFT JOIN names rn ON rn.id = r.receiver_id"
            " WHERE r.file_id=? AND r.line=? AND r.col<=? AND r.end_col>=? ORDER BY r.col DESC LIMIT 1",
            (file_id, line, col, col),
        ).fetchall()
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def definition(
        self, path: str, line: int, col: int, *, include_probable: bool = False
    ) -> list[Symbol]:
        fid = self.file_id(path)
        if fid is None:
            return []
        sym = self.symbol_at(path, line, col)
        if sym is not None:
            return [sym]
        ref = self._ref_at(fid, line, col)
        if ref is None or not include_probable or ref[2] is None or ref[2].startswith("<"):
            return []
        return [
            _symbol(row)
            for row in self.conn.execute(
                f"SELECT {_SYMBOL_COLUMNS}{_SYMBOL_FROM} WHERE s.name_id=? AND s.kind IN"
                " ('method', 'field', 'function') ORDER BY f.path, s.line",
                (ref[1],),
            )
        ]

    # ----- references ------------------------------------------------------------------------

    def references(
        self, symbol: Symbol, *, include_declaration: bool = True, include_probable: bool = False
    ) -> list[Reference]:
        out: list[Reference] = []
        seen: set[tuple[str, int, int]] = set()
        if include_declaration and symbol.kind != "module":
            sel = symbol.selection
            out.append(Reference(sel, "definition", EXACT, symbol.parent_id or symbol.id, True))
            seen.add((sel.path, sel.line, sel.col))
        rows = self.conn.execute(
            "SELECT f.path, r.line, r.col, r.end_col, r.role, r.scope_id, rn.text FROM refs r"
            " JOIN files f ON f.id = r.file_id LEFT JOIN names rn ON rn.id = r.receiver_id"
            " WHERE r.target_id=?",
            (symbol.id,),
        ).fetchall()
        classes = self.constructed_classes(symbol)
        if classes:  # C(...) is a use of the C.__init__ it runs
            rows += self.conn.execute(
                "SELECT f.path, r.line, r.col, r.end_col, r.role, r.scope_id, rn.text FROM refs r"
                " JOIN files f ON f.id = r.file_id LEFT JOIN names rn ON rn.id = r.receiver_id"
                " WHERE r.role = ? AND r.target_id IN (SELECT value FROM json_each(?))",
                (_CALL, _ids_json(classes)),
            ).fetchall()
        exact = [row[:6] for row in rows if not through_fixture(row[6])]
        out.extend(self._references(exact, EXACT, seen))
        if include_probable:
            fixtures = [row[:6] for row in rows if through_fixture(row[6])]
            out.extend(self._references(fixtures, PROBABLE, seen))
            out.extend(self._references(self._probable_rows(symbol), PROBABLE, seen))
        out.sort(
            key=lambda r: (not r.is_declaration, r.location.path, r.location.line, r.location.col)
        )
        return out

    def _references(
        self, rows: Iterable[Sequence[Any]], confidence: str, seen: set[tuple[str, int, int]]
    ) -> list[Reference]:
        out = []
        for path, line, col, end_col, role, scope in rows:
            key = (path, line, col)
            if key in seen:
                continue
            seen.add(key)
            out.append(
                Reference(
                    Location(path, line, col, line, end_col), ROLE_NAMES[role], confidence, scope
                )
            )
        return out

    def spellings(self, symbol: Symbol) -> set[str]:
        """Every name a reference to the symbol can be spelled with (graph/spellings.py)."""
        return spellings(self.conn, symbol, self.constructed_classes(symbol))

    def constructed_classes(self, symbol: Symbol) -> list[int]:
        """For a constructor (`__init__`, `__new__`, `__post_init__`), the classes whose
        `C(...)` runs it: its class and the subclasses that inherit it."""
        if symbol.kind != "method" or symbol.name not in CONSTRUCTORS or symbol.parent_id is None:
            return []
        return classes_inheriting(self.conn, symbol.parent_id, symbol.name)

    def _probable_rows(self, symbol: Symbol, role: int | None = None) -> list[Sequence[Any]]:
        """Uses of the symbol's name on receivers of unknown type: candidates, not certainties."""
        if symbol.kind not in ("method", "field", "function"):
            return []
        sql = (
            "SELECT f.path, r.line, r.col, r.end_col, r.role, r.scope_id FROM refs r"
            " JOIN files f ON f.id = r.file_id JOIN names rn ON rn.id = r.receiver_id"
            " WHERE r.target_id IS NULL AND r.name_id = (SELECT name_id FROM symbols WHERE id=?)"
            f" AND rn.text NOT LIKE ? AND rn.text != '{FIXTURE_RECEIVER}'"  # a module's, a fixture's
        )
        params: list[Any] = [symbol.id, _IMPORT_RECEIVER]
        if role is not None:
            sql += " AND r.role = ?"
            params.append(role)
        return self.conn.execute(sql, params).fetchall()

    # ----- calls -----------------------------------------------------------------------------

    def incoming_calls(self, symbol: Symbol, *, include_probable: bool = False) -> list[CallGroup]:
        targets = [symbol.id, *self.constructed_classes(symbol)]  # C(...) calls C.__init__
        # As pyright's call hierarchy has them: calls, and every use of the member on an object
        # (`obj.prop` runs a getter, `@app.before_request` and `cb = self.handler` pass the
        # method on to be called): attribute reads, writes and decorators, not on a module.
        rows = [
            (*row[:6], PROBABLE if through_fixture(row[6]) else EXACT)
            for row in self.conn.execute(
                "SELECT f.path, r.line, r.col, r.end_col, r.role, r.scope_id, rn.text FROM refs r"
                " JOIN files f ON f.id = r.file_id LEFT JOIN names rn ON rn.id = r.receiver_id"
                " WHERE r.target_id IN (SELECT value FROM json_each(?))"
                " AND (r.role = ? OR r.role IN (?, ?, ?) AND rn.text NOT LIKE '<%'"
                " AND rn.text != '.')",
                (_ids_json(targets), _CALL, _ATTRIBUTE, _WRITE, _DECORATE),
            )
        ]
        if not include_probable:
            rows = [row for row in rows if row[6] == EXACT]
        if include_probable:
            rows.extend((*row, PROBABLE) for row in self._probable_rows(symbol, _CALL))
        return self._group_calls(rows, key_index=5)

    def outgoing_calls(self, symbol: Symbol, *, include_probable: bool = False) -> list[CallGroup]:
        rows: list[tuple[Any, ...]] = []
        for line, col, end_col, target, name_id, recv in self.conn.execute(
            "SELECT r.line, r.col, r.end_col, r.target_id, r.name_id, rn.text FROM refs r"
            " LEFT JOIN names rn ON rn.id = r.receiver_id WHERE r.file_id=? AND r.line BETWEEN ? AND ?"
            f" AND r.scope_id=? AND (r.role = ? OR r.role = ? AND {_IS_PROPERTY})",
            (
                symbol.file_id,
                symbol.range.line,
                symbol.range.end_line,
                symbol.id,
                _CALL,
                _ATTRIBUTE,
            ),
        ):
            if target is not None and not through_fixture(recv):
                rows.append((symbol.path, line, col, end_col, _CALL, target, EXACT))
            elif target is not None:
                if include_probable:
                    rows.append((symbol.path, line, col, end_col, _CALL, target, PROBABLE))
            elif include_probable and recv is not None and not recv.startswith("<"):
                for (candidate,) in self.conn.execute(
                    "SELECT id FROM symbols WHERE name_id=? AND kind IN ('method', 'function')",
                    (name_id,),
                ):
                    rows.append((symbol.path, line, col, end_col, _CALL, candidate, PROBABLE))
        return self._group_calls(rows, key_index=5)

    def attribute_targets(self, symbol: Symbol) -> set[int]:
        """What the attribute uses inside a function resolve to: whether each is a property
        (and so among its outgoing calls) can change without the function changing."""
        return {
            target
            for (target,) in self.conn.execute(
                "SELECT DISTINCT target_id FROM refs WHERE file_id=? AND line BETWEEN ? AND ?"
                " AND scope_id=? AND role=? AND target_id IS NOT NULL",
                (symbol.file_id, symbol.range.line, symbol.range.end_line, symbol.id, _ATTRIBUTE),
            )
        }

    def _group_calls(self, rows: list[tuple[Any, ...]], key_index: int) -> list[CallGroup]:
        grouped: dict[int, list[tuple[Any, ...]]] = {}
        for row in rows:
            grouped.setdefault(row[key_index], []).append(row)
        symbols = self.symbols(grouped)
        out = []
        for sid, sites in grouped.items():
            sym = symbols.get(sid)
            if sym is None:
                continue
            locations = tuple(
                sorted(
                    {Location(p, line, col, line, ecol) for p, line, col, ecol, *_ in sites},
                    key=lambda loc: (loc.path, loc.line, loc.col),
                )
            )
            confidence = EXACT if any(s[-1] == EXACT for s in sites) else PROBABLE
            out.append(CallGroup(sym, locations, confidence))
        out.sort(key=lambda g: (g.symbol.path, g.symbol.range.line, g.symbol.range.col))
        return out

    # ----- workspace symbols -----------------------------------------------------------------

    def workspace_symbols(self, query: str, *, limit: int = 100) -> list[Symbol]:
        """By name or dotted name, ranked (graph/symbol_search.py)."""
        return search_symbols(self.conn, query, limit, self)

    def module_symbols(self, file_ids: Collection[int]) -> list[Symbol]:
        """The module symbols of these files."""
        rows = self.conn.execute(
            f"SELECT {_SYMBOL_COLUMNS}{_SYMBOL_FROM} WHERE s.kind = 'module'"
            " AND s.file_id IN (SELECT value FROM json_each(?))",
            (json.dumps(list(file_ids)),),
        ).fetchall()
        return [_symbol(row) for row in rows]

    # ----- status ----------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        return graph_status(self.conn)
