"""Shared by the live-update tests: a workspace on disk with a GraphUpdater applying edits to it,
and the check that the graph equals a cold index of the same files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import apsw

from forge_lsp.config import load_settings
from forge_lsp.graph.snapshot import graph_snapshot, snapshot_diff
from forge_lsp.graph.store import TOTALS, count_totals, stored_totals
from forge_lsp.indexing.indexer import index_workspace
from forge_lsp.indexing.report import IndexReport
from forge_lsp.indexing.updater import GraphUpdater
from forge_lsp.indexing.worker import Job


class LiveTree:
    """A workspace whose graph is kept up to date file by file, as the live server does."""

    def __init__(self, tmp_path: Path, files: dict[str, str]) -> None:
        self.tmp = tmp_path
        self.root = (tmp_path / "ws").resolve()
        self.root.mkdir(parents=True, exist_ok=True)
        for rel, text in files.items():
            self.write(rel, text)
        self.db = tmp_path / "live.db"
        self.settings = load_settings(self.root, db=self.db)
        index_workspace(self.settings, jobs=1)
        self.updater = GraphUpdater.open(self.settings)
        self.cold_runs = 0

    def path(self, rel: str) -> str:
        return (self.root / rel).as_posix()

    def write(self, rel: str, text: str) -> None:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

    def apply(self, written: list[str] = (), deleted: list[str] = ()) -> IndexReport:  # type: ignore[assignment]
        """Tell the updater what changed on disk, as the watcher would (deleting `deleted`
        first if they still exist)."""
        jobs = []
        for rel in written:
            path = self.path(rel)
            jobs.append(Job(path, (self.root / rel).stat().st_size))
        for rel in deleted:
            (self.root / rel).unlink(missing_ok=True)
        return self.updater.apply(jobs=jobs, removed=[self.path(r) for r in deleted])

    def edit(self, rel: str, text: str) -> IndexReport:
        self.write(rel, text)
        return self.apply([rel])

    def differences(self) -> list[str]:
        """How the live graph differs from a cold index of the files on disk now."""
        self.cold_runs += 1
        cold_db = self.tmp / f"cold-{self.cold_runs}.db"
        index_workspace(load_settings(self.root, db=cold_db), jobs=1)
        live = graph_snapshot(self.updater.conn)
        reader = apsw.Connection(str(cold_db), flags=apsw.SQLITE_OPEN_READONLY)
        try:
            cold = graph_snapshot(reader)
        finally:
            reader.close()
        return snapshot_diff(live, cold) + self._totals_differences()

    def _totals_differences(self) -> list[str]:
        """The totals `forge/status` reports, kept by every update (graph/totals.py), against
        a count of the rows."""
        conn = self.updater.conn
        stored, counted = stored_totals(conn), count_totals(conn)
        if stored != counted:
            return [f"stored totals {stored} are not the counted {counted} ({TOTALS})"]
        return []

    def targets(self, rel: str, name: str) -> list[str | None]:
        """Qualified names (file:qualname) of what each use of `name` in a file points at."""
        rows = self.updater.conn.execute(
            "SELECT t.qualname, tf.path FROM refs r JOIN files f ON f.id = r.file_id"
            " JOIN names n ON n.id = r.name_id LEFT JOIN symbols t ON t.id = r.target_id"
            " LEFT JOIN files tf ON tf.id = t.file_id WHERE f.path = ? AND n.text = ?"
            " ORDER BY r.line, r.col",
            (self.path(rel), name),
        ).fetchall()
        prefix = self.root.as_posix() + "/"
        return [
            f"{path.removeprefix(prefix)}:{qualname}" if qualname is not None else None
            for qualname, path in rows
        ]

    def close(self) -> None:
        self.updater.close()
