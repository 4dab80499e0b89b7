"""Fuzzed faults (issue 13): truncated and corrupted source files and databases.

Every case must end handled: the graph converges to a cold index of the same files, or the
command prints one clear line and exits 1. Never a traceback, never an `internal error`.
Real files, real indexes; hypothesis picks the damage.
"""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest
from helpers import graph_differences
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from forge_lsp.cli import main

SOURCES = {
    "pkg/__init__.py": "from .core import Engine, run\n__all__ = ['Engine', 'run']\n",
    "pkg/core.py": (
        "import os\n\n\nclass Engine:\n    def __init__(self, name: str) -> None:\n"
        "        self.name = name\n\n    def start(self) -> str:\n"
        "        return os.path.join(self.name, 'é🙂')\n\n\n"
        "def run(engine: Engine) -> str:\n    return engine.start()\n"
    ),
    "app.py": (
        "from pkg import Engine, run\n\n\ndef main() -> None:\n"
        "    e = Engine('x')\n    run(e)\n    e.start()\n"
    ),
    "tests/test_app.py": "from app import main\n\n\ndef test_main():\n    main()\n",
}

_FUZZ = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _cli(*args: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(list(args))
    return status, err.getvalue()


def _fresh(base: Path) -> Path:
    shutil.rmtree(base, ignore_errors=True)
    for rel, text in SOURCES.items():
        path = base / "ws" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return base / "ws"


_damage = st.tuples(
    st.sampled_from(sorted(SOURCES)),
    st.sampled_from(["truncate", "flip", "garbage"]),
    st.floats(0.0, 1.0),
    st.binary(min_size=1, max_size=64),
)


@_FUZZ
@given(st.lists(_damage, min_size=1, max_size=4))
def test_damaged_sources_index_like_a_cold_index(
    tmp_path: Path, damage: list[tuple[str, str, float, bytes]]
) -> None:
    root = _fresh(tmp_path / "case")
    warm = tmp_path / "case" / "warm.db"
    assert _cli("index", str(root), "--db", str(warm), "--jobs", "1") == (0, "")
    for rel, how, where, junk in damage:
        path = root / rel
        data = path.read_bytes()
        at = min(int(where * len(data)), max(len(data) - 1, 0))
        if how == "truncate":  # mid-token, mid-character, or to nothing
            data = data[:at]
        elif how == "flip":
            data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :] if data else junk
        else:
            data = data[:at] + junk + data[at:]
        path.write_bytes(data)
    status, err = _cli("index", str(root), "--db", str(warm), "--jobs", "1")
    assert status == 0
    assert all(line.startswith("forge-lsp: warning: ") for line in err.splitlines()), err
    cold = tmp_path / "case" / "cold.db"
    assert _cli("index", str(root), "--db", str(cold), "--jobs", "1") == (0, err)
    assert graph_differences(warm, cold) == []


@pytest.mark.slow  # a CLI run per command per example: ~10 s
@_FUZZ
@given(
    st.sampled_from(["truncate", "overwrite"]),
    st.floats(0.0, 1.0),
    st.binary(min_size=1, max_size=4096),
)
def test_a_damaged_database_is_one_line_or_rebuilt(
    tmp_path: Path, how: str, where: float, junk: bytes
) -> None:
    root = _fresh(tmp_path / "case")
    db = root / ".forge" / "graph.db"  # ours, where forge-lsp keeps it: it may be rebuilt
    assert _cli("index", str(root), "--jobs", "1") == (0, "")
    data = db.read_bytes()
    at = int(where * len(data))
    damaged = data[:at] if how == "truncate" else data[:at] + junk + data[at + len(junk) :]
    db.write_bytes(damaged)
    for args in (
        ("refs", "--db", str(db), f"{root}/pkg/core.py:4:7"),
        ("status", "--db", str(db)),
        ("impact", "--db", str(db), f"{root}/pkg/core.py:12:5"),
    ):
        status, err = _cli(*args)
        assert status in (0, 1, 3)  # an answer, none, or "the index cannot answer"
        assert "internal error" not in err and "Traceback" not in err
        assert err.count("\n") <= 1  # one line, or nothing
    # The next index repairs it: the graph equals a cold index of the same files.
    status, err = _cli("index", str(root), "--jobs", "1")
    assert (status, "internal error" in err) == (0, False), err
    cold = tmp_path / "case" / "cold.db"
    assert _cli("index", str(root), "--db", str(cold), "--jobs", "1") == (0, "")
    assert graph_differences(db, cold) == []
