"""Issue 14: from server start to the first *complete* references answer, cold, forge against
basedpyright in the same run.

Each tool gets a fresh copy of the corpus (no database, no cache) and one new server. As soon as
`initialized` is sent, the sampled positions are asked in a seeded random order, round after
round, until the server is settled (forge: its first index ended; basedpyright: its workspace
scan ended and it went quiet) and a whole round repeats the one before. A position's figure is
the time of the first answer from which every later answer equals the settled one: an early
answer that is partial does not count.

    python -m bench.cold_answer [--corpus DIR] [--positions 30] [--seed 14] [--runs 3]
                                [--skip-pyright]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.corpora import fetch_django
from bench.lsp_bench import FORGE, _initialize, symbol_position
from bench.lsp_client import LspClient, LspError, LspTimeout
from bench.oracle_pyright import SCAN_DONE, PyrightOracle
from bench.sample import Symbol, asking_order
from bench.textpos import corpus_location, path_to_uri

Answer = frozenset[tuple[str, int, int]] | None


def first_complete(
    ask: Callable[[Symbol], Answer],
    symbols: list[Symbol],
    settled: Callable[[], bool],
    started: float,
) -> tuple[dict[Symbol, float], dict[Symbol, Answer]]:
    """Seconds from `started` (the server's spawn) to each symbol's first complete answer, and
    the settled answers."""
    history: dict[Symbol, list[tuple[float, Answer]]] = {s: [] for s in symbols}
    previous: dict[Symbol, Answer] = {}
    while True:
        done = settled()  # read before the round: answers after it are settled ones
        round_ = {}
        for symbol in symbols:  # each answer is timed when it comes, not at the round's end
            round_[symbol] = ask(symbol)
            history[symbol].append((time.monotonic() - started, round_[symbol]))
        if done and round_ == previous:
            break
        previous = round_
        if time.monotonic() - started > 900:
            raise TimeoutError("no settled answers in 900 s")
    first: dict[Symbol, float] = {}
    for symbol, answers in history.items():
        final = answers[-1][1]
        at = len(answers) - 1
        while at > 0 and answers[at - 1][1] == final:
            at -= 1
        first[symbol] = answers[at][0]
    return first, previous


def _forge(root: Path, symbols: list[Symbol]) -> dict[Symbol, float]:
    spawned = time.monotonic()
    client = LspClient(FORGE, cwd=str(root))
    try:
        _initialize(client, root, {"dbPath": str(root / ".forge-bench" / "graph.db")})

        def ask(symbol: Symbol) -> Answer:
            params = {
                "textDocument": {"uri": path_to_uri(root / symbol.path)},
                "position": symbol_position(root, symbol),
                "context": {"includeDeclaration": True},
            }
            try:
                found = client.request("textDocument/references", params, timeout=120) or []
            except (LspError, LspTimeout):
                return None
            locations = (corpus_location(root, i["uri"], i["range"]["start"]) for i in found)
            return frozenset(loc for loc in locations if loc is not None)

        def settled() -> bool:
            return any(kind == "end" for _t, kind, _m in client.progress_log)

        return first_complete(ask, symbols, settled, spawned)[0]
    finally:
        client.close()


def _pyright(root: Path, symbols: list[Symbol]) -> dict[Symbol, float]:
    spawned = time.monotonic()
    oracle = PyrightOracle(root)
    try:

        def ask(symbol: Symbol) -> Answer:
            result = oracle.references(symbol, timeout=300)
            if result.get("status") != "ok":
                return None
            return frozenset(tuple(loc) for loc in result["locations"])  # type: ignore[misc]

        def settled() -> bool:
            scanned = any(SCAN_DONE.search(text) for text in list(oracle.client.log_messages))
            return scanned and not oracle.client.progress_active()

        return first_complete(ask, symbols, settled, spawned)[0]
    finally:
        oracle.close()


def _fresh_copy(corpus: Path, tmp: Path, name: str) -> Path:
    root = tmp / name / corpus.name
    shutil.copytree(corpus, root, ignore=shutil.ignore_patterns(".forge", "__pycache__"))
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--positions", type=int, default=30)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--skip-pyright", action="store_true")
    parser.add_argument("--runs", type=int, default=1, help="alternated runs of both tools")
    args = parser.parse_args(argv)
    corpus = (args.corpus or fetch_django()).resolve()
    symbols = asking_order(corpus, args.positions, args.seed)
    runs: dict[str, list[dict[Symbol, float]]] = {"forge": [], "basedpyright": []}
    for run in range(args.runs):  # alternated: machine noise falls on both tools alike
        with tempfile.TemporaryDirectory(prefix="forge-cold-") as tmp:
            runs["forge"].append(_forge(_fresh_copy(corpus, Path(tmp), "forge"), symbols))
            if not args.skip_pyright:
                peer = _pyright(_fresh_copy(corpus, Path(tmp), "bp"), symbols)
                runs["basedpyright"].append(peer)
        print(f"run {run + 1}/{args.runs} done", file=sys.stderr)
    print(f"{corpus.name}: {len(symbols)} positions, first complete references answer, cold")
    for tool, per_run in runs.items():
        for first in per_run:
            times = sorted(first.values())
            print(f"  {tool}: median {statistics.median(times):.2f} s, slowest {times[-1]:.2f} s")
    ratios = [
        (
            statistics.median(forge.values()) / statistics.median(peer.values()),
            max(forge.values()) / max(peer.values()),
        )
        for forge, peer in zip(runs["forge"], runs["basedpyright"], strict=False)
    ]
    if ratios:
        median = statistics.median(r[0] for r in ratios)
        slowest = statistics.median(r[1] for r in ratios)
        print(
            f"  ratio forge/basedpyright, median of {len(ratios)} paired runs:"
            f" median {median:.2f}, slowest {slowest:.2f} (bar 0.5)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
