"""pytest node ids for the test symbols an impact walk reached.

A test function at module level is `path::name`; a test method is `path::Class::name` for its
class and for every subclass that inherits it (pytest runs an inherited test once per class
that collects it, `path::Sub::name`, in the subclass's file). A class is collected when its
name starts with `Test` or it derives from a `...TestCase`; nested classes need every class on
the way collected; a test class imported at module level into another test file is collected
there too. Paths are relative to the directory pytest runs in.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable

from forge_lsp.graph.model import Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.graph.schema import ROLE_CODES

_INHERIT, _IMPORT = ROLE_CODES["inherit"], ROLE_CODES["import"]


class PytestIds:
    """Node ids, with what it learned about classes kept for the next question."""

    def __init__(self, query: GraphQuery, base: str) -> None:
        self.query = query
        self.base = base
        self._collected: dict[int, bool] = {}
        self._symbols: dict[int, Symbol | None] = {}
        self._subclasses: dict[int, list[tuple[Symbol, frozenset[str]]]] = {}
        self._imports: dict[int, list[str]] = {}
        self._rels: dict[str, str] = {}

    def of(self, symbols: Iterable[Symbol]) -> dict[int, list[str]]:
        symbols = list(symbols)
        self._learn(s.parent_id for s in symbols if s.parent_id is not None)
        out: dict[int, list[str]] = {}
        for sym in symbols:
            ids = self._ids(sym)
            if ids:
                out[sym.id] = ids
        return out

    def _learn(self, ids: Iterable[int]) -> None:
        unknown = {i for i in ids if i not in self._symbols}
        if unknown:
            found = self.query.symbols(unknown)
            self._symbols.update((i, found.get(i)) for i in unknown)

    def _symbol(self, sid: int) -> Symbol | None:
        self._learn([sid])
        return self._symbols[sid]

    def _ids(self, sym: Symbol) -> list[str]:
        if not (sym.is_test and sym.name.startswith("test") and sym.parent_id is not None):
            return []
        parent = self._symbol(sym.parent_id)
        if parent is None:
            return []
        if sym.kind == "function" and parent.kind == "module":
            return [f"{self._rel(sym.path)}::{sym.name}"]
        if sym.kind != "method" or parent.kind != "class":
            return []
        ids = []
        for cls in self._classes_running(parent, sym.name):
            if self._is_collected(cls):
                qualname = cls.qualname.replace(".", "::")
                ids.append(f"{self._rel(cls.path)}::{qualname}::{sym.name}")
                if cls.parent_id is not None and "." not in cls.qualname:
                    ids += [f"{rel}::{qualname}::{sym.name}" for rel in self._imported_in(cls)]
        return ids

    def _imported_in(self, cls: Symbol) -> list[str]:
        """The other test files that import the class at module level: pytest collects it
        there again (`from test_base import TestBase` runs TestBase's tests twice)."""
        known = self._imports.get(cls.id)
        if known is None:
            rows = self.query.conn.execute(
                "SELECT DISTINCT f.path FROM refs r JOIN files f ON f.id = r.file_id"
                " JOIN symbols m ON m.id = r.scope_id AND m.kind = 'module'"
                " JOIN names n ON n.id = r.name_id WHERE r.target_id = ? AND r.role = ?"
                " AND f.is_test AND n.text = ? AND f.id != ?",
                (cls.id, _IMPORT, cls.name, cls.file_id),
            ).fetchall()
            known = self._imports[cls.id] = sorted(self._rel(path) for (path,) in rows)
        return known

    def _classes_running(self, cls: Symbol, method: str) -> list[Symbol]:
        """The class and its subclasses (in test files) that do not override `method`."""
        found = [cls]
        stack = [cls]
        while stack:
            for sub, members in self._direct_subclasses(stack.pop()):
                if method not in members and sub not in found:
                    found.append(sub)
                    stack.append(sub)
        return sorted(found, key=lambda s: (s.path, s.range.line))

    def _direct_subclasses(self, cls: Symbol) -> list[tuple[Symbol, frozenset[str]]]:
        """The test classes deriving from `cls` directly, each with the names it defines."""
        known = self._subclasses.get(cls.id)
        if known is None:
            rows = self.query.conn.execute(
                "SELECT DISTINCT r.scope_id FROM refs r WHERE r.role = ? AND r.target_id = ?",
                (_INHERIT, cls.id),
            ).fetchall()
            subs = [
                s
                for s in self.query.symbols(r[0] for r in rows).values()
                if s.is_test and s.kind == "class"
            ]
            members: dict[int, set[str]] = {s.id: set() for s in subs}
            for parent, name in self.query.conn.execute(
                "SELECT m.parent_id, n.text FROM symbols m JOIN names n ON n.id = m.name_id"
                " WHERE m.parent_id IN (SELECT value FROM json_each(?))",
                (json.dumps(sorted(members)),),
            ):
                members[parent].add(name)
            known = self._subclasses[cls.id] = [(s, frozenset(members[s.id])) for s in subs]
        return known

    def _is_collected(self, cls: Symbol) -> bool:
        known = self._collected.get(cls.id)
        if known is not None:
            return known
        self._collected[cls.id] = False  # a cycle of bases collects nothing
        outer = self._symbol(cls.parent_id) if cls.parent_id is not None else None
        if outer is None:
            collected = False
        elif outer.kind == "class":
            collected = self._is_collected(outer) and self._is_test_class(cls)
        else:
            collected = outer.kind == "module" and self._is_test_class(cls)
        self._collected[cls.id] = collected
        return collected

    def _is_test_class(self, cls: Symbol) -> bool:
        if cls.name.startswith("Test"):
            return True
        frontier, seen = [cls], {cls.id}
        while frontier:  # any base, however far up, named like unittest's TestCase
            rows = []
            for c in frontier:  # a class's bases are references on its own lines
                rows += self.query.conn.execute(
                    "SELECT n.text, r.target_id FROM refs r JOIN names n ON n.id = r.name_id"
                    " WHERE r.file_id = ? AND r.line BETWEEN ? AND ? AND r.scope_id = ?"
                    " AND r.role = ?",
                    (c.file_id, c.range.line, c.range.end_line, c.id, _INHERIT),
                ).fetchall()
            if any(name.endswith("TestCase") for name, _target in rows):
                return True
            bases = self.query.symbols(t for _name, t in rows if t is not None and t not in seen)
            frontier = list(bases.values())
            seen.update(bases)
        return False

    def _rel(self, path: str) -> str:
        rel = self._rels.get(path)
        if rel is None:
            rel = self._rels[path] = os.path.relpath(path, self.base).replace(os.sep, "/")
        return rel
