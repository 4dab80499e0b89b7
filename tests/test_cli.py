"""The command line, run as a real subprocess: output formats and every error path."""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import imports_as_v8, write_tree

from forge_lsp import __version__
from forge_lsp.cli import ProgressBar, main
from forge_lsp.cli_options import build_parser

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
    # paths as the text prints them: relative to the current directory, below which they are
    core, use, test = ("pkg/core.py", "pkg/use.py", "tests/test_core.py")
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


def test_paths_are_printed_alike_in_text_and_json(project: Path) -> None:
    """Below the current directory a path is relative to it; elsewhere it is absolute."""
    text = run(project / "pkg", "refs", "core.py:1:5").stdout.splitlines()
    lines = [
        json.loads(line)
        for line in run(project / "pkg", "refs", "core.py:1:5", "--json").stdout.splitlines()
    ]
    test = str((project / "tests" / "test_core.py").resolve())
    assert text[:3] == ["core.py:1:5: definition", "core.py:7:16: call", "use.py:1:22: import"]
    assert text[-1] == f"{test}:5:12: call"
    assert [f"{loc['path']}:{loc['line']}:{loc['column']}" for loc in lines[0]["locations"]] == [
        line.rsplit(": ", 1)[0] for line in text
    ]


def test_a_graph_of_an_older_schema_is_migrated_by_the_first_query(tmp_path: Path) -> None:
    """An upgrade of forge-lsp leaves the index it wrote: a query migrates it, rather than
    telling the user to index again."""
    import apsw

    write_tree(tmp_path, FILES)
    assert run(tmp_path, "index", ".", "--jobs", "1").returncode == 0
    conn = apsw.Connection(str(tmp_path / ".forge" / "graph.db"))
    imports_as_v8(conn)
    conn.execute("ALTER TABLE modules DROP COLUMN rank; PRAGMA user_version=7")  # as v7 wrote it
    conn.close()
    result = run(tmp_path, "calls", "pkg/core.py:1:5", "--incoming")
    assert result.returncode == 0, result.stderr
    assert "pkg/use.py:1:1: module pkg.use" in result.stdout.splitlines()


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
        "pkg.use",
        "test_compute",
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
        assert data["testFiles"] == ["tests/test_core.py"]
    elif fmt == "mermaid":
        assert out.startswith("graph RL") and "-->|call|" in out
    elif fmt == "dot":
        assert out.startswith("digraph impact {") and '[label="call"]' in out
    else:
        assert "impact of compute:" in out and "test_compute [test]" in out


def test_impact_of_file_and_symbols_and_status(project: Path) -> None:
    data = json.loads(run(project, "impact", "pkg/core.py", "--json").stdout)
    assert {f["path"] for f in data["files"]} == {"pkg/use.py", "tests/test_core.py"}
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
    ("args", "message", "status"),
    [
        (("refs", "nope.py:1:1"), "nope.py: no such file", 2),
        (("refs", "pkg/core.py:2:5"), "no symbol at this position", 1),
        (("refs", "pkg/core.py:x:1"), "expected FILE:LINE:COL", 2),
        (("refs", "pkg/core.py:0:1"), "1-based", 2),
        (("calls", "pkg/core.py:2:1", "--incoming"), "no symbol", 1),
        (("impact", "missing.py"), "missing.py: no such file", 2),
        (("impact", "pkg/core.py:1:5", "--depth", "0"), "depth must be from 1", 2),
        (("impact", "pkg/core.py:1:5", "--json", "--format", "dot"), "are exclusive", 2),
        (("index", "no-such-dir"), "not a directory", 2),
    ],
)
def test_error_paths_one_line_no_traceback(
    project: Path, args: tuple[str, ...], message: str, status: int
) -> None:
    result = run(project, *args)
    assert result.returncode == status
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_calls_of_something_that_is_not_called_say_so(project: Path, tmp_path: Path) -> None:
    text = (project / "pkg/use.py").read_text()
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "print(compute" in t)
    # `print` is called but defined nowhere in the graph; `compute` has no callees
    callees = run(project, "calls", f"pkg/use.py:{line}:7", "--outgoing")
    assert callees.returncode == 1 and callees.stdout == ""
    assert callees.stderr == f"forge-lsp: pkg/use.py:{line}:7: no calls of compute\n"
    write_tree(tmp_path, {"m.py": "LIMIT = 3\n\n\ndef f():\n    return LIMIT\n"})
    assert run(tmp_path, "index", ".").returncode == 0
    variable = run(tmp_path, "calls", "m.py:1:1", "--incoming")
    assert variable.returncode == 1 and variable.stdout == ""
    assert "is not called: calls need a function, method or class" in variable.stderr
    usage = run(project, "refs", "--no-such-flag", "pkg/core.py:1:5")
    assert usage.returncode == 2 and "unrecognized arguments: --no-such-flag" in usage.stderr


def test_every_flag_says_what_it_does_and_its_default(
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    for name, command in commands.items():
        for action in command._actions:
            if action.dest in ("help", "version"):
                continue
            assert action.help, f"{name} {action.option_strings or action.dest}: no help"
            if action.option_strings and action.dest not in ("stdio", "outgoing"):
                said = "default" in action.help or "required" in action.help
                assert said, f"{name} {action.option_strings}: no default"
            if action.default not in (None, False, argparse.SUPPRESS):
                assert str(action.default) in action.help, (name, action.dest)
        assert "exit status:" in (command.epilog or "")
        with pytest.raises(SystemExit) as version:
            main([name, "--version"])
        assert version.value.code == 0
        assert capsys.readouterr().out == f"forge-lsp {__version__}\n"


def test_missing_index_and_file_outside_index(tmp_path: Path, project: Path) -> None:
    write_tree(tmp_path, {"lonely.py": "def f():\n    pass\n"})
    result = run(tmp_path, "refs", "lonely.py:1:5")
    assert result.returncode == 3 and "no index found" in result.stderr
    outside = run(project, "refs", str(tmp_path / "lonely.py") + ":1:5")
    assert outside.returncode == 1 and "not in the index" in outside.stderr
    refs_json = run(project, "refs", "pkg/core.py:2:5", "--json")
    line = json.loads(refs_json.stdout)
    assert refs_json.returncode == 1 and line["locations"] == [] and "no symbol" in line["error"]


def test_corrupt_index_gives_a_clear_message(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a.py": "x = 1\n"})
    db = tmp_path / ".forge" / "graph.db"
    db.parent.mkdir()
    db.write_bytes(b"garbage" * 1000)
    result = run(tmp_path, "status")
    assert (
        result.returncode == 3
        and "unreadable" in result.stderr
        and "Traceback" not in result.stderr
    )
    rebuilt = run(tmp_path, "index", ".")
    assert rebuilt.returncode == 0 and "1 files (1 parsed" in rebuilt.stdout
    assert "rebuilding" in rebuilt.stderr


def test_a_query_after_an_edit_refreshes_the_index_first(tmp_path: Path) -> None:
    write_tree(tmp_path, {"m.py": "def f():\n    return 1\n\n\nf()\n"})
    assert run(tmp_path, "index", ".").returncode == 0
    (tmp_path / "m.py").write_text("import os\n\n\ndef f():\n    return 1\n\n\nf()\n")
    moved = run(tmp_path, "refs", "m.py:4:5")  # `def f` moved three lines down
    assert moved.returncode == 0, moved.stderr
    assert moved.stderr == "forge-lsp: index refreshed: 1 changed, 0 removed files\n"
    assert moved.stdout.splitlines() == ["m.py:4:5: definition", "m.py:8:1: call"]
    old = run(tmp_path, "refs", "m.py:1:5")  # where `def f` was: now the keyword `import`
    assert old.returncode == 1 and old.stdout == ""
    assert old.stderr == "forge-lsp: m.py:1:5: no symbol at this position\n"


def test_a_nested_index_is_used_but_not_silently(tmp_path: Path) -> None:
    write_tree(tmp_path, {"app/m.py": "def f():\n    return 1\n", "top.py": "x = 1\n"})
    assert run(tmp_path, "index", ".").returncode == 0
    assert run(tmp_path / "app", "index", ".").returncode == 0
    nested = run(tmp_path / "app", "refs", "m.py:1:5")
    assert nested.returncode == 0
    outer = tmp_path.resolve() / ".forge/graph.db"
    inner = tmp_path.resolve() / "app/.forge/graph.db"
    assert nested.stderr == (
        f"forge-lsp: warning: using {inner}, nested inside the index {outer}; pass --db to choose\n"
    )


def test_a_graph_a_server_keeps_is_not_refreshed_from_the_command_line(tmp_path: Path) -> None:
    """The server holds the graph's files and symbols in memory and follows the disk itself:
    a second writer would leave them stale. While its marker names a live process, queries
    answer from the graph as the server keeps it."""
    write_tree(tmp_path, {"m.py": "def f():\n    return 1\n\n\nf()\n"})
    assert run(tmp_path, "index", ".").returncode == 0
    (tmp_path / "m.py").write_text("import os\n\n\ndef f():\n    return 1\n\n\nf()\n")
    marker = tmp_path / ".forge/graph.db.serving"
    marker.write_text(str(os.getpid()))  # this test process stands for the server
    kept = run(tmp_path, "refs", "m.py:1:5")
    assert kept.returncode == 0 and kept.stderr == ""
    assert kept.stdout.splitlines() == ["m.py:1:5: definition", "m.py:5:1: call"]
    marker.write_text("999999999")  # a server that is gone: refreshed as usual
    refreshed = run(tmp_path, "refs", "m.py:4:5")
    assert refreshed.stderr == "forge-lsp: index refreshed: 1 changed, 0 removed files\n"
    assert refreshed.stdout.splitlines() == ["m.py:4:5: definition", "m.py:8:1: call"]


def test_the_progress_bar_speaks_from_the_start_and_while_the_count_moves() -> None:
    out, now = io.StringIO(), [0.0]
    bar = ProgressBar(out, clock=lambda: now[0])
    assert out.getvalue() == "\r\033[Kindexing: finding files…"
    frames: list[str] = []
    for done, at in ((1, 0.0), (2, 0.05), (3, 0.3), (1500, 0.31), (100_000, 0.4)):
        out.truncate(0), out.seek(0)
        now[0] = at
        bar(done, 100_000)
        frames.append(out.getvalue().removeprefix("\r\033[K"))
    assert frames == [
        "indexing [                         ]   0% 1/100000 files",
        "",  # the same percentage 0.05 s later: not redrawn
        "indexing [                         ]   0% 3/100000 files",  # 0.2 s on: redrawn
        "indexing [                         ]   1% 1500/100000 files",
        "indexing: 100000 files parsed; resolving references…",
    ]
