"""The floor of a cold index: one process, one core, reading and tree-sitter-parsing every file.

Nothing is extracted, resolved or stored, so no index of this stack can be faster; issue 14's bars
are ratios to it, measured in the same run. The files are the ones `forge-lsp index` would take
(its own discovery, timed apart), so both sides do the same reading.

    python -m bench.parse_floor ROOT                 # the floor's seconds
    python -m bench.parse_floor ROOT --against-index # and a cold `forge-lsp index --jobs 2`,
                                                     # then a no-op re-index of its graph
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def floor_seconds(root: Path) -> tuple[float, float, int]:
    """(discovery seconds, read + parse seconds, files) in this process, on one core."""
    import tree_sitter_python
    from tree_sitter import Language, Parser

    from forge_lsp.config import load_settings
    from forge_lsp.indexing.discovery import discover

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        files = discover(load_settings(root, db=Path(tmp) / "unused.db")).files
    discovered = time.perf_counter() - started
    parser = Parser(Language(tree_sitter_python.language()))
    started = time.perf_counter()
    for found in files:
        with open(found.path, "rb") as handle:
            parser.parse(handle.read())
    return discovered, time.perf_counter() - started, len(files)


def _installed_env() -> dict[str, str]:
    """The environment of an installed tool: its modules compiled once and kept (a no-op
    re-index would otherwise time the compiling of its own code)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _floor_process(root: Path) -> float:
    """The floor as a fresh process would measure it (its import time left out)."""
    out = subprocess.run(
        [sys.executable, "-m", "bench.parse_floor", str(root)],
        check=True,
        capture_output=True,
        text=True,
        env=_installed_env(),
    ).stdout
    return float(out.split("read+parse ")[1].split(" s")[0])


def _index_runs(root: Path, jobs: int) -> tuple[float, float]:
    """(cold index, then a no-op re-index of the same graph): whole processes, in seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "forge_lsp", "index", str(root), "--jobs", str(jobs)]
        command += ["--db", str(Path(tmp) / "graph.db")]
        seconds = []
        for _ in range(2):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, env=_installed_env())
            seconds.append(time.perf_counter() - started)
        return seconds[0], seconds[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--against-index", action="store_true")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    if not args.against_index:
        discovered, parsed, files = floor_seconds(args.root)
        print(f"{files} files: discovery {discovered:.2f} s, read+parse {parsed:.2f} s")
        return 0
    floors, indexes, noops = [], [], []
    for _ in range(args.runs):  # alternated, so that machine noise falls on both
        floors.append(_floor_process(args.root))
        cold, noop = _index_runs(args.root, args.jobs)
        indexes.append(cold)
        noops.append(noop)
    floor, index, noop = (statistics.median(v) for v in (floors, indexes, noops))
    print(
        f"floor {floor:.2f} s; cold index (--jobs {args.jobs}, whole process) {index:.2f} s:"
        f" ratio {index / floor:.2f} (bar 2.5); no-op re-index {noop:.2f} s:"
        f" ratio {noop / floor:.3f} (bar 0.15)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
