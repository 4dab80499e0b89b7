"""The rows the in-memory resolution model is built from, a range of file ids at a time.

A server loads the model of every stored file once, after its index (indexing/program_load.py);
these are the four reads that load does, apart from the writer's own reads, which serve one
update each. The writer must have flushed its names (GraphWriter.flush_names) before: the
symbol and base rows carry their names' texts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import apsw

from forge_lsp.graph.schema import ROLE_CODES


def symbol_rows(
    conn: apsw.Connection, first_file: int, last_file: int
) -> list[tuple[int, int, str, str, int | None, int, int, str | None]]:
    """(id, file_id, name, kind, parent_id, name line, name column, type) of the symbols of
    the files whose ids are in the range."""
    return conn.execute(
        "SELECT s.id, s.file_id, n.text, s.kind, s.parent_id, s.sel_line, s.sel_col, t.text"
        " FROM symbols s JOIN names n ON n.id = s.name_id"
        " LEFT JOIN names t ON t.id = s.type_id"
        " WHERE s.file_id BETWEEN ? AND ?",
        (first_file, last_file),
    ).fetchall()


def file_exports(
    conn: apsw.Connection, first_file: int, last_file: int
) -> list[tuple[int, str, list[str] | None]]:
    """(file_id, path, `__all__` or None) of the files whose ids are in the range."""
    return [
        (fid, path, json.loads(exports) if exports is not None else None)
        for fid, path, exports in conn.execute(
            "SELECT id, path, exports FROM files WHERE id BETWEEN ? AND ?",
            (first_file, last_file),
        )
    ]


def module_imports(
    conn: apsw.Connection, first_file: int, last_file: int
) -> Iterator[tuple[int, str, str | None, str | None, int]]:
    """(file, module, name, alias, level) of the module-level import statements of the files
    in the range, in the order of their statements."""
    yield from conn.execute(
        "SELECT file_id, module, name, alias, level FROM imports"
        " WHERE file_id BETWEEN ? AND ? AND module_level ORDER BY id",
        (first_file, last_file),
    )


def stored_bases(
    conn: apsw.Connection, first_file: int, last_file: int
) -> Iterator[tuple[int, int, str, str | None, int | None]]:
    """Base-class references of the files in the range: (class, file, name, receiver,
    target)."""
    # Position order: the order of the bases in the class header, which the MRO follows.
    yield from conn.execute(
        "SELECT r.scope_id, r.file_id, n.text, rn.text, r.target_id FROM refs r"
        " JOIN names n ON n.id = r.name_id LEFT JOIN names rn ON rn.id = r.receiver_id"
        " WHERE r.role = ? AND r.file_id BETWEEN ? AND ? ORDER BY r.file_id, r.line, r.col",
        (ROLE_CODES["inherit"], first_file, last_file),
    )
