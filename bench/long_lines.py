"""One long line costs what the same text split into lines costs (issue 13's 1 MB line probe).

The same statements, non-ASCII text between them, are written once as one ~1 MB line and once as
one statement a line. Both are indexed with the CLI, and every reference of the busiest name is
converted to UTF-16 columns as the server does for VS Code. Accuracy sits beside the speed: both
layouts must give the same number of references at the same character offsets.

    python -m bench.long_lines [--statements 80000]
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from forge_lsp.graph.queries import GraphQuery
from forge_lsp.server.documents import DiskLines, TextSnapshot

_HEADER = "def f(*a): pass\nclass C:\n    def m(self): pass\nx = C()\nŷ = 1\n"
_STATEMENTS = ["f(x)", "x.m()", "C().m()", "[f, C, ŷ]", "{'ké': f(x.m())}", "f('😀', ŷ)"]


def _write(root: Path, statements: list[str], separator: str) -> Path:
    root.mkdir(parents=True)
    (root / "mod.py").write_text(_HEADER + separator.join(statements) + "\n", encoding="utf-8")
    return root


def _index_seconds(root: Path) -> float:
    shutil.rmtree(root / ".forge", ignore_errors=True)  # cold every time
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "forge_lsp", "index", str(root)],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def _convert(root: Path) -> tuple[float, list[tuple[int, int]]]:
    """Seconds to convert every reference of `f` to UTF-16, and the (line, column)s converted."""
    query = GraphQuery.open(root / ".forge" / "graph.db")
    path = (root / "mod.py").as_posix()
    symbol = query.symbol_at(path, 0, 4)
    assert symbol is not None
    locations = [r.location for r in query.references(symbol)]
    started = time.perf_counter()
    text = TextSnapshot("utf-16", {}, DiskLines())
    columns = [(at.line, text.to_client(path, at.line, at.col)) for at in locations]
    return time.perf_counter() - started, columns


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=80_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    rng = random.Random(13)
    statements = [rng.choice(_STATEMENTS) for _ in range(args.statements)]
    with tempfile.TemporaryDirectory() as tmp:
        one = _write(Path(tmp) / "one_line", statements, "; ")
        split = _write(Path(tmp) / "split", statements, "\n")
        times: dict[str, list[float]] = {"one_line": [], "split": []}
        for _ in range(args.runs):  # alternate, so that machine noise falls on both
            times["one_line"].append(_index_seconds(one))
            times["split"].append(_index_seconds(split))
        one_convert, one_columns = _convert(one)
        split_convert, split_columns = _convert(split)
    index_one, index_split = (statistics.median(times[k]) for k in ("one_line", "split"))
    print(f"line of {len(': '.join(statements)) // 1000} kB, {len(one_columns)} references of f")
    print(
        f"index: one line {index_one:.2f} s, split {index_split:.2f} s, "
        f"ratio {index_one / index_split:.2f}"
    )
    print(f"UTF-16 conversion: one line {one_convert:.3f} s, split {split_convert:.3f} s")
    same = len(one_columns) == len(split_columns)
    print(f"same references in both layouts: {same}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
