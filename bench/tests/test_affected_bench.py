"""Unit tests for the affected bench's pure parts: node ids, matching, scores, probes, imports.

Fast and offline: no sdist, no venv, no forge.
"""

from __future__ import annotations

import ast
from dataclasses import asdict
from pathlib import Path

from bench import affected_bench as ab
from bench.affected_projects import node_id

SOURCE = '''"""A module."""
import os


def plain(x):
    """Docs
    on two lines."""
    y = x + 1
    return y


def one_liner(x): return x


class Box:
    def method(self):
        @staticmethod
        def inner():
            return 1
        return inner

    async def fetch(self):
        _ = 0
'''


def test_node_ids_lose_phase_and_params_and_prefixes_select_their_tests() -> None:
    assert node_id("tests/t.py::C::test_m[1-a|b]|setup") == "tests/t.py::C::test_m"
    assert node_id("tests/t.py::test_f") == "tests/t.py::test_f"
    suite = ["tests/t.py::C::test_m", "tests/t.py::C2::test_m", "tests/u.py::test_f"]
    assert ab.expand({"tests/t.py::C"}, suite) == {"tests/t.py::C::test_m"}
    assert ab.expand({"tests/t.py"}, suite) == set(suite[:2])
    assert ab.expand(None, suite) == set(suite)
    assert not ab.covers("tests/t.py::C2::test_m", ["tests/t.py::C"])


def test_scores_on_a_toy_selection() -> None:
    s = ab.score({"a", "b", "c"}, {"a", "d"}, 10, 0.5)
    assert (s.hits, s.recall, s.precision, s.share, s.missed) == (1, 0.5, 1 / 3, 0.3, ["d"])
    assert ab.score(set(), set(), 10, 0.0).precision == 1.0
    assert ab.score(set(), {"a"}, 10, 0.0).precision == 0.0
    rows = [{"scores": {"forge": asdict(ab.score({"a"}, {"a", "b"}, 4, 1.0, note))}}
            for note in ("", "exit 3", "exit 1: crash")]  # fmt: skip
    summary = ab.summarise(rows, "forge")
    assert (summary["micro_recall"], summary["cannot_analyse"], summary["errors"]) == (0.5, 1, 1)


def test_body_lines_skip_header_docstring_and_nested_bodies_and_probe_goes_first() -> None:
    found = {fn.qualname: fn for fn in ab.functions_in("m.py", SOURCE)}
    assert set(found) == {"plain", "Box.method", "Box.fetch"}  # the one-liner has no probe point
    assert found["plain"].body == {8, 9}
    assert found["Box.method"].body == {17, 18, 20}  # inner's decorator and def, the return
    assert found["Box.fetch"].body == {23}
    probed = ab.insert_probe(SOURCE, found["Box.method"])
    assert probed.splitlines()[16] == f"        {ab.PROBE}"
    assert ast.parse(probed).body[4].body[0].body[0].targets[0].id == "_forge_probe"  # type: ignore[attr-defined]
    for fn in found.values():
        ast.parse(ab.insert_probe(SOURCE, fn))


def test_import_selection_follows_relative_imports_packages_and_conftest(tmp_path: Path) -> None:
    files = {
        "src/pkg/__init__.py": "",
        "src/pkg/core.py": "from . import util\n",
        "src/pkg/util.py": "",
        "src/pkg/other.py": "",
        "src/pkg/sub/__init__.py": "",
        "src/pkg/sub/deep.py": "from ..util import helper\n",
        "tests/conftest.py": "import pkg.other\n",
        "tests/test_core.py": "from pkg.core import run\n",
        "tests/test_deep.py": "import pkg.sub.deep\n",
        "tests/test_plain.py": "import os\n",
    }
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    assert ab.module_names(tmp_path)["pkg.core"] == "src/pkg/core.py"
    assert ab.import_selection(tmp_path, "src/pkg/util.py") == {
        "tests/test_core.py",
        "tests/test_deep.py",
    }
    everything = {"tests/test_core.py", "tests/test_deep.py", "tests/test_plain.py"}
    assert ab.import_selection(tmp_path, "src/pkg/other.py") == everything  # via conftest
    assert ab.import_selection(tmp_path, "src/pkg/__init__.py") == everything
