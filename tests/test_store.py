"""The database: migrations, transactions that fail cleanly, corrupt files rebuilt."""

from __future__ import annotations

import logging
from pathlib import Path

import apsw
import pytest
from helpers import graph_differences, imports_as_v8, index_tree, reindex

from forge_lsp.config import load_settings
from forge_lsp.graph.schema import SCHEMA_VERSION
from forge_lsp.graph.status import FILES_NOTED, FILES_UNPARSED, graph_status
from forge_lsp.graph.store import APPLICATION_ID, StoreError, open_reader, open_writer
from forge_lsp.indexing import updater
from forge_lsp.indexing.indexer import index_workspace

V1_SCHEMA = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value ANY) STRICT;
CREATE TABLE files(id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, language TEXT NOT NULL,
    content_hash BLOB NOT NULL, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    interface_hash BLOB NOT NULL, parse_ok INTEGER NOT NULL, is_ascii INTEGER NOT NULL,
    is_test INTEGER NOT NULL) STRICT;
CREATE TABLE modules(name TEXT NOT NULL, file_id INTEGER NOT NULL, PRIMARY KEY(name, file_id)) STRICT, WITHOUT ROWID;
CREATE TABLE names(id INTEGER PRIMARY KEY, text TEXT NOT NULL UNIQUE) STRICT;
CREATE TABLE symbols(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, name_id INTEGER NOT NULL,
    qualname TEXT NOT NULL, kind TEXT NOT NULL, parent_id INTEGER, line INTEGER NOT NULL,
    col INTEGER NOT NULL, end_line INTEGER NOT NULL, end_col INTEGER NOT NULL,
    sel_line INTEGER NOT NULL, sel_col INTEGER NOT NULL, sel_end_col INTEGER NOT NULL,
    signature TEXT NOT NULL) STRICT;
CREATE TABLE refs(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, line INTEGER NOT NULL,
    col INTEGER NOT NULL, end_col INTEGER NOT NULL, name_id INTEGER NOT NULL, role INTEGER NOT NULL,
    scope_id INTEGER NOT NULL, target_id INTEGER, receiver_id INTEGER) STRICT;
CREATE TABLE imports(id INTEGER PRIMARY KEY, file_id INTEGER NOT NULL, line INTEGER NOT NULL,
    module TEXT NOT NULL, name TEXT, alias TEXT, level INTEGER NOT NULL,
    module_level INTEGER NOT NULL, target_file_id INTEGER) STRICT;
"""


def test_migrates_a_version_1_database_forward(tmp_path: Path) -> None:
    db = tmp_path / "graph.db"
    conn = apsw.Connection(str(db))
    conn.execute(V1_SCHEMA)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO meta VALUES ('root', '/somewhere')")
    conn.close()

    conn = open_writer(db)
    version = conn.execute("PRAGMA user_version").fetchall()[0][0]
    columns = [row[1] for row in conn.execute("PRAGMA table_info(files)")]
    symbol_columns = [row[1] for row in conn.execute("PRAGMA table_info(symbols)")]
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
    kept = conn.execute("SELECT value FROM meta WHERE key='root'").fetchall()
    conn.close()
    assert version == SCHEMA_VERSION
    assert "exports" in columns and "skipped" in tables
    assert "type_id" in symbol_columns  # v4: each symbol's type
    assert kept == [("/somewhere",)]  # migrated, not rebuilt


def test_a_version_8_graph_keeps_its_imports_as_name_ids(tmp_path: Path) -> None:
    """v9 moves import statements to name ids: every row, target and all, reads back the same
    through the `imports` view, the graph is what a cold index writes, and it stays live."""
    files = {
        "pkg/__init__.py": "from pkg.core import helper as h\n",
        "pkg/core.py": "import os.path\nfrom . import sub\n\ndef helper():\n    return sub\n",
        "pkg/sub.py": "from .core import helper\n",
        "use.py": "from pkg import h\nimport pkg.core as core\nh()\ncore.helper()\n",
    }
    ws = index_tree(tmp_path / "old", files)
    ws.query.close()
    rows = "SELECT id, file_id, line, module, name, alias, level, module_level, target_file_id"
    conn = apsw.Connection(str(ws.db))
    before = conn.execute(f"{rows} FROM imports ORDER BY id").fetchall()
    imports_as_v8(conn)
    conn.execute("PRAGMA user_version=8")
    conn.close()

    conn = open_writer(ws.db)
    after = conn.execute(f"{rows} FROM imports ORDER BY id").fetchall()
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
    indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_schema WHERE type='index'")}
    conn.close()
    assert after == before and len(before) == 6
    assert "import_rows" in tables and "imports" not in tables and "imports_v8" not in tables
    assert {"imports_file", "imports_target"} <= indexes

    def cold() -> Path:  # a cold index of the same files, beside the migrated one
        db = tmp_path / f"cold{len(list(tmp_path.glob('cold*.db')))}.db"
        index_workspace(load_settings(ws.root, db=db))
        return db

    assert graph_differences(ws.db, cold()) == []
    # and an update of the migrated graph is one of a cold graph of the new files
    edited = {**files, "use.py": "from pkg.sub import helper\nhelper()\n"}
    (ws.root / "use.py").write_text(edited["use.py"])
    reindex(ws)
    assert ("use.py", 1, 0) in ws.ref_set(ws.symbol("pkg/core.py", "helper"))
    assert graph_differences(ws.db, cold()) == []


def test_failed_update_leaves_previous_graph_intact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = index_tree(tmp_path, {"a.py": "def f():\n    pass\n", "b.py": "from a import f\nf()\n"})
    before = ws.query.status()
    f = ws.symbol("a.py", "f")
    refs_before = ws.ref_set(f)

    (ws.root / "a.py").write_text("def g():\n    pass\n")

    def explode(*_args: object, **_kw: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(updater, "resolve_parsed", explode)
    with pytest.raises(RuntimeError):
        index_workspace(load_settings(ws.root, db=ws.db), jobs=1)
    assert ws.query.status()["symbols"] == before["symbols"]
    assert ws.ref_set(ws.symbol("a.py", "f")) == refs_before
    monkeypatch.undo()
    reindex(ws)
    assert ws.ref_set(ws.symbol("a.py", "g")) == {("a.py", 0, 4)}


@pytest.mark.parametrize(
    "garbage",
    [b"this is not a database at all" * 100, b"SQLite format 3\x00" + b"\xff" * 5000],
    ids=["text", "bad-header"],
)
def test_corrupt_database_in_our_directory_is_rebuilt_with_one_log_line(
    tmp_path: Path, garbage: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.py").write_text("def f():\n    pass\n")
    settings = load_settings(root)  # ROOT/.forge/graph.db: ours by where it is
    index_workspace(settings, jobs=1)
    settings.db_path.write_bytes(garbage)
    for suffix in ("-wal", "-shm"):
        Path(f"{settings.db_path}{suffix}").unlink(missing_ok=True)
    with caplog.at_level(logging.WARNING):
        report = index_workspace(settings, jobs=1)
    assert report.parsed == 1 and report.symbols == 2
    rebuild_lines = [r for r in caplog.records if "rebuilding" in r.getMessage()]
    assert len(rebuild_lines) == 1


def test_a_file_that_is_not_ours_is_never_replaced(tmp_path: Path) -> None:
    garbage = tmp_path / "notes.db"
    garbage.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(StoreError, match=r"notes\.db is not a forge-lsp database"):
        open_writer(garbage)
    assert garbage.read_bytes() == b"this is not a database at all" * 100


def test_database_from_another_program_is_not_replaced(tmp_path: Path) -> None:
    db = tmp_path / "graph.db"
    conn = apsw.Connection(str(db))
    conn.execute("CREATE TABLE other(x)")
    conn.close()
    with pytest.raises(StoreError, match=r"graph\.db is a SQLite database of another program"):
        open_writer(db)
    conn = apsw.Connection(str(db))
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type='table'")}
    conn.close()
    assert tables == {"other"}


def test_unusable_database_paths_are_one_clear_line(tmp_path: Path) -> None:
    directory = tmp_path / "adir"
    directory.mkdir()
    with pytest.raises(StoreError, match="adir is a directory, not a database file"):
        open_writer(directory)
    a_file = tmp_path / "a_file"
    a_file.write_text("x")
    with pytest.raises(StoreError, match="a_file is not a directory"):
        open_writer(a_file / "graph.db")


def test_reader_refuses_missing_or_foreign_database(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no index"):
        open_reader(tmp_path / "missing.db")
    foreign = tmp_path / "foreign.db"
    foreign.write_bytes(b"not sqlite" * 200)
    with pytest.raises(StoreError):
        open_reader(foreign)


def test_default_location_and_gitignore(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "m.py").write_text("x = 1\n")
    settings = load_settings(root)
    assert settings.db_path == root.resolve() / ".forge" / "graph.db"
    index_workspace(settings, jobs=1)
    assert (root / ".forge" / ".gitignore").read_text() == "*\n"


def test_a_version_9_graph_gets_the_indexes_status_counts_with(tmp_path: Path) -> None:
    """forge/status is asked while an index runs: its counts read a few rows of partial
    indexes, not every file (0.2 s at 100,000 files), in a migrated graph too."""
    files = {
        "ok.py": "def f():\n    return 1\n",
        "broken.py": "def g(:\n",
        "bad.py": "x = '\udcff'\n",
        "zz_bad.py": "y = '\udcfe'\n",
    }
    ws = index_tree(tmp_path, {k: v for k, v in files.items() if "bad" not in k})
    for name in ("bad.py", "zz_bad.py"):
        (ws.root / name).write_bytes(files[name].encode("utf-8", "surrogateescape"))
    reindex(ws)
    ws.query.close()
    conn = apsw.Connection(str(ws.db))
    conn.execute("DROP INDEX files_noted; DROP INDEX files_unparsed; PRAGMA user_version=9")
    conn.close()

    conn = open_writer(ws.db)
    plans = [
        " ".join(row[3] for row in conn.execute(f"EXPLAIN QUERY PLAN {query}", args))
        for query, args in ((FILES_UNPARSED, ()), (FILES_NOTED, (100,)))
    ]
    status = graph_status(conn)
    conn.close()
    assert plans == [
        "SCAN files USING COVERING INDEX files_unparsed",  # its few rows
        "SCAN files USING INDEX files_noted",
    ]
    assert (status["files"], status["filesWithSyntaxErrors"]) == (4, 1)
    assert [entry["path"] for entry in status["partlyIndexed"]] == ["bad.py", "zz_bad.py"]
