"""Workspace symbol search on a graph: each query's time (best of `--runs`) and its answer.

Run from two source trees on copies of one graph (`PYTHONPATH` on each) for a same-run
comparison; `--json` prints the answers too, to check that both trees give the same ones.

    python -m bench.symbol_search GRAPH.db acme,m0,__init__,get,models.Model [--runs 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from forge_lsp.graph.queries import GraphQuery


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("queries", help="comma-separated")
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--limit", type=int, default=200)
    parser.add_argument("--json", action="store_true", help="also print each answer")
    args = parser.parse_args(argv)
    query = GraphQuery.open(args.db)
    out: dict[str, dict[str, object]] = {}
    try:
        for text in args.queries.split(","):
            seconds = []
            for _ in range(args.runs):
                started = time.perf_counter()
                found = query.workspace_symbols(text, limit=args.limit)
                seconds.append(time.perf_counter() - started)
            answer = [(s.kind, s.display_name, s.path, s.range.line) for s in found]
            out[text] = {"ms": round(min(seconds) * 1000, 1), "found": len(found)}
            if args.json:
                out[text]["answer"] = answer
    finally:
        query.close()
    if args.json:
        print(json.dumps(out))
    else:
        for text, row in out.items():
            print(f"{text!r:32} {row['ms']:9.1f} ms  {row['found']} found")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
