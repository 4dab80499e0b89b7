"""Diffs to changed symbols: hunk parsing, the old text rebuilt, hunk -> innermost symbol, and
the interface/body classification. Real extraction; texts in, SymbolChanges out."""

from __future__ import annotations

import textwrap

import pytest

from forge_lsp.changes.diff import DiffError, parse_diff
from forge_lsp.changes.pending import pending_changes, text_diff
from forge_lsp.changes.symbols import changed_symbols

BEFORE = textwrap.dedent(
    '''\
    import functools


    def helper(x):
        """Say x."""
        return x


    @functools.lru_cache
    def cached(n):
        return n * 2


    class Shop:
        rate = 1

        def buy(self, item):
            return item

        def gone(self):
            return None
    '''
)


def change(before: str, after: str) -> set[tuple[str, str, str, str]]:
    """(qualname, status, interface|body, reason) of each symbol the edit changes."""
    found = pending_changes("/w/mod.py", before, after)
    return {(c.qualname, c.status, c.change, c.reason) for c in found}


def test_a_statement_in_a_body_is_a_body_change() -> None:
    after = BEFORE.replace("        return item", "        item = item or 0\n        return item")
    assert change(BEFORE, after) == {("Shop.buy", "modified", "body", "body")}


def test_a_docstring_edit_is_a_body_change_of_its_function() -> None:
    after = BEFORE.replace('"""Say x."""', '"""Say x, twice."""')
    assert change(BEFORE, after) == {("helper", "modified", "body", "body")}


def test_the_def_line_is_the_signature() -> None:
    after = BEFORE.replace("def helper(x):", "def helper(x, y=0):")
    assert change(BEFORE, after) == {("helper", "modified", "interface", "signature")}


def test_a_decorator_line_belongs_to_the_def_it_decorates() -> None:
    after = BEFORE.replace("@functools.lru_cache\n", "@functools.cache\n")
    assert change(BEFORE, after) == {("cached", "modified", "interface", "decorators")}


def test_a_class_attribute_is_interface_and_bases_are_the_class_interface() -> None:
    assert change(BEFORE, BEFORE.replace("rate = 1", "rate = 2")) == {
        ("Shop.rate", "modified", "interface", "class attribute")
    }
    assert change(BEFORE, BEFORE.replace("class Shop:", "class Shop(functools.partial):")) == {
        ("Shop", "modified", "interface", "bases")
    }


def test_a_deleted_and_an_added_method() -> None:
    deleted = BEFORE.replace("\n    def gone(self):\n        return None\n", "\n")
    assert change(BEFORE, deleted) == {("Shop.gone", "deleted", "interface", "deleted")}
    added = BEFORE + "\n    def new(self):\n        return 1\n"
    assert change(BEFORE, added) == {("Shop.new", "added", "interface", "new")}


def test_module_level_lines_are_the_module_and_blank_lines_nothing() -> None:
    assert change(
        BEFORE, BEFORE.replace("import functools\n", "import functools\nimport os\n")
    ) == {("", "modified", "interface", "module names or exports")}
    assert change(BEFORE, BEFORE.replace("\n\ndef helper", "\n\n\n# helpers\ndef helper")) == set()
    assert change(BEFORE, BEFORE) == set()


def test_a_syntax_error_is_an_interface_change_of_the_whole_module() -> None:
    broken = BEFORE.replace("        return item", "        return item +")
    assert change(BEFORE, broken) == {("", "modified", "interface", "syntax")}


def test_the_changed_line_of_a_change_is_its_first_new_line() -> None:
    after = BEFORE.replace("        return item", "        item = item or 0\n        return item")
    (found,) = pending_changes("/w/mod.py", BEFORE, after)
    assert found.line == after.splitlines().index("        item = item or 0")


GIT_DIFF = """\
diff --git a/pkg/mod.py b/pkg/mod.py
index 1111111..2222222 100644
--- a/pkg/mod.py
+++ b/pkg/mod.py
@@ -5,0 +6 @@ def helper(x):
+    x = x + 1
diff --git a/old.py b/new.py
similarity index 100%
rename from old.py
rename to new.py
diff --git a/added.py b/added.py
new file mode 100644
--- /dev/null
+++ b/added.py
@@ -0,0 +1,2 @@
+def f():
+    return 1
diff --git a/removed.py b/removed.py
deleted file mode 100644
--- a/removed.py
+++ /dev/null
@@ -1 +0,0 @@
-X = 1
"""


def test_git_diffs_parse_into_files_renames_and_hunks() -> None:
    files = parse_diff(GIT_DIFF)
    assert [(f.old_path, f.new_path) for f in files] == [
        ("pkg/mod.py", "pkg/mod.py"),
        ("old.py", "new.py"),
        (None, "added.py"),
        ("removed.py", None),
    ]
    hunk = files[0].hunks[0]
    assert (hunk.old_start, hunk.old_count, hunk.new_start, hunk.new_count) == (5, 0, 6, 1)
    assert hunk.new_lines() == [(5, "    x = x + 1")]
    assert files[3].hunks[0].old_lines() == [(0, "X = 1")]


def test_the_old_text_is_rebuilt_from_the_new_one_and_the_diff() -> None:
    after = BEFORE.replace("        return item", "        item = item or 0\n        return item")
    after = after.replace("def helper(x):", "def helper(x, y):")
    diff = text_diff(BEFORE, after)
    from forge_lsp.changes.diff import old_text

    assert old_text(after, diff) == BEFORE


def test_a_new_file_and_a_deleted_file_are_their_module() -> None:
    added, _renamed, new, removed = parse_diff(GIT_DIFF)[0], None, *parse_diff(GIT_DIFF)[2:]
    assert added.path == "pkg/mod.py"
    assert [
        (c.qualname, c.status) for c in changed_symbols(new, None, "/w/added.py", None, "")
    ] == [("", "added")]
    gone = changed_symbols(removed, "/w/removed.py", None, "X = 1\n", None)
    assert [(c.qualname, c.status, c.change) for c in gone] == [("", "deleted", "interface")]


def test_text_that_is_no_diff_is_refused() -> None:
    with pytest.raises(DiffError):
        parse_diff("hello\nworld\n")
    assert parse_diff("") == []
