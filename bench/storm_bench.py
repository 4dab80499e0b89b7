"""A branch switch on disk, settled with 1 worker and with 2 (issue 15: parallel storms).

A synthetic workspace (`bench.scale.workspace`) is indexed once; then, on a live graph without
watcher, `--changed` files are rewritten as a branch switch would (each gains a function, so
every one is an interface change that re-resolves its dependents) and reported in one notice;
the time until the graph is idle is the figure, and the same files are switched back. Runs
alternate between `--jobs 1` and `--jobs 2`, so machine noise falls on both; the bar is the
ratio of the medians (≥ 1.7). After each direction the live graph must equal a cold index of
the same tree, table by table: fast and wrong would not count.

    python -m bench.storm_bench --files 5000 --changed 2000 --runs 3
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import apsw

from bench.live_bench import wait_idle
from bench.scale import workspace
from forge_lsp.config import load_settings
from forge_lsp.graph.snapshot import graph_snapshot
from forge_lsp.indexing.indexer import index_workspace
from forge_lsp.live.interface import LiveOptions
from forge_lsp.live.service import LiveGraph


def _switch(files: list[Path], originals: dict[Path, bytes], to_branch: bool) -> None:
    for k, path in enumerate(files):
        data = originals[path]
        if to_branch:
            data += f"\n\ndef switched_{k}(value):\n    return value + {k}\n".encode()
        path.write_bytes(data)


def _equals_cold(root: Path, db: Path, scratch: Path) -> bool:
    cold_db = scratch / "cold.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cold_db}{suffix}").unlink(missing_ok=True)
    index_workspace(load_settings(root, db=cold_db), jobs=2)
    snapshots = []
    for path in (db, cold_db):
        conn = apsw.Connection(str(path), flags=apsw.SQLITE_OPEN_READONLY)
        snapshots.append(graph_snapshot(conn))
        conn.close()
    return snapshots[0] == snapshots[1]


def settle_seconds(root: Path, db: Path, jobs: int, files: list[Path], check: bool) -> list[float]:
    """(switch, switch back) seconds on a live graph with `jobs` workers."""
    originals = {path: path.read_bytes() for path in files}
    settings = load_settings(root, db=db, overrides={"jobs": jobs})
    live = LiveGraph(settings, options=LiveOptions(watch=False))
    live.start()
    seconds = []
    try:
        wait_idle(live)
        for to_branch in (True, False):
            _switch(files, originals, to_branch)
            started = time.perf_counter()
            live.files_changed(p.as_posix() for p in files)
            wait_idle(live)
            seconds.append(time.perf_counter() - started)
            if check and not _equals_cold(root, db, db.parent):
                raise SystemExit(f"--jobs {jobs}: the live graph differs from a cold index")
    finally:
        live.close(10.0)
        _switch(files, originals, False)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000, help="workspace size (default 5000)")
    parser.add_argument("--changed", type=int, default=2000, help="files switched (default 2000)")
    parser.add_argument("--runs", type=int, default=3, help="runs per worker count (default 3)")
    parser.add_argument("--seed", type=int, default=0, help="which files change (default 0)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ws"
        shutil.copytree(workspace(args.files), root)
        db = Path(tmp) / "graph.db"
        index_workspace(load_settings(root, db=db), jobs=2)
        sources = sorted(root.rglob("*.py"))
        files = random.Random(args.seed).sample(sources, min(args.changed, len(sources)))
        timings: dict[int, list[float]] = {1: [], 2: []}
        for run in range(args.runs):
            for jobs in (1, 2):
                timings[jobs] += settle_seconds(root, db, jobs, files, check=run == 0)
    one, two = (statistics.median(timings[j]) for j in (1, 2))
    print(
        f"{len(files)} of {len(sources)} files switched and back, {args.runs} runs:"
        f" --jobs 1 {one:.2f} s, --jobs 2 {two:.2f} s (medians); speed-up {one / two:.2f}"
        " (bar 1.7); each direction equal to a cold index"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
