"""Live updates through the one writer: early cutoff, precise propagation, equality with a cold
index after every step, and rollback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_support import LiveTree

from forge_lsp.indexing import updater as updater_module
from forge_lsp.indexing.report import ALL_SYMBOLS

BASE = {
    "pkg/__init__.py": "",
    "pkg/core.py": """
        def helper(x):
            return x + 1


        def other():
            return 2
        """,
    "pkg/use.py": """
        from pkg.core import helper


        def main():
            return helper(1)
        """,
    "pkg/only_other.py": """
        from pkg.core import other

        other()
        """,
    "pkg/unrelated.py": """
        import os

        def solo():
            return os.sep
        """,
}


@pytest.fixture
def tree(tmp_path: Path) -> Iterator[LiveTree]:
    live = LiveTree(tmp_path, BASE)
    yield live
    live.close()


def test_body_only_edit_touches_no_other_file(tree: LiveTree) -> None:
    before = tree.targets("pkg/use.py", "helper")
    report = tree.edit(
        "pkg/core.py",
        """
        def helper(x):
            y = x * 2
            return y + 1


        def other():
            return 2
        """,
    )
    assert (report.parsed, report.interface_changed, report.reresolved_files) == (1, 0, 0)
    [delta] = report.deltas
    assert not delta.interface_changed and delta.symbols_changed >= 1
    assert tree.targets("pkg/use.py", "helper") == before == ["pkg/core.py:helper"] * 2
    assert tree.differences() == []


def test_unchanged_content_is_no_work(tree: LiveTree) -> None:
    (tree.root / "pkg/core.py").touch()
    report = tree.apply(["pkg/core.py"])
    assert (report.parsed, report.unchanged, report.touched) == (0, 1, set())


def test_interface_change_reresolves_exactly_the_files_that_consulted_it(tree: LiveTree) -> None:
    report = tree.edit(
        "pkg/core.py",
        """
        def assist(x):
            return x + 1


        def other():
            return 2
        """,
    )
    # use.py and only_other.py read core.py's namespace; unrelated.py never did.
    assert report.interface_changed == 1 and report.reresolved_files == 2
    assert tree.targets("pkg/use.py", "helper") == [None, None]
    assert ALL_SYMBOLS in report.touched
    assert tree.differences() == []
    report = tree.edit(
        "pkg/use.py",
        """
        from pkg.core import assist


        def main():
            return assist(1)
        """,
    )
    assert tree.targets("pkg/use.py", "assist") == ["pkg/core.py:assist"] * 2
    assert report.reresolved_files == 0  # nobody consults use.py
    assert tree.differences() == []


def test_a_method_added_to_a_base_class_retargets_users_of_a_subclass(tmp_path: Path) -> None:
    """c.py reaches Base.run through Child (b.py): it never imports a.py, yet depends on it."""
    tree = LiveTree(
        tmp_path,
        {
            "a.py": "class Base:\n    def run(self):\n        return 1\n\nclass Mid(Base):\n    pass\n",
            "b.py": "from a import Mid\n\nclass Child(Mid):\n    pass\n",
            "c.py": "from b import Child\n\ndef go(c: Child):\n    return c.run()\n",
        },
    )
    try:
        assert tree.targets("c.py", "run") == ["a.py:Base.run"]
        report = tree.edit(
            "a.py",
            "class Base:\n    def run(self):\n        return 1\n\n"
            "class Mid(Base):\n    def run(self):\n        return 2\n",
        )
        assert report.reresolved_files == 2  # b.py and c.py both consulted a.py
        assert tree.targets("c.py", "run") == ["a.py:Mid.run"]
        assert tree.differences() == []
    finally:
        tree.close()


def test_re_exports_propagate_through_the_chain(tmp_path: Path) -> None:
    tree = LiveTree(
        tmp_path,
        {
            "lib/__init__.py": "from lib.impl import *\n",
            "lib/impl.py": "__all__ = ['api']\n\ndef api():\n    return 1\n\ndef hidden():\n    pass\n",
            "app.py": "import lib\n\nlib.api()\nlib.hidden()\n",
        },
    )
    try:
        assert tree.targets("app.py", "api") == ["lib/impl.py:api"]
        assert tree.targets("app.py", "hidden") == [None]
        report = tree.edit(
            "lib/impl.py",
            "__all__ = ['api', 'hidden']\n\ndef api():\n    return 1\n\ndef hidden():\n    pass\n",
        )
        assert report.reresolved_files == 2  # lib/__init__.py and app.py
        assert tree.targets("app.py", "hidden") == ["lib/impl.py:hidden"]
        assert tree.differences() == []
    finally:
        tree.close()


def test_new_deleted_and_renamed_modules(tree: LiveTree) -> None:
    tree.write("pkg/late.py", "from pkg.extra import thing\n\nthing()\n")
    report = tree.apply(["pkg/late.py"])
    assert tree.targets("pkg/late.py", "thing") == [None, None]
    assert report.interface_changed == 1 and report.reresolved_files == 0

    tree.write("pkg/extra.py", "def thing():\n    return 1\n")
    report = tree.apply(["pkg/extra.py"])
    assert report.reresolved_files == 1  # late.py looked the module name up, and failed
    assert tree.targets("pkg/late.py", "thing") == ["pkg/extra.py:thing"] * 2
    assert tree.differences() == []

    report = tree.apply(deleted=["pkg/extra.py"])
    assert report.removed == 1
    assert tree.targets("pkg/late.py", "thing") == [None, None]
    assert tree.differences() == []


def test_a_new_init_file_renames_modules_and_their_relative_imports(tmp_path: Path) -> None:
    tree = LiveTree(
        tmp_path,
        {
            "top/helpers.py": "def h():\n    pass\n",
            "top/sub/__init__.py": "",
            "top/sub/mod.py": "from .. import helpers\n\nhelpers.h()\n",
        },
    )
    try:
        # Without top/__init__.py, mod.py is "sub.mod" (the package sub at the top): `..` leads
        # nowhere.
        assert tree.targets("top/sub/mod.py", "h") == [None]
        tree.write("top/__init__.py", "")
        report = tree.apply(["top/__init__.py"])
        assert report.reresolved_files >= 1  # mod.py itself: its own module name changed
        assert tree.targets("top/sub/mod.py", "h") == ["top/helpers.py:h"]
        assert tree.differences() == []
        tree.apply(deleted=["top/__init__.py"])
        assert tree.targets("top/sub/mod.py", "h") == [None]
        assert tree.differences() == []
    finally:
        tree.close()


def test_a_failed_update_rolls_back_and_the_next_one_works(
    tree: LiveTree, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = tree.targets("pkg/use.py", "helper")

    def explode(*_args: object, **_kw: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(updater_module, "reresolve", explode)  # fails after the files are written
    tree.write("pkg/core.py", "def renamed():\n    pass\n")
    with pytest.raises(RuntimeError):
        tree.apply(["pkg/core.py"])
    assert tree.targets("pkg/use.py", "helper") == before  # the graph as it was
    monkeypatch.undo()
    report = tree.apply(["pkg/core.py"])  # in-memory state was reloaded: the retry is whole
    assert report.parsed == 1 and tree.targets("pkg/use.py", "helper") == [None, None]
    assert tree.differences() == []
