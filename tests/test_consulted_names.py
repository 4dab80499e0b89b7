"""Per-name dependencies: a change to a file re-resolves, in the files that read it, only the
references whose resolution read it (graph/consulted.py), and the graph still equals a cold
index."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest
from helpers import imports_as_v8
from hypothesis import given
from hypothesis import strategies as st
from live_support import LiveTree

from forge_lsp.graph.consulted import decode_names, encode_names
from forge_lsp.graph.snapshot import graph_snapshot
from forge_lsp.indexing import resolution
from forge_lsp.indexing.updater import GraphUpdater
from forge_lsp.parsing.facts import LOCAL_RECEIVER

FILES = {
    "a.py": "def helper():\n    return 1\n",
    "b.py": "def tool():\n    return 2\n",
    "use.py": (
        "from a import helper\n"
        "from b import tool\n"
        "\n"
        "\n"
        "def main():\n"
        "    tool()\n"
        "    x = helper()\n"
        "    return tool(x)\n"
    ),
}


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[LiveTree]:
    tree = LiveTree(tmp_path, FILES)
    yield tree
    tree.close()


def _outside_rows(tree: LiveTree, rel: str, name: str | None = None) -> int:
    """How many references of a file resolution decides (not local ones), spelled `name`."""
    return tree.updater.conn.execute(
        "SELECT count(*) FROM refs r JOIN files f ON f.id = r.file_id JOIN names n"
        " ON n.id = r.name_id LEFT JOIN names rc ON rc.id = r.receiver_id"
        " WHERE f.path = ? AND (?2 IS NULL OR n.text = ?2)"
        " AND (rc.text IS NULL OR rc.text != ?3)",
        (tree.path(rel), name, LOCAL_RECEIVER),
    ).fetchall()[0][0]


def test_each_dependency_lists_the_names_of_the_references_that_read_it(tree: LiveTree) -> None:
    snapshot = graph_snapshot(tree.updater.conn)
    use = tree.path("use.py")
    files = sorted(row for row in snapshot["file_deps"] if row[0] == use)
    # `from a import helper`: the module reference `a` and every `helper` read a.py
    assert files == [
        (use, tree.path("a.py"), ("a", "helper")),
        (use, tree.path("b.py"), ("b", "tool")),
    ]
    modules = sorted(row for row in snapshot["module_deps"] if row[0] == use)
    # the import statements look up `a` and `a.helper` (a submodule?) to find their files
    assert modules == [
        (use, "a", ("<imports>", "a", "helper")),
        (use, "a.helper", ("<imports>",)),
        (use, "b", ("<imports>", "b", "tool")),
        (use, "b.tool", ("<imports>",)),
    ]


def test_an_interface_change_re_resolves_only_the_references_that_read_it(
    tree: LiveTree,
) -> None:
    assert tree.targets("use.py", "helper") == ["a.py:helper"] * 2
    report = tree.edit("b.py", "def tool2():\n    return 2\n")
    assert report.reresolved_files == 1
    # the three uses of `tool` and the module reference `b`; not `helper`, `a` or `x`
    tool_rows = _outside_rows(tree, "use.py", "tool") + _outside_rows(tree, "use.py", "b")
    assert tool_rows == 4 and report.reresolved_refs == tool_rows
    assert tree.targets("use.py", "tool") == [None, None, None]
    assert tree.targets("use.py", "helper") == ["a.py:helper"] * 2
    assert tree.differences() == []
    report = tree.edit("b.py", "def tool():\n    return 2\n")
    assert report.reresolved_refs == tool_rows
    assert tree.targets("use.py", "tool") == ["b.py:tool"] * 3
    assert tree.differences() == []


def test_dependents_read_in_batches_re_resolve_as_one_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seven files read `a.py` through three different sets of names; in batches of three their
    references are read in groups that cut across both: every one is re-resolved, exactly."""
    monkeypatch.setattr(resolution, "_REFS_BATCH", 3)
    spellings = [
        "from a import helper\n\n\ndef f():\n    return helper()\n",
        "import a\n\n\ndef f():\n    return a.helper() + a.other()\n",
        "from a import helper as h\n\n\ndef f():\n    return h()\n",
    ]
    files = {"a.py": "def helper():\n    return 1\n\n\ndef other():\n    return 2\n"}
    files |= {f"u{k}.py": spellings[k % 3] for k in range(7)}
    tree = LiveTree(tmp_path, files)
    try:
        report = tree.edit("a.py", "def helper2():\n    return 1\n\n\ndef other():\n    return 2\n")
        assert report.reresolved_files == 7
        assert tree.targets("u0.py", "helper") == [None, None]
        assert tree.targets("u1.py", "helper") == [None]
        assert tree.targets("u1.py", "other") == ["a.py:other"]
        assert tree.targets("u5.py", "h") == [None]
        assert tree.differences() == []
        tree.edit("a.py", files["a.py"])
        assert tree.targets("u6.py", "helper") == ["a.py:helper"] * 2
        assert tree.targets("u4.py", "helper") == ["a.py:helper"]
        assert tree.differences() == []
    finally:
        tree.close()


def test_a_graph_from_before_names_were_kept_re_resolves_whole_files(tree: LiveTree) -> None:
    """A v6 graph has no `names`: migrated, its rows say "every reference", and the first
    change re-resolves every reference of the files that read it, then records names."""
    tree.updater.close()
    conn = apsw.Connection(str(tree.db))
    for table in ("file_deps", "module_deps"):
        conn.execute(f"ALTER TABLE {table} DROP COLUMN names")
    conn.execute("ALTER TABLE modules DROP COLUMN rank")  # v8
    imports_as_v8(conn)  # v9
    conn.execute("PRAGMA user_version=6")
    conn.close()
    tree.updater = GraphUpdater.open(tree.settings)
    nulls = tree.updater.conn.execute("SELECT count(*) FROM file_deps WHERE names IS NULL")
    assert nulls.fetchall()[0][0] > 0
    report = tree.edit("b.py", "def tool2():\n    return 2\n")
    assert report.reresolved_refs == _outside_rows(tree, "use.py")
    assert tree.targets("use.py", "tool") == [None, None, None]
    assert tree.differences() == []  # use.py's rows now list names, as a cold index's do


@given(st.sets(st.integers(min_value=0, max_value=2**31)))
def test_name_lists_read_back_as_written(names: set[int]) -> None:
    assert decode_names(encode_names(names)) == sorted(names)
