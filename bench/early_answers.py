"""Issue 14: an answer given before the first index ends must equal the answer after it.

A cold index of a fresh copy gives the expected answers. Then a live graph indexes another
fresh copy from nothing, and the sampled positions are asked one at a time while it runs. Each
answer is read on the updater thread at the moment its question is answered, so it is the
early answer, not a later one. Prints how many differ and when the questions were answered.

    python -m bench.early_answers [--corpus DIR] [--positions 30] [--seed 14]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.corpora import fetch_django
from bench.sample import Symbol, asking_order
from forge_lsp.config import load_settings
from forge_lsp.graph.model import Symbol as GraphSymbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.indexing.indexer import index_workspace
from forge_lsp.live.interface import LiveOptions
from forge_lsp.live.service import LiveGraph

Answer = list[tuple[str, int, int, str]] | None


def answer(query: GraphQuery, root: Path, symbol: Symbol) -> Answer:
    found = query.symbol_at((root / symbol.path).as_posix(), symbol.line - 1, symbol.column - 1)
    if found is None:
        return None
    refs = query.references(found, include_probable=True)
    cut = len(root.as_posix()) + 1
    return sorted(
        (r.location.path[cut:], r.location.line, r.location.col, r.confidence) for r in refs
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--positions", type=int, default=30)
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args(argv)
    corpus = (args.corpus or fetch_django()).resolve()
    symbols = asking_order(corpus, args.positions, args.seed)
    with tempfile.TemporaryDirectory(prefix="forge-early-") as tmp:
        cold_root, live_root = Path(tmp, "cold", corpus.name), Path(tmp, "live", corpus.name)
        for root in (cold_root, live_root):
            shutil.copytree(corpus, root, ignore=shutil.ignore_patterns(".forge", "__pycache__"))
        index_workspace(load_settings(cold_root, db=Path(tmp, "cold.db")), jobs=2)
        cold = GraphQuery.open(Path(tmp, "cold.db"))
        expected = {s: answer(cold, cold_root, s) for s in symbols}
        cold.close()
        live = LiveGraph(
            load_settings(live_root, db=Path(tmp, "live.db")), options=LiveOptions(watch=False)
        )
        early: dict[Symbol, Answer] = {}
        times: list[float] = []
        started = time.monotonic()
        live.start()
        try:
            for s in symbols:
                path = (live_root / s.path).as_posix()

                def uses_of(
                    query: GraphQuery, s: Symbol = s, path: str = path
                ) -> GraphSymbol | None:
                    early[s] = answer(query, live_root, s)  # the last call sees the answer's graph
                    return query.symbol_at(path, s.line - 1, s.column - 1)

                live.demand([path], uses_of).result(timeout=600)
                times.append(time.monotonic() - started)
                if s not in early:  # asked after the index ended: read as any question is
                    reader = GraphQuery.open(Path(tmp, "live.db"))
                    early[s] = answer(reader, live_root, s)
                    reader.close()
        finally:
            live.close(60)
    differ = [s for s in symbols if early.get(s) != expected[s]]
    for s in differ:
        print(f"  differs: {s.path}:{s.line}:{s.column} {s.qualname}")
    print(
        f"{corpus.name}: {len(symbols)} positions asked during the first index, {len(differ)}"
        f" differ from the cold index; answered by {times[-1]:.2f} s"
        f" (median {statistics.median(times):.2f} s), {live.demands.answered} before it ended"
    )
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
