"""Whether the graph still describes the files on disk, for answers from the command line.

The server keeps its graph fresh from the editor and the watcher. A command run after an edit
finds a graph indexed before it, and would answer an old position with the old symbol. So a
query command first updates the index (only changed files are reparsed: unchanged ones cost a
stat), and where it cannot (a read-only or locked database) checks the files it was asked
about, so that it answers from a stale graph only where the graph is not stale.

A graph a running server keeps (`forge-lsp serve`, marked by `<db>.serving` holding its pid) is
not refreshed from the command line: the server follows the disk through its watcher and the
editor's unsaved buffers, and holds the graph's files and symbols in memory; a second writer
would leave those stale.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path

import apsw

from forge_lsp.config import load_settings
from forge_lsp.graph.store import open_reader
from forge_lsp.indexing.indexer import index_workspace
from forge_lsp.indexing.report import IndexReport
from forge_lsp.indexing.worker import content_hash

SERVING_SUFFIX = ".serving"


def mark_serving(db: Path) -> None:
    """Say that this process keeps the graph at `db` up to date (until `unmark_serving`); where
    the marker cannot be written, the command line refreshes the graph as for no server."""
    with suppress(OSError):
        Path(f"{db}{SERVING_SUFFIX}").write_text(str(os.getpid()), encoding="ascii")


def unmark_serving(db: Path) -> None:
    with suppress(OSError):
        Path(f"{db}{SERVING_SUFFIX}").unlink(missing_ok=True)


def serving_pid(db: Path) -> int | None:
    """The pid of a live server keeping the graph at `db`, if one is running."""
    try:
        pid = int(Path(f"{db}{SERVING_SUFFIX}").read_text(encoding="ascii").strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None  # no marker, an unreadable one, or its server is gone
    return pid


def indexed_root(db: Path) -> Path | None:
    """The workspace root the graph at `db` was indexed from, if it is still a directory (the
    graph may be of an older schema, which refreshing it migrates)."""
    conn = open_reader(db, any_version=True)
    try:
        rows = conn.execute("SELECT value FROM meta WHERE key = 'root'").fetchall()
    finally:
        conn.close()
    root = Path(rows[0][0]) if rows and isinstance(rows[0][0], str) else None
    return root if root is not None and root.is_dir() else None


def refresh(db: Path) -> IndexReport | None:
    """Update the graph at `db` from its workspace's files on disk (None: no workspace to read).
    Raises StoreError when the database cannot be written."""
    root = indexed_root(db)
    if root is None:
        return None
    return index_workspace(load_settings(root, db=db))


def stale_paths(conn: apsw.Connection, paths: Iterable[str]) -> list[str]:
    """Those of `paths` whose bytes on disk are not the ones the graph holds (gone too);
    a path the graph does not hold is not stale, only unknown."""
    stale: list[str] = []
    for path in paths:
        row = conn.execute(
            "SELECT size, mtime_ns, content_hash FROM files WHERE path = ?", (path,)
        ).fetchall()
        if not row:
            continue
        size, mtime_ns, digest = row[0]
        try:
            info = os.stat(path)
            if (info.st_size, info.st_mtime_ns) == (size, mtime_ns):
                continue
            with open(path, "rb") as handle:
                if content_hash(handle.read()) == digest:
                    continue  # touched, not changed
        except OSError:
            pass  # gone or unreadable: what the graph says of it is stale
        stale.append(path)
    return stale
