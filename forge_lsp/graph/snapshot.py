"""The graph's content without its ids: what "an incremental graph equals a cold index" compares.

Row ids and symbol ids depend on history (a symbol keeps its id across edits), so every id is
replaced by what it stands for: a file by its path, a symbol by (path, qualified name, kind,
position of its name), a name by its text. Sizes and mtimes are left out (an open document's row
has the buffer's), everything else is kept, dependencies of resolution included.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import apsw

from forge_lsp.graph.consulted import decode_names

Table = Counter[tuple[Any, ...]]


def graph_snapshot(conn: apsw.Connection) -> dict[str, Table]:
    """Each table as a multiset of id-free rows."""
    paths = dict(conn.execute("SELECT id, path FROM files"))
    names = dict(conn.execute("SELECT id, text FROM names"))
    symbols: dict[int, tuple[Any, ...]] = {
        sid: (paths[fid], qualname, kind, line, col)
        for sid, fid, qualname, kind, line, col in conn.execute(
            "SELECT id, file_id, qualname, kind, sel_line, sel_col FROM symbols"
        )
    }

    def reading(blob: bytes | None) -> tuple[str, ...] | None:
        """The names of the references that read a dependency, as text."""
        if blob is None:
            return None
        return tuple(sorted(names.get(n, "<imports>") for n in decode_names(blob)))

    def table(sql: str, convert: Any) -> Table:
        return Counter(convert(*row) for row in conn.execute(sql))

    return {
        "files": table(
            "SELECT path, language, content_hash, interface_hash, parse_ok, is_ascii, is_test,"
            " exports FROM files",
            lambda *row: row,
        ),
        "modules": table(
            "SELECT name, file_id, rank FROM modules",
            lambda name, fid, rank: (name, paths.get(fid), rank),
        ),
        "symbols": table(
            "SELECT id, name_id, parent_id, line, col, end_line, end_col, sel_end_col, signature,"
            " type_id FROM symbols",
            lambda sid, name, parent, *rest: (
                symbols[sid],
                names.get(name),
                symbols.get(parent) if parent is not None else None,
                *rest[:-1],
                names.get(rest[-1]),
            ),
        ),
        "refs": table(
            "SELECT file_id, line, col, end_col, name_id, role, scope_id, target_id, receiver_id"
            " FROM refs",
            lambda fid, line, col, end, name, role, scope, target, receiver: (
                paths.get(fid),
                line,
                col,
                end,
                names.get(name),
                role,
                symbols.get(scope),
                symbols.get(target) if target is not None else None,
                names.get(receiver) if receiver is not None else None,
            ),
        ),
        "imports": table(
            "SELECT file_id, line, module, name, alias, level, module_level, target_file_id"
            " FROM imports",
            lambda fid, *rest: (
                paths.get(fid),
                *rest[:-1],
                paths.get(rest[-1]) if rest[-1] is not None else None,
            ),
        ),
        "file_deps": table(
            "SELECT file_id, dep_id, names FROM file_deps",
            lambda fid, dep, blob: (paths.get(fid), paths.get(dep), reading(blob)),
        ),
        "module_deps": table(
            "SELECT file_id, name_id, names FROM module_deps",
            lambda fid, name, blob: (paths.get(fid), names.get(name), reading(blob)),
        ),
    }


def snapshot_diff(left: dict[str, Table], right: dict[str, Table], limit: int = 5) -> list[str]:
    """Human-readable differences between two snapshots (empty when they are equal)."""
    out: list[str] = []
    for name in sorted(set(left) | set(right)):
        only_left = left.get(name, Counter()) - right.get(name, Counter())
        only_right = right.get(name, Counter()) - left.get(name, Counter())
        for label, rows in (("only in first", only_left), ("only in second", only_right)):
            if rows:
                sample = sorted(map(repr, rows))[:limit]
                out.append(f"{name}: {sum(rows.values())} rows {label}: " + "; ".join(sample))
    return out
