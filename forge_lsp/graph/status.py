"""What `forge-lsp status` and `forge/status` report about one graph: sizes, resolution, and what
was left out of it and why (every file a limit or a fault skipped or cut is listed, up to a
bound)."""

from __future__ import annotations

from typing import Any

import apsw

from forge_lsp.graph.store import graph_totals

SKIPPED_FILES_LISTED = 100  # a tree with thousands of skipped files still gives a readable status


# Each reads a partial index (schema.py, _STATUS_INDEXES): an answer costs a few rows, not a
# scan of every file, however often an editor asks.
FILES_UNPARSED = "SELECT count(*) FROM files WHERE parse_ok = 0"
FILES_NOTED = "SELECT path, note FROM files WHERE note IS NOT NULL ORDER BY path LIMIT ?"


def graph_status(conn: apsw.Connection) -> dict[str, Any]:
    files = conn.execute("SELECT count(*) FROM files").fetchall()[0][0]
    unparsed = conn.execute(FILES_UNPARSED).fetchall()[0][0]
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    symbols, refs, resolved = graph_totals(conn)
    skipped: dict[str, int] = {}
    skipped_files: list[dict[str, str]] = []  # which files a limit or a fault left out, and why
    for path, reason in conn.execute("SELECT path, reason FROM skipped ORDER BY path"):
        key = reason.split(":", 1)[0].split(" (", 1)[0]
        skipped[key] = skipped.get(key, 0) + 1
        if len(skipped_files) < SKIPPED_FILES_LISTED:
            skipped_files.append({"path": path, "reason": reason})
    noted = conn.execute(FILES_NOTED, (SKIPPED_FILES_LISTED,)).fetchall()
    return {
        "root": meta.get("root"),
        "files": files,
        "filesWithSyntaxErrors": unparsed,
        "symbols": symbols,
        "references": refs,
        "resolvedReferences": resolved,
        "resolvedPercent": round(100.0 * resolved / refs, 1) if refs else 100.0,
        "skipped": skipped,
        "skippedFiles": skipped_files,
        # indexed, but not whole: bytes replaced, code nested too deep (the first 100, by path)
        "partlyIndexed": [
            {"path": _relative(path, meta.get("root")), "note": n} for path, n in noted
        ],
        "lastIndexSeconds": meta.get("last_index_seconds"),
        "lastIndexTime": meta.get("last_index_time"),
    }


def _relative(path: str, root: str | None) -> str:
    """A graph path as the skipped table spells its own: relative to the root."""
    prefix = (root or "").rstrip("/") + "/"
    return path[len(prefix) :] if root and path.startswith(prefix) else path
