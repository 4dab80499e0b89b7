"""The command line, run as a real subprocess: output formats and every error path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import write_tree

FILES = {
    "pkg/__init__.py": "",
    "pkg/core.py": "def compute(x):\n    return x * 2\n\n\nclass Engine:\n    def start(self):\n        return compute(1)\n",
    "pkg/use.py": "from pkg.core import compute, Engine\n\nprint(compute(3))\nEngine().start()\n",
    "tests/test_core.py": "from pkg.core import compute\n\n\ndef test_compute():\n    assert compute(2) == 4\n",
}


def run(
    cwd: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "FORGE_LSP_DB"}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "forge_lsp", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=full_env,
        timeout=120,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    write_tree(root, FILES)
    result = run(root, "index", ".", "--jobs", "1")
    assert result.returncode == 0, result.stderr
    assert "4 files (4 parsed" in result.stdout and "% resolved" in result.stdout
    return root


def test_index_summary_json_and_noop(project: Path) -> None:
    result = run(project, "index", ".", "--json")
    summary = json.loads(result.stdout)
    assert (summary["files"], summary["parsed"], summary["unchanged"]) == (4, 0, 4)
    assert summary["db"] == str(project.resolve() / ".forge" / "graph.db")


def test_refs_json_lines_one_per_position(project: Path) -> None:
    result = run(project, "refs", "pkg/core.py:1:5", "pkg/core.py:5:7", "--json")
    assert result.returncode == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["query"] == "pkg/core.py:1:5"
    core, use, test = (
        str((project / p).resolve()) for p in ("pkg/core.py", "pkg/use.py", "tests/test_core.py")
    )
    got = [(loc["path"], loc["line"], loc["column"]) for loc in first["locations"]]
    assert got == [
        (core, 1, 5),
        (core, 7, 16),
        (use, 1, 22),
        (use, 3, 7),
        (test, 1, 22),
        (test, 5, 12),
    ]
    assert first["locations"][0]["endColumn"] == 12
    assert [(loc["path"], loc["line"], loc["column"]) for loc in second["locations"]] == [
        (core, 5, 7),
        (use, 1, 31),
        (use, 4, 1),
    ]


def test_refs_text_and_no_declaration(project: Path) -> None:
    result = run(project, "refs", "pkg/use.py:3:7", "--no-declaration")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert "pkg/core.py:7:16: call" in lines
    assert not any("definition" in line for line in lines)


def test_calls_incoming_and_outgoing(project: Path) -> None:
    incoming = json.loads(run(project, "calls", "pkg/core.py:1:5", "--incoming", "--json").stdout)
    assert sorted(c["symbol"]["qualname"] for c in incoming["calls"]) == [
        "Engine.start",
        "test_compute",
        "use.py",
    ]
    outgoing = json.loads(run(project, "calls", "pkg/core.py:6:9", "--outgoing", "--json").stdout)
    assert [c["symbol"]["qualname"] for c in outgoing["calls"]] == ["compute"]
    assert [(s["line"], s["column"]) for s in outgoing["calls"][0]["sites"]] == [(7, 16)]


@pytest.mark.parametrize("fmt", ["text", "json", "mermaid", "dot"])
def test_impact_formats(project: Path, fmt: str) -> None:
    result = run(project, "impact", "pkg/core.py:1:5", "--format", fmt)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    if fmt == "json":
        data = json.loads(out)
        assert [t["qualname"] for t in data["tests"]] == ["test_compute"]
        assert data["testFiles"] == [str((project / "tests/test_core.py").resolve())]
    elif fmt == "mermaid":
        assert out.startswith("graph RL") and "-->|call|" in out
    elif fmt == "dot":
        assert out.startswith("digraph impact {") and '[label="call"]' in out
    else:
        assert "impact of compute:" in out and "test_compute [test]" in out


def test_impact_of_file_and_symbols_and_status(project: Path) -> None:
    data = json.loads(run(project, "impact", "pkg/core.py", "--json").stdout)
    assert {f["path"] for f in data["files"]} == {
        str((project / p).resolve()) for p in ("pkg/use.py", "tests/test_core.py")
    }
    symbols = json.loads(run(project, "symbols", "comp", "--json").stdout)
    assert symbols[0]["qualname"] == "compute"
    status = json.loads(run(project, "status", "--json").stdout)
    assert status["files"] == 4


def test_db_from_environment_and_flag(project: Path, tmp_path: Path) -> None:
    db = project / ".forge" / "graph.db"
    elsewhere = run(tmp_path, "status", "--json", env={"FORGE_LSP_DB": str(db)})
    assert json.loads(elsewhere.stdout)["files"] == 4
    flagged = run(tmp_path, "status", "--db", str(db))
    assert "files: 4" in flagged.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("refs", "nope.py:1:1"), "nope.py: no such file"),
        (("refs", "pkg/core.py:2:5"), "no symbol at this position"),
        (("refs", "pkg/core.py:x:1"), "expected FILE:LINE:COL"),
        (("refs", "pkg/core.py:0:1"), "1-based"),
        (("calls", "pkg/core.py:2:1", "--incoming"), "no symbol"),
        (("impact", "missing.py"), "missing.py: no such file"),
        (("impact", "pkg/core.py:1:5", "--depth", "0"), "depth must be from 1"),
        (("index", "no-such-dir"), "not a directory"),
    ],
)
def test_error_paths_one_line_no_traceback(
    project: Path, args: tuple[str, ...], message: str
) -> None:
    result = run(project, *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_index_and_file_outside_index(tmp_path: Path, project: Path) -> None:
    write_tree(tmp_path, {"lonely.py": "def f():\n    pass\n"})
    result = run(tmp_path, "refs", "lonely.py:1:5")
    assert result.returncode != 0 and "no index found" in result.stderr
    outside = run(project, "refs", str(tmp_path / "lonely.py") + ":1:5")
    assert outside.returncode != 0 and "not in the index" in outside.stderr
    refs_json = run(project, "refs", "pkg/core.py:2:5", "--json")
    line = json.loads(refs_json.stdout)
    assert refs_json.returncode != 0 and line["locations"] == [] and "no symbol" in line["error"]


def test_corrupt_index_gives_a_clear_message(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": "x = 1\n"})
    db = tmp_path / ".forge" / "graph.db"
    db.parent.mkdir()
    db.write_bytes(b"garbage" * 1000)
    result = run(tmp_path, "status")
    assert (
        result.returncode != 0
        and "unreadable" in result.stderr
        and "Traceback" not in result.stderr
    )
    rebuilt = run(tmp_path, "index", ".")
    assert rebuilt.returncode == 0 and "1 files (1 parsed" in rebuilt.stdout
    assert "rebuilding" in rebuilt.stderr
