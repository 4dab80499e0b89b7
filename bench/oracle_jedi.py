"""jedi as a references oracle, run in killable worker processes with a per-symbol time limit.

jedi has no cancellation and some symbols take it minutes, so each worker is a separate process;
a query that exceeds its time limit kills that worker (recorded as ``timeout``) and a fresh
worker continues with the rest.
"""

from __future__ import annotations

import multiprocessing
import queue
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.sample import Symbol
from bench.textpos import relativize

RAISED_LIMIT = 100_000
"""Replaces jedi's ``_PARSED_FILE_LIMIT`` (30) and ``_OPENED_FILE_LIMIT`` (2000): Django has
~2,800 files and a references search must be allowed to look at all of them."""

OracleResult = dict[str, Any]
"""``{"status": "ok"|"timeout"|"error", "seconds": float, "locations": [[path, line, col]],
"outside": int, "error": str}``: the cached form of one oracle answer."""


def _bounded_contexts(
    inference_state: Any, module_contexts: Any, name: str, limit_reduction: int = 1
) -> Iterator[Any]:
    """jedi's own ``get_module_contexts_containing_name`` with its stock limits.

    Dynamic parameter inference calls that function too; with the raised limits it would scan the
    whole project for every un-annotated parameter.  Keeping it at jedi's defaults means only the
    *references* search is widened, i.e. jedi otherwise behaves as an editor user sees it.
    """
    from jedi.inference import references  # type: ignore[import-untyped]

    for module_context in module_contexts:
        if not module_context.is_compiled():
            yield module_context
    if len(name) <= 2:
        return
    files = references._find_project_modules(inference_state, module_contexts)
    parse_limit = 30 / limit_reduction
    open_limit = 2000 / limit_reduction
    parsed = 0
    regex = re.compile(r"\b" + re.escape(name) + r"\b")
    for opened, file_io in enumerate(files, start=1):
        found = references._check_fs(inference_state, file_io, regex)
        if found is not None:
            parsed += 1
            yield found
            if parsed >= parse_limit:
                return
        if opened >= open_limit:
            return


def configure_jedi() -> None:
    """Raise jedi's silent reference-search limits (see :data:`RAISED_LIMIT`).

    Also disable parso's in-memory cache eviction: once 600 trees are cached it drops every tree
    not used in the last 10 minutes, but it stamps a freshly parsed tree's "last used" with the
    *file's mtime*, so with old files (any unpacked sdist) it evicts trees jedi is still using and
    jedi dies with ``KeyError`` in ``get_parso_cache_node`` on any name found in 600+ files.
    """
    import parso.cache
    from jedi.inference import dynamic_params, references

    parso.cache._CACHED_SIZE_TRIGGER = 10**9
    references._PARSED_FILE_LIMIT = RAISED_LIMIT
    references._OPENED_FILE_LIMIT = RAISED_LIMIT
    dynamic_params.get_module_contexts_containing_name = _bounded_contexts


def jedi_references(
    project: Any, root: Path, symbol: Symbol, code: str | None = None
) -> OracleResult:
    """Query jedi for one symbol and normalise its names to corpus locations. `code`: the
    text of the symbol's file as an editor buffer holds it (default: the file on disk)."""
    import jedi  # type: ignore[import-untyped]

    start = time.monotonic()
    script = jedi.Script(code=code, path=str(root / symbol.path), project=project)
    names = script.get_references(symbol.line, symbol.column - 1)
    locations = set()
    outside = 0
    for name in names:
        rel = relativize(name.module_path, root) if name.module_path else None
        if rel is None or name.line is None or name.column is None:
            outside += 1
            continue
        locations.add((rel, name.line, name.column + 1))
    return {
        "status": "ok",
        "seconds": round(time.monotonic() - start, 3),
        "locations": [list(loc) for loc in sorted(locations)],
        "outside": outside,
    }


def _worker_main(conn: Connection, root_str: str) -> None:
    """Worker process loop: receive symbols, answer with results, until told to stop (None)."""
    import jedi

    configure_jedi()
    root = Path(root_str)
    project = jedi.Project(path=root_str)
    while True:
        symbol = conn.recv()
        if symbol is None:
            return
        try:
            result = jedi_references(project, root, symbol)
        except Exception as exc:  # an oracle failure is data, not a crash
            result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"}
        conn.send(result)


class _Worker:
    """One jedi process plus the pipe to it; replaced wholesale after a timeout."""

    def __init__(self, root: Path) -> None:
        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child, str(root)), daemon=True)
        self.process.start()
        child.close()

    def ask(self, symbol: Symbol, timeout: float) -> OracleResult | None:
        """Return the worker's answer, or None when it did not answer within ``timeout``."""
        self.conn.send(symbol)
        if self.conn.poll(timeout):
            try:
                return self.conn.recv()
            except EOFError:
                return {"status": "error", "error": "jedi worker died"}
        return None

    def stop(self, kill: bool = False) -> None:
        """Stop the worker; ``kill`` for one stuck in a query (jedi cannot be interrupted)."""
        if not kill:
            try:
                self.conn.send(None)
            except OSError:
                kill = True
        if kill:
            self.process.kill()
        self.process.join(timeout=10)
        self.conn.close()


def _drain(
    root: Path,
    todo: queue.Queue[Symbol],
    timeout: float,
    results: dict[str, OracleResult],
    on_result: Callable[[Symbol, OracleResult], None],
) -> None:
    """Thread body: feed symbols to one worker process, replacing it when a query times out."""
    worker = _Worker(root)
    try:
        while True:
            try:
                symbol = todo.get_nowait()
            except queue.Empty:
                return
            answer = worker.ask(symbol, timeout)
            if answer is None:
                worker.stop(kill=True)
                worker = _Worker(root)
                answer = {"status": "timeout", "seconds": timeout}
            results[symbol.key] = answer
            on_result(symbol, answer)
    finally:
        worker.stop()


def run_jedi(
    root: Path,
    symbols: Sequence[Symbol],
    timeout: float = 60.0,
    workers: int = 2,
    on_result: Callable[[Symbol, OracleResult], None] = lambda s, r: None,
) -> dict[str, OracleResult]:
    """Answer every symbol with jedi using ``workers`` parallel processes."""
    todo: queue.Queue[Symbol] = queue.Queue()
    for symbol in symbols:
        todo.put(symbol)
    results: dict[str, OracleResult] = {}
    lock = threading.Lock()

    def locked(symbol: Symbol, result: OracleResult) -> None:
        with lock:
            on_result(symbol, result)

    threads = [
        threading.Thread(target=_drain, args=(root, todo, timeout, results, locked))
        for _ in range(max(1, workers))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
