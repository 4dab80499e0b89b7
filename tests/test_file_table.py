"""Files not read lately are kept packed (resolve/file_table.py, issue 15): unpacking gives back
every field as it was, an info handed out never changes under its holder, and the graph a
program with one hot file resolves equals the one resolved with all of them built."""

from __future__ import annotations

from array import array
from pathlib import Path

import apsw
import pytest
from helpers import graph_differences, index_tree

from forge_lsp.config import load_settings
from forge_lsp.indexing.indexer import index_workspace
from forge_lsp.resolve import file_info, file_table
from forge_lsp.resolve.file_info import FileInfo
from forge_lsp.resolve.file_table import FileTable


def _fields(info: FileInfo) -> tuple[object, ...]:
    return (
        info.file_id,
        info.path,
        info.names,
        info.is_package,
        info.exports,
        info.bound,
        info.imports,
        info.module_symbol,
        list(info.symbols),
        list(info.typed_ids),
        info.types,
    )


def _info(table: FileTable, file_id: int, first_symbol: int) -> FileInfo:
    return FileInfo(
        file_id,
        f"/ws/pkg/m{file_id}.py",
        [f"pkg.m{file_id}"],
        False,
        ["Repo"],
        ("Repo", "save", "Repo"),  # a name bound twice: both stay, in order
        [table.statement("typing", "Any", None, 0), table.statement("", "models", "m", 1)],
        first_symbol + 9,
        array("q", [first_symbol, first_symbol + 1, first_symbol + 2, first_symbol + 9]),
        array("q", [first_symbol + 1]),
        ("Repo()",),
    )


def _resolved(db: Path, rel: str) -> list[tuple[str, int, int, str, str, int]]:
    """The resolved references of the file at `rel`, in position order: name, line, column,
    and the target's file, qualname and line."""
    conn = apsw.Connection(str(db))
    try:
        return conn.execute(
            "SELECT n.text, r.line, r.col, tf.path, s.qualname, s.line FROM refs r"
            " JOIN files f ON f.id = r.file_id JOIN names n ON n.id = r.name_id"
            " JOIN symbols s ON s.id = r.target_id JOIN files tf ON tf.id = s.file_id"
            " WHERE f.path LIKE ? ORDER BY r.line, r.col",
            (f"%/{rel}",),
        ).fetchall()
    finally:
        conn.close()


def test_a_packed_file_unpacks_to_equal_fields_and_held_infos_stay_as_they_were() -> None:
    table = FileTable(hot_files=1)
    first = _info(table, 1, 10)
    expected = _fields(first)
    table.add(first)
    table.add(_info(table, 2, 2**40))  # ids past 2**31 pack too
    assert 1 in table and len(table) == 2 and sorted(table.ids()) == [1, 2]
    # file 1 was packed when file 2 came in; the info its reader holds is untouched
    assert _fields(first) == expected
    again = table.get(1)
    assert again is not None and again is not first
    assert _fields(again) == expected
    assert again.imports[0] is first.imports[0]  # statements stay shared
    big = table.get(2)
    assert big is not None and big.symbols[0] == 2**40
    assert table.get(3) is None


def test_a_change_through_mutable_outlives_packing() -> None:
    table = FileTable(hot_files=1)
    table.add(_info(table, 1, 10))
    table.get(1)  # built from its pack: clean
    table.mutable(1).names = ["pkg.renamed"]
    table.add(_info(table, 2, 100))  # packs file 1 again, with the new name
    info = table.get(1)
    assert info is not None and info.names == ["pkg.renamed"]
    popped = table.pop(1)
    assert popped is not None and popped.bound == ("Repo", "save", "Repo")
    assert 1 not in table and table.get(1) is None
    with pytest.raises(KeyError):
        table.mutable(1)


def test_resolving_with_one_file_built_at_a_time_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every read of a file builds it from its pack again: each answer, and what each file's
    resolution consulted, is the same as with every file built."""
    files = {
        f"pkg/m{i}.py": (
            f"from pkg.m{(i + 1) % 9} import C{(i + 1) % 9}\n"
            f"from pkg import m{(i + 2) % 9} as other\nfrom typing import Any\n\n"
            f"class C{i}(C{(i + 1) % 9}):\n    size: 'C{i}'\n\n    def run(self) -> int:\n"
            f"        return self.size.run() + other.f{(i + 2) % 9}().run()\n\n"
            f"def f{i}() -> C{i}:\n    return C{i}()\n"
        )
        for i in range(9)
    }
    files["pkg/__init__.py"] = "from pkg.m0 import *\n__all__ = ['C0']\n"
    built = index_tree(tmp_path / "built", files)
    monkeypatch.setattr(file_table, "HOT_FILES", 1)
    packed = index_workspace(load_settings(built.root, db=tmp_path / "packed.db"))
    assert packed.parsed == 10
    assert graph_differences(built.db, tmp_path / "packed.db") == []
    # and it resolves across files: a declared type, an import alias, a return type
    rows = _resolved(tmp_path / "packed.db", "pkg/m0.py")
    root = built.root.as_posix()
    assert [(n, line, col, path, q) for n, line, col, path, q, _ in rows if n in ("f2", "run")] == [
        ("run", 8, 25, f"{root}/pkg/m0.py", "C0.run"),
        ("f2", 8, 39, f"{root}/pkg/m2.py", "f2"),
        ("run", 8, 44, f"{root}/pkg/m2.py", "C2.run"),
    ]


def test_a_file_with_many_bindings_resolves_as_a_small_one_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past INDEXED_BINDINGS bindings (or INDEXED_TYPES typed symbols) a file answers lookups
    from dicts built on its first one: the graph is the one the scan over its tuple gives,
    with a name bound twice at module level (the definition wins), a name bound in the module
    and in a class alike, and members found through a base."""
    many = "".join(f"v{i}: int = {i}\n" for i in range(80))
    members = "".join(f"    m{i}: str = ''\n" for i in range(80))
    files = {
        "big.py": (
            f"{many}run = 1\n\ndef run() -> 'Base':\n    return Base()\n\n"
            f"class Base:\n{members}    run: int = 0\n\n    def save(self) -> None: ...\n\n"
            "class Child(Base):\n    pass\n"
            + "".join(f"\ndef make{i}() -> Base: ...\n" for i in range(20))
        ),
        "use.py": (
            "from big import run, v79, Child, make19\n\n"
            "run().save()\nChild().m79\nChild().run\nv79\nmake19().save()\n"
        ),
    }
    scanned_root = tmp_path / "scanned"
    monkeypatch.setattr(file_info, "INDEXED_BINDINGS", 10**9)
    monkeypatch.setattr(file_info, "INDEXED_TYPES", 10**9)
    scanned = index_tree(scanned_root, files)
    monkeypatch.undo()
    indexed = index_workspace(load_settings(scanned.root, db=tmp_path / "indexed.db"))
    assert indexed.parsed == 2
    assert graph_differences(scanned.db, tmp_path / "indexed.db") == []
    rows = [
        (n, line, col, qualname, at)
        for n, line, col, _, qualname, at in _resolved(tmp_path / "indexed.db", "use.py")
        if line > 1
    ]
    # lines from 0: big.py binds `run` at 80 and defines it at 82, Base's own `run` is at 166;
    # the return types of `run` and the twenty `make` functions are its typed symbols
    assert rows == [
        ("run", 2, 0, "run", 82),
        ("save", 2, 6, "Base.save", 168),
        ("Child", 3, 0, "Child", 170),
        ("m79", 3, 8, "Base.m79", 165),
        ("Child", 4, 0, "Child", 170),
        ("run", 4, 8, "Base.run", 166),
        ("v79", 5, 0, "v79", 79),
        ("make19", 6, 0, "make19", 211),
        ("save", 6, 9, "Base.save", 168),
    ]
