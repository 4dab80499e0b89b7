"""Shared helpers: build a real workspace on disk, index it for real, and find positions by text."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from forge_lsp.config import load_settings
from forge_lsp.graph.model import Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.indexing.indexer import IndexReport, index_workspace


def write_tree(root: Path, files: dict[str, str | bytes]) -> None:
    for rel, content in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")


@dataclass
class Indexed:
    root: Path
    db: Path
    report: IndexReport
    query: GraphQuery

    def path(self, rel: str) -> str:
        return (self.root / rel).resolve().as_posix()

    def pos(self, rel: str, needle: str, nth: int = 0, offset: int = 0) -> tuple[int, int]:
        """0-based (line, column in code points) of the nth occurrence of `needle` in a file."""
        text = (self.root / rel).read_text(encoding="utf-8")
        index = -1
        for _ in range(nth + 1):
            index = text.index(needle, index + 1)
        index += offset
        line = text.count("\n", 0, index)
        col = index - (text.rfind("\n", 0, index) + 1)
        return line, col

    def symbol(self, rel: str, qualname: str) -> Symbol:
        for sym in self.query.file_symbols(self.path(rel)):
            if sym.qualname == qualname:
                return sym
        raise AssertionError(f"no symbol {qualname} in {rel}")

    def symbol_at(self, rel: str, needle: str, nth: int = 0, offset: int = 0) -> Symbol | None:
        line, col = self.pos(rel, needle, nth, offset)
        return self.query.symbol_at(self.path(rel), line, col)

    def ref_set(
        self, sym: Symbol, *, include_declaration: bool = True, probable: bool = False
    ) -> set[tuple[str, int, int]]:
        root = self.root.resolve().as_posix() + "/"
        return {
            (r.location.path.removeprefix(root), r.location.line, r.location.col)
            for r in self.query.references(
                sym, include_declaration=include_declaration, include_probable=probable
            )
        }

    def at(self, rel: str, needle: str, nth: int = 0, offset: int = 0) -> tuple[str, int, int]:
        return (rel, *self.pos(rel, needle, nth, offset))


def index_tree(tmp_path: Path, files: dict[str, str | bytes], jobs: int = 1) -> Indexed:
    root = tmp_path / "ws"
    root.mkdir(parents=True, exist_ok=True)
    write_tree(root, files)
    db = tmp_path / "graph.db"
    settings = load_settings(root, db=db)
    report = index_workspace(settings, jobs=jobs)
    return Indexed(root, db, report, GraphQuery.open(db))


def reindex(ws: Indexed, jobs: int = 1) -> IndexReport:
    ws.query.close()
    report = index_workspace(load_settings(ws.root, db=ws.db), jobs=jobs)
    ws.query = GraphQuery.open(ws.db)
    ws.report = report
    return report


def graph_differences(left: Path, right: Path) -> list[str]:
    """What differs between two graph databases, table by table ([] when they are the same)."""
    import apsw

    from forge_lsp.graph.snapshot import graph_snapshot, snapshot_diff

    a, b = apsw.Connection(str(left)), apsw.Connection(str(right))
    try:
        return snapshot_diff(graph_snapshot(a), graph_snapshot(b))
    finally:
        a.close()
        b.close()


def imports_as_v8(conn: Any) -> None:
    """Turn a graph's import rows back into the `imports` table of schema v8 (texts, not name
    ids), to test the migrations of graphs older than v9 on content a current build wrote."""
    conn.execute(
        "CREATE TABLE imports_old(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL,"
        " line INTEGER NOT NULL, module TEXT NOT NULL, name TEXT, alias TEXT,"
        " level INTEGER NOT NULL, module_level INTEGER NOT NULL, target_file_id INTEGER) STRICT;"
        "INSERT INTO imports_old SELECT * FROM imports;"
        "DROP VIEW imports; DROP TABLE import_rows;"
        "ALTER TABLE imports_old RENAME TO imports;"
        "CREATE INDEX imports_file ON imports(file_id);"
        "CREATE INDEX imports_target ON imports(target_file_id);"
    )
