"""Issue-2 bars on a real corpus: cold and no-op index time, peak RSS, database size, query latency.

    python -m bench.index_bench --corpus /path/to/django-5.2.19 [--jobs 2] [--runs 3]

The index runs are whole `forge-lsp index` processes (start-up included); peak RSS is the largest
sum of RSS over the process and all its children (the parse workers), sampled every 10 ms.
Query latency is measured in-process through the same API the CLI and the server call.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.corpora import fetch_django
from bench.metrics import percentile
from forge_lsp.graph.impact import impact
from forge_lsp.graph.queries import GraphQuery

RESULTS = Path(__file__).parent / "results"


def _tree_rss_kb(pid: int) -> int:
    """RSS of a process and its descendants, from /proc."""
    total = 0
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
        except OSError:
            continue
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass
        stack.extend(children.get(current, ()))
    return total


def run_index(corpus: Path, db: Path, jobs: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "forge_lsp",
        "index",
        str(corpus),
        "--db",
        str(db),
        "--jobs",
        str(jobs),
        "--json",
    ]
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.01)
    wall = time.perf_counter() - started
    out, err = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"index failed: {err}")
    summary = json.loads(out)
    return {"wall_s": round(wall, 3), "peak_rss_mb": round(peak / 1024, 1), "summary": summary}


def query_latency(db: Path, samples: int, seed: int) -> dict[str, Any]:
    query = GraphQuery.open(db)
    ids = [
        row[0]
        for row in query.conn.execute(
            "SELECT id FROM symbols WHERE kind IN ('function', 'method', 'class') ORDER BY id"
        )
    ]
    picked = random.Random(seed).sample(ids, min(samples, len(ids)))
    symbols = query.symbols(picked)
    refs_ms: list[float] = []
    impact_ms: list[float] = []
    impact_nodes: list[int] = []
    for sid in picked:
        sym = symbols[sid]
        t0 = time.perf_counter()
        query.references(sym)
        refs_ms.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        result = impact(query, symbol=sym, depth=3, max_nodes=1000)
        impact_ms.append((time.perf_counter() - t0) * 1000)
        impact_nodes.append(len(result.nodes))
    # Random symbols mostly have small blast radii; the most-used ones hit the node limit.
    heavy_ids = [
        row[0]
        for row in query.conn.execute(
            "SELECT target_id FROM refs WHERE target_id IS NOT NULL GROUP BY target_id"
            " ORDER BY count(*) DESC LIMIT 50"
        )
    ]
    heavy_ms: list[float] = []
    heavy_nodes: list[int] = []
    for sym in query.symbols(heavy_ids).values():
        t0 = time.perf_counter()
        result = impact(query, symbol=sym, depth=3, max_nodes=1000)
        heavy_ms.append((time.perf_counter() - t0) * 1000)
        heavy_nodes.append(len(result.nodes))
    query.close()
    return {
        "impact_heavy_depth3_ms": {
            "symbols": len(heavy_ms),
            "p50": round(statistics.median(heavy_ms), 3),
            "p95": round(percentile(heavy_ms, 95), 3),
            "median_nodes": statistics.median(heavy_nodes),
        },
        "samples": len(picked),
        "references_ms": {
            "p50": round(statistics.median(refs_ms), 3),
            "p95": round(percentile(refs_ms, 95), 3),
        },
        "impact_depth3_ms": {
            "p50": round(statistics.median(impact_ms), 3),
            "p95": round(percentile(impact_ms, 95), 3),
            "max_nodes_seen": max(impact_nodes),
        },
    }


def source_bytes(corpus: Path, db: Path) -> int:
    query = GraphQuery.open(db)
    total = query.conn.execute("SELECT sum(size) FROM files").fetchall()[0][0] or 0
    query.close()
    return int(total)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--corpus", type=Path, help="unpacked source tree (default: fetch Django 5.2.19)"
    )
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "index-django")
    args = parser.parse_args(argv)
    corpus = (args.corpus or fetch_django()).resolve()
    cold: list[dict[str, Any]] = []
    noop: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "graph.db"
        for _ in range(args.runs):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            cold.append(run_index(corpus, db, args.jobs))
            noop.append(run_index(corpus, db, args.jobs))
        db_bytes = db.stat().st_size
        src_bytes = source_bytes(corpus, db)
        latency = query_latency(db, args.samples, args.seed)
    summary = cold[-1]["summary"]
    report = {
        "corpus": str(corpus),
        "jobs": args.jobs,
        "cpus": os.cpu_count(),
        "files": summary["files"],
        "symbols": summary["symbols"],
        "references": summary["references"],
        "resolved_percent": summary["resolvedPercent"],
        "cold_wall_s": [r["wall_s"] for r in cold],
        "cold_peak_rss_mb": max(r["peak_rss_mb"] for r in cold),
        "noop_wall_s": [r["wall_s"] for r in noop],
        "db_bytes": db_bytes,
        "source_bytes": src_bytes,
        "db_to_source": round(db_bytes / src_bytes, 2) if src_bytes else None,
        **latency,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(report, indent=2) + "\n")
    md = [
        f"# Index bench: {corpus.name}",
        "",
        f"`python -m bench.index_bench --corpus {corpus} --jobs {args.jobs} --runs {args.runs}` on {os.cpu_count()} CPUs",
        "",
        "| figure | bar | measured |",
        "|---|---|---|",
        f"| cold index wall (median of {args.runs}) | ≤ 5 s | {statistics.median(report['cold_wall_s']):.2f} s |",
        f"| no-op re-index, whole process | ≤ 1 s | {statistics.median(report['noop_wall_s']):.2f} s |",
        f"| peak RSS (process tree) | ≤ 300 MB | {report['cold_peak_rss_mb']} MB |",
        f"| database / source bytes | ≤ 2.5 | {report['db_to_source']} ({db_bytes / 1e6:.1f} MB / {src_bytes / 1e6:.1f} MB) |",
        f"| references p95 ({latency['samples']} symbols) | ≤ 5 ms | {latency['references_ms']['p95']} ms |",
        f"| impact depth 3 p95 (≤ 1000 nodes), random symbols | ≤ 50 ms | {latency['impact_depth3_ms']['p95']} ms |",
        f"| impact depth 3 p95, the 50 most-referenced symbols (median {latency['impact_heavy_depth3_ms']['median_nodes']} nodes) | ≤ 50 ms | {latency['impact_heavy_depth3_ms']['p95']} ms |",
        "",
        f"{report['files']} files, {report['symbols']} symbols, {report['references']} references,"
        f" {report['resolved_percent']}% resolved.",
    ]
    args.out.with_suffix(".md").write_text("\n".join(md) + "\n")
    print("\n".join(md))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
