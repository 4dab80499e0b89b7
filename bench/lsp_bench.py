"""The language server's bars on Django's source distribution, measured from a real LSP client.

1. `initialize` → ready, cold (no database) and warm (database present, files unchanged).
   "Ready" is the `$/progress` end of the first index, confirmed by `forge/status`.
2. `textDocument/references` round trips (client send → answer parsed), over sampled definitions.
3. Incoming-calls recall against basedpyright's `callHierarchy/incomingCalls` at the same
   positions (functions and methods), after basedpyright's workspace scan has finished.

Positions come from `bench.sample` (Python's `ast`, independent of forge); both servers speak
utf-16 and every call site is normalised to (path, line, code-point column) with `bench.textpos`.

    python -m bench.lsp_bench [--corpus DIR] [--refs 220] [--calls 60] [--skip-pyright]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.lsp_client import JsonObj, LspClient, LspError, LspTimeout
from bench.metrics import percentile
from bench.oracle_pyright import SCAN_DONE, configuration_answer, langserver_command
from bench.sample import Symbol, choose_sample, collect_definitions
from bench.textpos import (
    Location,
    corpus_location,
    lsp_position,
    path_to_uri,
)

RESULTS = Path(__file__).resolve().parent / "results"
FORGE = [sys.executable, "-m", "forge_lsp", "serve"]
CAPABILITIES: JsonObj = {
    "general": {"positionEncodings": ["utf-16"]},
    "window": {"workDoneProgress": True},
    "workspace": {"configuration": True, "workspaceFolders": True},
    "textDocument": {"references": {}, "callHierarchy": {}, "synchronization": {}},
}
BARS = {"cold_s": 6.0, "warm_s": 1.0, "references_p95_ms": 10.0, "incoming_recall": 0.9}


def _initialize(client: LspClient, root: Path, options: JsonObj | None) -> float:
    """initialize + initialized; returns when the initialize answer arrived (monotonic)."""
    uri = path_to_uri(root)
    client.request(
        "initialize",
        {
            "processId": None,
            "rootUri": uri,
            "workspaceFolders": [{"uri": uri, "name": root.name}],
            "capabilities": CAPABILITIES,
            "initializationOptions": options,
        },
        timeout=120,
    )
    answered = time.monotonic()
    client.notify("initialized", {})
    return answered


def start_forge(root: Path, db: Path, probable: bool = False) -> tuple[LspClient, dict[str, float]]:
    """Start a forge server and wait until its first index has ended; returns timings."""
    spawned = time.monotonic()
    client = LspClient(FORGE, cwd=str(root))
    answered = _initialize(client, root, {"dbPath": str(db), "includeProbable": probable})
    deadline = time.monotonic() + 600
    while not any(kind == "end" for _t, kind, _m in client.progress_log):
        if time.monotonic() > deadline:
            raise TimeoutError("forge-lsp did not finish indexing in 600 s")
        time.sleep(0.005)
    ended = next(t for t, kind, _m in client.progress_log if kind == "end")
    status = client.request("forge/status", None)
    if status["state"] != "ready":
        raise RuntimeError(f"progress ended but the server is not ready: {status}")
    if not status["files"]:
        client.close()
        raise RuntimeError(
            f"forge-lsp found no files in {root}: a directory ignored by an enclosing git"
            " repository (such as bench/.cache) is not indexed; pass --corpus elsewhere"
        )
    return client, {
        # initialize is sent as soon as the process is spawned: it waits for Python to start
        "spawn_to_ready_s": ended - spawned,
        "answered_to_ready_s": ended - answered,
        "spawn_to_answer_s": answered - spawned,
        "files": status["files"],
        "symbols": status["symbols"],
        "references": status["references"],
        "index_seconds": status["lastIndexSeconds"],
    }


def symbol_position(root: Path, symbol: Symbol) -> JsonObj:
    """Where a sampled definition's name is, as an LSP utf-16 position."""
    return lsp_position(root, symbol.path, symbol.line, symbol.column)


def measure_start(root: Path, runs_cold: int, runs_warm: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="forge-bench-") as tmp:
        db = Path(tmp) / "graph.db"
        cold, warm = [], []
        for _ in range(runs_cold):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
            client, timing = start_forge(root, db)
            client.close()
            cold.append(timing)
        for _ in range(runs_warm):
            client, timing = start_forge(root, db)
            client.close()
            warm.append(timing)
    return {"cold": cold, "warm": warm}


def measure_references(client: LspClient, root: Path, symbols: list[Symbol]) -> dict[str, Any]:
    times, counts = [], []
    for symbol in symbols:
        params = {
            "textDocument": {"uri": path_to_uri(root / symbol.path)},
            "position": symbol_position(root, symbol),
            "context": {"includeDeclaration": True},
        }
        started = time.perf_counter()
        result = client.request("textDocument/references", params, timeout=60)
        times.append((time.perf_counter() - started) * 1000)
        counts.append(len(result or []))
    return {
        "requests": len(times),
        "p50_ms": statistics.median(times),
        "p95_ms": percentile(times, 95),
        "max_ms": max(times),
        "mean_ms": statistics.fmean(times),
        "locations_p50": statistics.median(counts),
        "locations_max": max(counts),
        "empty_answers": sum(1 for c in counts if c == 0),
    }


def incoming_sites(
    client: LspClient, root: Path, symbol: Symbol, timeout: float
) -> set[Location] | None:
    """Call sites of the symbol per a server's call hierarchy; None when it found no item."""
    uri = path_to_uri(root / symbol.path)
    items = client.request(
        "textDocument/prepareCallHierarchy",
        {"textDocument": {"uri": uri}, "position": symbol_position(root, symbol)},
        timeout=timeout,
    )
    if not items:
        return None
    calls = client.request("callHierarchy/incomingCalls", {"item": items[0]}, timeout=timeout)
    sites: set[Location] = set()
    for call in calls or []:
        for r in call["fromRanges"]:
            loc = corpus_location(root, call["from"]["uri"], r["start"])
            if loc is not None:
                sites.add(loc)
    return sites


class Pyright:
    """basedpyright over stdio, waited for until its workspace scan is over."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.client = LspClient(langserver_command(), configuration_answer, cwd=str(root))
        _initialize(self.client, root, None)
        self.client.notify("workspace/didChangeConfiguration", {"settings": {}})

    def warm_up(self, symbol: Symbol, timeout: float) -> list[int]:
        if not self.client.wait_for_log(SCAN_DONE, timeout):
            raise TimeoutError("basedpyright did not finish its workspace scan")
        self.client.wait_quiet(quiet=2.0, timeout=timeout)
        counts: list[int] = []
        for _ in range(5):  # the same question until the answer is stable
            counts.append(len(self.sites(symbol, timeout) or set()))
            if len(counts) >= 2 and counts[-1] == counts[-2]:
                break
            time.sleep(2)
        return counts

    def sites(self, symbol: Symbol, timeout: float) -> set[Location] | None:
        path = self.root / symbol.path
        uri = path_to_uri(path)
        text = path.read_text(encoding="utf-8", errors="replace")
        self.client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        try:
            return incoming_sites(self.client, self.root, symbol, timeout)
        finally:
            self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})


def measure_recall(root: Path, db: Path, symbols: list[Symbol], timeout: float) -> dict[str, Any]:
    oracle = Pyright(root)
    rows: list[dict[str, Any]] = []
    try:
        started = time.monotonic()
        warm = oracle.warm_up(symbols[0], timeout=900)
        warm_seconds = time.monotonic() - started
        answers: dict[str, set[Location] | str | None] = {}
        for symbol in symbols:
            try:
                answers[symbol.key] = oracle.sites(symbol, timeout)
            except (LspTimeout, LspError) as exc:
                answers[symbol.key] = f"{type(exc).__name__}: {exc}"[:200]
    finally:
        oracle.client.close()
    for probable in (False, True):
        forge, _timing = start_forge(root, db, probable=probable)
        try:
            for symbol in symbols:
                truth = answers[symbol.key]
                found = incoming_sites(forge, root, symbol, timeout) or set()
                row = next((r for r in rows if r["key"] == symbol.key), None)
                if row is None:
                    row = {"key": symbol.key, "qualname": symbol.qualname, "kind": symbol.kind}
                    rows.append(row)
                if isinstance(truth, str) or truth is None:
                    row["pyright"] = truth if isinstance(truth, str) else "no item"
                    continue
                row["pyright_sites"] = len(truth)
                tag = "probable" if probable else "exact"
                row[f"{tag}_found"] = len(found & truth)
                row[f"{tag}_extra"] = len(found - truth)
                row[f"{tag}_missed"] = sorted(":".join(map(str, loc)) for loc in truth - found)[:5]
                lines = {(p, line) for p, line, _c in found}
                row[f"{tag}_found_by_line"] = sum(1 for p, line, _c in truth if (p, line) in lines)
        finally:
            forge.close()
    scored = [r for r in rows if "pyright_sites" in r]
    summary: dict[str, Any] = {
        "positions": len(symbols),
        "scored": len(scored),
        "pyright_unanswered": len(rows) - len(scored),
        "pyright_sites": sum(r["pyright_sites"] for r in scored),
        "pyright_warmup_counts": warm,
        "pyright_warmup_seconds": round(warm_seconds, 1),
    }
    for tag in ("exact", "probable"):
        total = summary["pyright_sites"] or 1
        with_sites = [r for r in scored if r["pyright_sites"]]
        summary[tag] = {
            "recall": sum(r[f"{tag}_found"] for r in scored) / total,
            "recall_by_line": sum(r[f"{tag}_found_by_line"] for r in scored) / total,
            "macro_recall": statistics.fmean(
                r[f"{tag}_found"] / r["pyright_sites"] for r in with_sites
            )
            if with_sites
            else None,
            "sites_not_in_pyright": sum(r[f"{tag}_extra"] for r in scored),
        }
    return {"summary": summary, "rows": rows}


def render(data: dict[str, Any]) -> str:
    start, refs = data["start"], data["references"]
    cold = [t["spawn_to_ready_s"] for t in start["cold"]]
    warm = [t["spawn_to_ready_s"] for t in start["warm"]]
    first = start["cold"][0] if start["cold"] else start["warm"][0]
    lines = [
        f"# forge-lsp language server on {data['corpus']}",
        "",
        f"Measured {data['date']} on {data['machine']} (shared; other work was running)."
        f" Command: `{data['command']}`.",
        f"Workspace: the whole sdist, {first['files']} files, {first['symbols']} symbols,"
        f" {first['references']} references.",
        "",
        "| bar | target | measured | met |",
        "|---|---:|---:|---|",
        _bar("initialize → ready, cold", BARS["cold_s"], statistics.median(cold), "s"),
        _bar("initialize → ready, warm", BARS["warm_s"], statistics.median(warm), "s"),
        _bar("references round trip p95", BARS["references_p95_ms"], refs["p95_ms"], "ms"),
    ]
    recall = data.get("incoming")
    if recall:
        lines.append(
            _bar(
                "incoming calls recall vs basedpyright",
                BARS["incoming_recall"],
                recall["summary"]["exact"]["recall"],
                "",
                higher=True,
            )
        )
    lines += [
        "",
        "## Start",
        "",
        '`initialize` is sent the moment the process is spawned, so "initialize → ready"'
        " includes starting Python and importing the server (about 0.6 s, most of it"
        " lsprotocol); the second column starts at the initialize answer instead.",
        "",
        "| run | initialize sent → ready (s) | initialize answered → ready (s) | engine index (s) |",
        "|---|---:|---:|---:|",
        *(
            f"| {kind} {i + 1} | {t['spawn_to_ready_s']:.2f} | {t['answered_to_ready_s']:.2f} |"
            f" {t['index_seconds']} |"
            for kind in ("cold", "warm")
            for i, t in enumerate(start[kind])
        ),
        "",
        "## References",
        "",
        f"{refs['requests']} requests at sampled definitions (functions, methods, classes), one"
        f" at a time: p50 {refs['p50_ms']:.2f} ms, p95 {refs['p95_ms']:.2f} ms,"
        f" max {refs['max_ms']:.1f} ms; locations per answer p50 {refs['locations_p50']},"
        f" max {refs['locations_max']}; empty answers {refs['empty_answers']}.",
    ]
    if recall:
        s = recall["summary"]
        lines += [
            "",
            "## Incoming calls against basedpyright",
            "",
            f"{s['positions']} function and method positions; basedpyright answered"
            f" {s['scored']} ({s['pyright_unanswered']} without an item or with an error), with"
            f" {s['pyright_sites']} call sites. basedpyright warm-up {s['pyright_warmup_seconds']} s,"
            f" answer counts {s['pyright_warmup_counts']}. Sites compared as (path, line,"
            " code-point column of the range start).",
            "",
            "| forge results | recall | recall (same line) | macro recall | sites basedpyright lacks |",
            "|---|---:|---:|---:|---:|",
        ]
        for tag in ("exact", "probable"):
            t = s[tag]
            macro = f"{t['macro_recall']:.1%}" if t["macro_recall"] is not None else "-"
            lines.append(
                f"| {tag} | {t['recall']:.1%} | {t['recall_by_line']:.1%} | {macro} |"
                f" {t['sites_not_in_pyright']} |"
            )
        worst = sorted(
            (r for r in recall["rows"] if r.get("pyright_sites")),
            key=lambda r: r["exact_found"] / r["pyright_sites"],
        )[:10]
        lines += [
            "",
            "Lowest exact recall:",
            "",
            "| symbol | pyright sites | exact | probable | missed (first) |",
            "|---|---:|---:|---:|---|",
        ]
        for r in worst:
            missed = ", ".join(r["exact_missed"][:2])
            lines.append(
                f"| {r['qualname']} ({r['key']}) | {r['pyright_sites']} | {r['exact_found']} |"
                f" {r['probable_found']} | {missed} |"
            )
    return "\n".join(lines) + "\n"


def _seconds(values: Any) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def _bar(label: str, target: float, value: float, unit: str, higher: bool = False) -> str:
    met = value >= target if higher else value <= target
    if unit:
        shown, goal = f"{value:.2f} {unit}", f"≤ {target:g} {unit}"
    else:
        shown, goal = f"{value:.1%}", f"≥ {target:.0%}"
    return f"| {label} | {goal} | {shown} | {'yes' if met else '**no**'} |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, help="unpacked sdist (default: bench.corpora)")
    parser.add_argument("--refs", type=int, default=220, help="references requests (≥ 200)")
    parser.add_argument("--calls", type=int, default=60, help="incoming-calls positions (≥ 50)")
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--warm-runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=180.0, help="per pyright request")
    parser.add_argument("--skip-pyright", action="store_true")
    parser.add_argument("--out", type=Path, default=RESULTS / "lsp-django")
    args = parser.parse_args(argv)
    if args.corpus is None:
        from bench.corpora import fetch_django

        args.corpus = fetch_django()
    root = args.corpus.resolve()
    definitions = collect_definitions(root)
    third = max(1, args.refs // 3)
    ref_sample = choose_sample(
        definitions, args.seed, {"function": third, "method": third, "class": args.refs - 2 * third}
    )
    half = args.calls // 2
    call_sample = choose_sample(
        definitions, args.seed + 1, {"function": half, "method": args.calls - half}
    )
    data: dict[str, Any] = {
        "corpus": root.name,
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()}, {_cpus()} CPUs, Python {platform.python_version()}",
        "command": "python -m bench.lsp_bench "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "bars": BARS,
    }
    print(f"start: {args.cold_runs} cold, {args.warm_runs} warm …", file=sys.stderr)
    data["start"] = measure_start(root, args.cold_runs, args.warm_runs)
    with tempfile.TemporaryDirectory(prefix="forge-bench-") as tmp:
        db = Path(tmp) / "graph.db"
        client, _timing = start_forge(root, db)
        try:
            print(f"references: {len(ref_sample)} requests …", file=sys.stderr)
            data["references"] = measure_references(client, root, ref_sample)
        finally:
            client.close()
        if not args.skip_pyright:
            print(f"incoming calls: {len(call_sample)} positions …", file=sys.stderr)
            data["incoming"] = measure_recall(root, db, call_sample, args.timeout)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(data, indent=1, default=str) + "\n")
    args.out.with_suffix(".md").write_text(render(data))
    print(render(data))
    return 0


def _cpus() -> int:
    import os

    return os.cpu_count() or 1


if __name__ == "__main__":
    raise SystemExit(main())
