"""forge_lsp and its peers behind one interface, so every figure is measured the same way.

Each tool answers `references`, and where it can `incoming` calls and `impact`, for sampled
definitions (`bench.sample.Symbol`), with its wall time; `keystroke` applies one edit to an open
buffer and times the answer to a references request sent right after it (an LSP server handles
messages in order, so that answer reflects the edit); `peak_mb` is the largest RSS of the tool's
process tree so far, sampled every 50 ms.

- forge_lsp and basedpyright: real language servers over stdio (`bench.lsp_client`), utf-16.
- jedi: `Script.get_references` in a worker process (its reference-search limits raised, see
  `bench.oracle_jedi`); a keystroke is a new `Script(code=...)` on the edited text, which is what
  jedi-based servers do on every request.

"First complete answer" is measured from process start: the tool is asked the same question
again and again until it says it is done (forge: `forge/status` ready; basedpyright: its
"Found N source files" log line and 2 s of silence) and two answers in a row agree; the time
reported is when the first answer equal to that final one arrived.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from bench.index_bench import _tree_rss_kb
from bench.lsp_bench import CAPABILITIES, FORGE, symbol_position
from bench.lsp_client import JsonObj, LspClient
from bench.oracle_pyright import SCAN_DONE, configuration_answer, langserver_command
from bench.sample import Symbol
from bench.textpos import Location, corpus_location, path_to_uri

Answer = tuple[float, set[Location] | None]  # (milliseconds, locations; None: no answer)
Edit = tuple[tuple[int, int], tuple[int, int], str]  # (start, end) as (row, utf-16 col), text


class RssSampler:
    """The peak RSS of a process and its children, sampled in a thread until stopped."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.pid = pid
        self.peak_kb = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(interval,), daemon=True)
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            self.peak_kb = max(self.peak_kb, _tree_rss_kb(self.pid))
            self._stop.wait(interval)

    @property
    def peak_mb(self) -> float:
        return round(self.peak_kb / 1024, 1)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join(timeout=5)
        return self.peak_mb


def locations(root: Path, answer: list[JsonObj] | None) -> set[Location]:
    """Normalised locations of a references answer; those outside the corpus are dropped."""
    found: set[Location] = set()
    for item in answer or []:
        loc = corpus_location(root, item["uri"], item["range"]["start"])
        if loc is not None:
            found.add(loc)
    return found


def incoming_locations(root: Path, calls: list[JsonObj] | None) -> set[Location]:
    """Call sites of an `incomingCalls` answer, normalised."""
    found: set[Location] = set()
    for call in calls or []:
        for r in call.get("fromRanges", []):
            loc = corpus_location(root, call["from"]["uri"], r["start"])
            if loc is not None:
                found.add(loc)
    return found


_SETTLE = 2.0  # seconds an answer must stay the same after the tool says it is done


def _last_run(
    answers: list[tuple[float, frozenset[Location]]],
) -> list[tuple[float, frozenset[Location]]]:
    """The trailing answers equal to the last one (the first of them is when it arrived)."""
    final = answers[-1][1]
    run: list[tuple[float, frozenset[Location]]] = []
    for item in reversed(answers):
        if item[1] != final:
            break
        run.append(item)
    return run


class LspTool:
    """A language server under test; subclasses say how it starts and when it is done."""

    name = "lsp"

    def __init__(self, root: Path, command: list[str], options: JsonObj | None = None) -> None:
        self.root = root
        self.spawned = time.monotonic()
        self.client = LspClient(command, configuration_answer, cwd=str(root))
        self.rss = RssSampler(self.client.process.pid)
        uri = path_to_uri(root)
        self.client.request(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": root.name}],
                "capabilities": CAPABILITIES,
                "initializationOptions": options,
            },
            timeout=300,
        )
        self.client.notify("initialized", {})
        self.opened: dict[str, int] = {}

    def done(self) -> bool:
        raise NotImplementedError

    def open(self, rel: str) -> str:
        uri = path_to_uri(self.root / rel)
        if rel not in self.opened:
            text = (self.root / rel).read_text(encoding="utf-8", errors="replace")
            self.client.notify(
                "textDocument/didOpen",
                {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
            )
            self.opened[rel] = 1
        return uri

    def close_all(self) -> None:
        for rel in list(self.opened):
            uri = path_to_uri(self.root / rel)
            self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        self.opened.clear()

    def references(self, symbol: Symbol, timeout: float = 120.0) -> Answer:
        uri = self.open(symbol.path)
        started = time.perf_counter()
        answer = self.client.request(
            "textDocument/references",
            {
                "textDocument": {"uri": uri},
                "position": symbol_position(self.root, symbol),
                "context": {"includeDeclaration": True},
            },
            timeout=timeout,
        )
        return (time.perf_counter() - started) * 1000, locations(self.root, answer)

    def incoming(self, symbol: Symbol, timeout: float = 120.0) -> Answer:
        """prepareCallHierarchy + incomingCalls, timed together (what an editor does)."""
        uri = self.open(symbol.path)
        started = time.perf_counter()
        items = self.client.request(
            "textDocument/prepareCallHierarchy",
            {"textDocument": {"uri": uri}, "position": symbol_position(self.root, symbol)},
            timeout=timeout,
        )
        if not items:
            return (time.perf_counter() - started) * 1000, None
        calls = self.client.request("callHierarchy/incomingCalls", {"item": items[0]}, timeout)
        return (time.perf_counter() - started) * 1000, incoming_locations(self.root, calls)

    def keystroke(self, symbol: Symbol, rel: str, version: int, edit: Edit) -> float:
        """Apply one edit to the open buffer `rel`; ms until the references answer arrives."""
        uri = self.open(rel)
        (srow, scol), (erow, ecol), text = edit
        change = {
            "range": {
                "start": {"line": srow, "character": scol},
                "end": {"line": erow, "character": ecol},
            },
            "text": text,
        }
        started = time.perf_counter()
        self.client.notify(
            "textDocument/didChange",
            {"textDocument": {"uri": uri, "version": version}, "contentChanges": [change]},
        )
        self.client.request(
            "textDocument/references",
            {
                "textDocument": {"uri": path_to_uri(self.root / symbol.path)},
                "position": symbol_position(self.root, symbol),
                "context": {"includeDeclaration": True},
            },
            timeout=120,
        )
        return (time.perf_counter() - started) * 1000

    def first_complete(self, symbol: Symbol, timeout: float = 900.0) -> dict[str, Any]:
        """Ask `symbol`'s references until the tool is done and its answer has not changed for
        `_SETTLE` seconds; when did the final answer first arrive?"""
        answers: list[tuple[float, frozenset[Location]]] = []
        deadline = time.monotonic() + timeout
        done_at: float | None = None
        while time.monotonic() < deadline:
            _ms, found = self.references(symbol, timeout=timeout)
            now = time.monotonic() - self.spawned
            answer = frozenset(found or ())
            if answers and answers[-1][1] != answer:
                done_at = None  # still changing: the settling starts again
            answers.append((now, answer))
            if done_at is None and self.done():
                done_at = now
            if done_at is not None and now - done_at >= _SETTLE:
                first = next(t for t, a in reversed(_last_run(answers)) if a == answer)
                return {"seconds": round(first, 3), "asked": len(answers), "size": len(answer)}
            time.sleep(0.05)
        raise TimeoutError(f"{self.name} gave no settled answer in {timeout} s")

    @property
    def peak_mb(self) -> float:
        return self.rss.peak_mb

    def close(self) -> float:
        """Stop the server; returns its peak RSS in MB."""
        peak = self.rss.stop()
        self.client.close()
        return peak


class ForgeTool(LspTool):
    name = "forge_lsp"

    def __init__(self, root: Path, db: Path) -> None:
        super().__init__(root, FORGE, {"dbPath": str(db)})

    def done(self) -> bool:
        status = self.client.request("forge/status", None, timeout=60)
        return bool(status["state"] == "ready" and status["live"]["pendingUpdates"] == 0)

    def wait_ready(self, timeout: float = 900.0) -> float:
        """Seconds from spawn until the first index is over."""
        deadline = time.monotonic() + timeout
        while not self.done():
            if time.monotonic() > deadline:
                raise TimeoutError("forge_lsp did not become ready")
            time.sleep(0.02)
        return time.monotonic() - self.spawned

    def impact(self, symbol: Symbol, depth: int = 3) -> tuple[float, int]:
        uri = path_to_uri(self.root / symbol.path)
        started = time.perf_counter()
        answer = self.client.request(
            "forge/impact",
            {
                "textDocument": {"uri": uri},
                "position": symbol_position(self.root, symbol),
                "depth": depth,
            },
            timeout=120,
        )
        return (time.perf_counter() - started) * 1000, int(answer.get("count", 0))


class PyrightTool(LspTool):
    name = "basedpyright"

    def __init__(self, root: Path) -> None:
        super().__init__(root, langserver_command())
        self.client.notify("workspace/didChangeConfiguration", {"settings": {}})

    def done(self) -> bool:
        scanned = any(SCAN_DONE.search(text) for text in list(self.client.log_messages))
        return scanned and not self.client.progress_active()


# ----- jedi --------------------------------------------------------------------------------------


def _jedi_worker(conn: Connection, root_str: str) -> None:
    """Worker loop: (symbol, buffer text or None) → (ms, [[path, line, col]] or None, error)."""
    import jedi  # type: ignore[import-untyped]

    from bench.oracle_jedi import configure_jedi, jedi_references

    configure_jedi()
    root = Path(root_str)
    project = jedi.Project(path=root_str)
    while True:
        message = conn.recv()
        if message is None:
            return
        symbol, code = message
        started = time.perf_counter()
        try:
            found = jedi_references(project, root, symbol, code)["locations"]
            conn.send(((time.perf_counter() - started) * 1000, found, None))
        except Exception as exc:  # a peer's failure is data
            conn.send(((time.perf_counter() - started) * 1000, None, repr(exc)[:200]))


class JediTool:
    """jedi in one worker process, asked one symbol at a time, with a time limit."""

    name = "jedi"

    def __init__(self, root: Path, timeout: float = 60.0) -> None:
        self.root = root
        self.timeout = timeout
        self.errors: list[str] = []
        self._start()

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(
            target=_jedi_worker, args=(child, str(self.root)), daemon=True
        )
        self.process.start()
        child.close()
        assert self.process.pid is not None
        self.rss = RssSampler(self.process.pid)
        self._peak = 0.0

    def _ask(self, symbol: Symbol, code: str | None) -> Answer:
        self.conn.send((symbol, code))
        if not self.conn.poll(self.timeout):
            self._peak = max(self._peak, self.rss.stop())
            self.process.kill()
            self.process.join()
            self.errors.append(f"{symbol.key}: timeout after {self.timeout} s")
            self._start()
            return self.timeout * 1000, None
        ms, found, error = self.conn.recv()
        if error is not None:
            self.errors.append(f"{symbol.key}: {error}")
            return ms, None
        return ms, {(p, line, col) for p, line, col in found}

    def references(self, symbol: Symbol, timeout: float = 60.0) -> Answer:
        return self._ask(symbol, None)

    def keystroke_code(self, symbol: Symbol, code: str) -> float:
        return self._ask(symbol, code)[0]

    @property
    def peak_mb(self) -> float:
        return max(self._peak, self.rss.peak_mb)

    def close(self) -> float:
        peak = max(self._peak, self.rss.stop())
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
        return peak


def jedi_first_answer(root: Path, symbol: Symbol, cache_dir: Path) -> dict[str, Any]:
    """A fresh interpreter that imports jedi and answers one references query: spawn → answer.
    parso keeps its parse cache under XDG_CACHE_HOME: an empty one is a cold start."""
    script = (
        "import json, sys, jedi\n"
        "from bench.oracle_jedi import configure_jedi\n"
        "configure_jedi()\n"
        "root, path, line, col = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])\n"
        "names = jedi.Script(path=path, project=jedi.Project(path=root)).get_references(line, col)\n"
        "print(json.dumps(len(names)))\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_dir)}
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            script,
            str(root),
            str(root / symbol.path),
            str(symbol.line),
            str(symbol.column - 1),
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        timeout=900,
        check=False,
    )
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"jedi failed: {done.stderr[-500:]}")
    return {"seconds": round(seconds, 3), "size": json.loads(done.stdout.strip().splitlines()[-1])}


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    value = fn()
    return (time.perf_counter() - started) * 1000, value
