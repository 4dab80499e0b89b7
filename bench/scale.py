"""The scale bars on a synthetic workspace (`bench.synthetic`), for one size at a time.

- cold index and no-op re-index: whole `forge-lsp index` processes, `--jobs 2`, peak RSS of the
  process tree (`bench.index_bench.run_index`); database bytes against source bytes;
- restart with no changes → ready: the real server spawned on the existing database, until
  `forge/status` says ready with nothing pending;
- body edit → fresh and interface edit → fresh: in-process `LiveGraph` on the same database, an
  open buffer edited (`change_document` → `wait_fresh`). The body edit changes a string inside a
  method; the interface edit renames `acme.core.hub.dispatch` back and forth, which every one of
  its `hub_users` caller files must be re-resolved for; after each rename the number of call
  sites that reach the new symbol is checked;
- references and impact (depth 3, at most 1,000 nodes) latency, in-process, on random symbols
  and on the 50 most-referenced ones (`bench.index_bench.query_latency`).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from bench import synthetic
from bench.index_bench import query_latency, run_index
from bench.live_bench import _fresh, _symbol_position, start_live, summarize, wait_idle
from bench.lsp_client import LspError
from bench.peers import Answer, ForgeTool
from bench.sample import Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.parsing.incremental import SourceText

CACHE = Path(__file__).resolve().parent / ".cache"
BARS = {
    "cold_s": 150.0,
    "peak_rss_mb": 500.0,
    "server_rss_mb": 500.0,
    "db_ratio": 2.5,
    "restart_s": 3.0,
    "body_p95_ms": 50.0,
    "interface_p95_ms": 150.0,
    "references_p95_ms": 10.0,
    "impact_p95_ms": 100.0,
}


def workspace(files: int, seed: int = 0, cache: Path = CACHE) -> Path:
    """The synthetic workspace of that size, written once and reused while its digest holds."""
    root = cache / f"synthetic-{files}-s{seed}"
    stamp = root / ".digest"
    want = synthetic.digest(files, seed)
    if stamp.exists() and stamp.read_text() == want:
        return root
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    synthetic.write_workspace(root, files, seed)
    stamp.write_text(want)
    return root


def _dbfiles(db: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)


def edits(root: Path, db: Path, files: int, body_edits: int, renames: int) -> dict[str, Any]:
    """Body and interface edits in open buffers, in-process."""
    live, ready_s = start_live(root, db)
    try:
        hub = (root / synthetic.HUB_PATH).as_posix()
        text = SourceText(Path(hub).read_bytes())
        _fresh(live, live.open_document(hub, text.data))
        name_row, name_col = _symbol_position(text.data, rb"^def (dispatch)\(")
        body_row, body_col = _symbol_position(text.data, rb"^    (results) = \[\]")
        body_ms: list[float] = []
        body_reresolved: list[int] = []
        for k in range(body_edits):
            # `results` → `resultz` and back: a body-only change, no other file may move
            new = b"resultz" if k % 2 == 0 else b"results"
            edit = text.edit((body_row, body_col), (body_row, body_col + 7), new)
            started = time.perf_counter()
            _fresh(live, live.change_document(hub, text.data, [edit]))
            body_ms.append((time.perf_counter() - started) * 1000)
            body_reresolved.append(int((live.metrics.last or {}).get("reresolvedFiles", -1)))
        name = "dispatch"
        rename_ms: list[float] = []
        reresolved: list[int] = []
        consistent = 0
        expected_users = synthetic.hub_users(files)
        for _ in range(renames):
            new_name = "dispatch_b" if name == "dispatch" else "dispatch"
            edit = text.edit(
                (name_row, name_col), (name_row, name_col + len(name)), new_name.encode()
            )
            started = time.perf_counter()
            _fresh(live, live.change_document(hub, text.data, [edit]))
            rename_ms.append((time.perf_counter() - started) * 1000)
            reresolved.append(int((live.metrics.last or {}).get("reresolvedFiles", -1)))
            name = new_name
            calls = _hub_callers(db, hub, name)
            if calls == (expected_users if name == "dispatch" else 0):
                consistent += 1
        _fresh(live, live.close_document(hub))
        wait_idle(live)
    finally:
        live.close(timeout=60)
    return {
        "live_start_s": round(ready_s, 2),
        "body_ms": summarize(body_ms),
        "body_reresolved_max": max(body_reresolved, default=None),
        "interface_ms": summarize(rename_ms),
        "interface_reresolved": sorted(set(reresolved)),
        "hub_users": expected_users,
        "interface_consistent": f"{consistent}/{renames}",
        "body_samples_ms": [round(t, 2) for t in body_ms],
        "interface_samples_ms": [round(t, 2) for t in rename_ms],
    }


def _hub_callers(db: Path, hub: str, name: str) -> int:
    """Files whose call sites reach `hub.<name>`, per the graph as committed."""
    query = GraphQuery.open(db)
    try:
        sym = next(
            (s for s in query.file_symbols(hub) if s.kind == "function" and s.name == name), None
        )
        if sym is None:
            return 0
        refs = query.references(sym, include_declaration=False)
        return len({r.location.path for r in refs if r.role == "call"})
    finally:
        query.close()


def _answered(ask: Callable[[], Answer]) -> Answer:
    """Ask until answered: ContentModified (not fresh yet) is asked again."""
    while True:
        try:
            return ask()
        except LspError:
            time.sleep(0.01)


_LIVE_EDITS = 100  # typed into the hub once the first answer is in; two of them renames


def _live_edits(tool: ForgeTool, hub: bytes, symbol: Symbol) -> int:
    """Edits to the open hub, each answered by a references request: body edits (`results`
    → `resultz` and back), and at the middle one interface edit, `dispatch` renamed, that
    re-resolves every caller, and its undo. The server holds the whole program by then."""
    body_row, body_col = _symbol_position(hub, rb"^    (results) = \[\]")
    name_row, name_col = _symbol_position(hub, rb"^def (dispatch)\(")
    for k in range(_LIVE_EDITS):
        if k == _LIVE_EDITS // 2:
            edit = ((name_row, name_col), (name_row, name_col + 8), "dispatch_b")
        elif k == _LIVE_EDITS // 2 + 1:
            edit = ((name_row, name_col), (name_row, name_col + 10), "dispatch")
        else:
            new = "resultz" if k % 2 == 0 else "results"
            edit = ((body_row, body_col), (body_row, body_col + 7), new)
        try:
            tool.keystroke(symbol, symbol.path, k + 2, edit)
        except LspError:  # ContentModified: the first edit waits for the whole program
            _answered(partial(tool.references, symbol))
    return _LIVE_EDITS


def restart(root: Path, db: Path, runs: int) -> dict[str, Any]:
    """The real server on an up-to-date database: spawn → ready, its RSS once ready, and spawn
    → the first call hierarchy answer after opening a file (ContentModified answers, asked
    again, do not count): a model still loading must not make the editor wait (issue 15).
    Then, on the first run, 100 live edits (`_live_edits`): the server's peak RSS over all."""
    seconds: list[float] = []
    first: list[float] = []
    rss: list[float] = []
    ready_rss: list[float] = []
    hub = (root / synthetic.HUB_PATH).read_bytes()
    row, col = _symbol_position(hub, rb"^def (dispatch)\(")
    symbol = Symbol(synthetic.HUB_PATH, row + 1, col + 1, "dispatch", "function", "dispatch")
    for _ in range(runs):
        tool = ForgeTool(root, db)
        try:
            seconds.append(tool.wait_ready())
            _ms, calls = _answered(partial(tool.incoming, symbol))
            first.append(time.monotonic() - tool.spawned)
            if not calls:
                raise RuntimeError("the hub's dispatch has no incoming calls")
            ready_rss.append(tool.peak_mb)
            if len(rss) == 0:
                _live_edits(tool, hub, symbol)
        finally:
            rss.append(tool.close())
    return {
        "seconds": [round(s, 2) for s in seconds],
        "first_answer_after_open_s": [round(s, 2) for s in first],
        "server_peak_rss_mb": max(ready_rss),
        "live_edits": _LIVE_EDITS,
        "server_peak_rss_after_edits_mb": rss[0],
    }


def measure(
    files: int, work: Path, *, jobs: int = 2, quick: bool = False, seed: int = 0
) -> dict[str, Any]:
    """Every scale figure for one workspace size."""
    root = workspace(files, seed)
    db = work / f"synthetic-{files}.db"
    _dbfiles(db)
    cold = run_index(root, db, jobs)
    noop = run_index(root, db, jobs)
    db_bytes = db.stat().st_size
    src_bytes = sum(p.stat().st_size for p in root.rglob("*.py"))
    summary = cold["summary"]
    result: dict[str, Any] = {
        "files": files,
        "seed": seed,
        "source_mb": round(src_bytes / 1e6, 1),
        "symbols": summary["symbols"],
        "references": summary["references"],
        "resolved_percent": summary["resolvedPercent"],
        "cold_s": cold["wall_s"],
        "cold_phases_s": {k: round(v, 2) for k, v in summary.get("phases", {}).items()},
        "cold_peak_rss_mb": cold["peak_rss_mb"],
        "noop_s": noop["wall_s"],
        "db_mb": round(db_bytes / 1e6, 1),
        "db_ratio": round(db_bytes / src_bytes, 2),
        "refs_per_kb": round(summary["references"] / (src_bytes / 1024), 1),
        "symbols_per_kb": round(summary["symbols"] / (src_bytes / 1024), 2),
    }
    result["restart"] = restart(root, db, 1 if quick else 3)
    result["edits"] = edits(root, db, files, 10 if quick else 40, 4 if quick else 20)
    result["queries"] = query_latency(db, 100 if quick else 300, seed)
    _dbfiles(db)
    return result
