"""basedpyright as a references and incoming-calls oracle, driven as a real language server over
stdio.

The server is configured for speed, not diagnostics (type checking off, diagnostics only for open
files): ``textDocument/references`` still searches every file of the workspace, it just does not
check the ones it never needs.

A corpus's own pyright configuration would decide which of its files are the workspace (Flask's
``[tool.pyright] include = ["src", "tests/type_check"]`` leaves its tests and examples out, and
basedpyright then finds half of what jedi finds).  So when a corpus has one, the server runs on a
copy of the corpus whose ``pyrightconfig.json`` (which wins over ``pyproject.toml``) includes
every file; locations are corpus-relative, so answers are the same shape.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from bench.lsp_client import JsonObj, LspClient, LspError, LspTimeout
from bench.oracle_jedi import OracleResult
from bench.sample import Symbol
from bench.textpos import (
    Location,
    corpus_location,
    lsp_position,
    path_to_uri,
)

ANALYSIS_SETTINGS: JsonObj = {
    "typeCheckingMode": "off",
    "diagnosticMode": "openFilesOnly",
    "autoSearchPaths": True,
    "useLibraryCodeForTypes": True,
    "autoImportCompletions": False,
}


SCAN_DONE = re.compile(r"Found \d+ source files?")
"""basedpyright logs this once it has enumerated the workspace's files."""

RECHECK = 5
"""Symbols asked again at the end of a run: a different answer means the early ones were partial."""


def langserver_command() -> list[str]:
    """The basedpyright language server installed next to this interpreter (pip package)."""
    beside = Path(sys.executable).with_name("basedpyright-langserver")
    found = str(beside) if beside.exists() else shutil.which("basedpyright-langserver")
    if found is None:
        raise FileNotFoundError("basedpyright-langserver not found: pip install basedpyright")
    return [found, "--stdio"]


def configuration_answer(item: JsonObj) -> Any:
    """Answer one ``workspace/configuration`` item; unknown sections get an empty object."""
    section = item.get("section") or ""
    if section in ("python.analysis", "basedpyright.analysis"):
        return ANALYSIS_SETTINGS
    if section == "python":
        return {"pythonPath": sys.executable, "analysis": ANALYSIS_SETTINGS}
    if section == "basedpyright":
        return {"analysis": ANALYSIS_SETTINGS}
    return {}


def lsp_location_to_location(location: JsonObj, root: Path) -> Location | None:
    """Normalise an LSP ``Location`` (UTF-16, 0-based) to a corpus location, None if outside."""
    return corpus_location(root, location["uri"], location["range"]["start"])


class PyrightOracle:
    """One basedpyright server for a corpus; ``references`` answers one symbol at a time."""

    def __init__(self, root: Path, log: IO[str] | None = None) -> None:
        self.root = root
        self.client = LspClient(langserver_command(), configuration_answer, log, cwd=str(root))
        self._initialize()

    def _initialize(self) -> None:
        uri = path_to_uri(self.root)
        capabilities = {
            "workspace": {"configuration": True, "workspaceFolders": True},
            "window": {"workDoneProgress": True},
            "general": {"positionEncodings": ["utf-16"]},
            "textDocument": {"references": {}, "synchronization": {}, "callHierarchy": {}},
        }
        self.client.request(
            "initialize",
            {
                "processId": None,
                "rootUri": uri,
                "workspaceFolders": [{"uri": uri, "name": self.root.name}],
                "capabilities": capabilities,
            },
            timeout=120,
        )
        self.client.notify("initialized", {})
        self.client.notify("workspace/didChangeConfiguration", {"settings": {}})

    def warm_up(self, symbol: Symbol, timeout: float) -> list[int]:
        """Wait out the workspace scan, then repeat one query until its answer is stable.

        Answers given before basedpyright has enumerated the workspace miss files (measured:
        1 of 9 references two seconds after start).  The end of the scan is its "Found N source
        files" log line; the repeated query is a second guard.  Returns the successive result
        counts so the report can show what warm-up saw.
        """
        if not self.client.wait_for_log(SCAN_DONE, timeout):
            raise TimeoutError(f"basedpyright did not finish its workspace scan in {timeout} s")
        self.client.wait_quiet(quiet=2.0, timeout=timeout)
        counts: list[int] = []
        for _ in range(5):
            result = self.references(symbol, timeout)
            counts.append(len(result.get("locations", [])))
            if len(counts) >= 2 and counts[-1] == counts[-2]:
                break
            time.sleep(2)
        return counts

    def _position(self, symbol: Symbol) -> JsonObj:
        return lsp_position(self.root, symbol.path, symbol.line, symbol.column)

    def references(self, symbol: Symbol, timeout: float) -> OracleResult:
        """``textDocument/references`` (declaration included) for one symbol, normalised."""
        start = time.monotonic()
        try:
            with self._opened(symbol) as uri:
                raw = self.client.request(
                    "textDocument/references",
                    {
                        "textDocument": {"uri": uri},
                        "position": self._position(symbol),
                        "context": {"includeDeclaration": True},
                    },
                    timeout=timeout,
                )
        except LspTimeout:
            return {"status": "timeout", "seconds": timeout}
        except LspError as exc:
            return {"status": "error", "error": str(exc)}
        return self._normalise(raw or [], time.monotonic() - start)

    def incoming(self, symbol: Symbol, timeout: float) -> OracleResult:
        """``prepareCallHierarchy`` + ``callHierarchy/incomingCalls`` for one symbol: the call
        sites (each ``fromRanges`` start), normalised like references.  No call-hierarchy item
        at the position is an ``ok`` answer with no locations and ``"prepared": false``."""
        start = time.monotonic()
        try:
            with self._opened(symbol) as uri:
                items = self.client.request(
                    "textDocument/prepareCallHierarchy",
                    {"textDocument": {"uri": uri}, "position": self._position(symbol)},
                    timeout=timeout,
                )
                calls = []
                if items:
                    calls = self.client.request(
                        "callHierarchy/incomingCalls", {"item": items[0]}, timeout=timeout
                    )
        except LspTimeout:
            return {"status": "timeout", "seconds": timeout}
        except LspError as exc:
            return {"status": "error", "error": str(exc)}
        sites = [
            {"uri": call["from"]["uri"], "range": r}
            for call in calls or []
            for r in call.get("fromRanges", [])
        ]
        result = self._normalise(sites, time.monotonic() - start)
        result["prepared"] = bool(items)
        return result

    @contextlib.contextmanager
    def _opened(self, symbol: Symbol) -> Iterator[str]:
        """The symbol's file open in the server while the block asks about it; its uri."""
        path = self.root / symbol.path
        uri = path_to_uri(path)
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            text = handle.read()
        self.client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        try:
            yield uri
        finally:
            self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})

    def _normalise(self, raw: list[JsonObj], seconds: float) -> OracleResult:
        locations = set()
        outside = 0
        for item in raw:
            loc = lsp_location_to_location(item, self.root)
            if loc is None:
                outside += 1
            else:
                locations.add(loc)
        return {
            "status": "ok",
            "seconds": round(seconds, 3),
            "locations": [list(loc) for loc in sorted(locations)],
            "outside": outside,
        }

    def close(self) -> None:
        """Stop the server."""
        self.client.close()


_CONFIG_SECTIONS = ("[tool.pyright]", "[tool.basedpyright]")


def has_own_config(root: Path) -> bool:
    """True when the corpus carries a pyright configuration that would narrow the workspace."""
    if (root / "pyrightconfig.json").exists():
        return True
    pyproject = root / "pyproject.toml"
    if not pyproject.exists():
        return False
    text = pyproject.read_text(encoding="utf-8", errors="replace")
    return any(section in text for section in _CONFIG_SECTIONS)


@contextlib.contextmanager
def served_root(root: Path) -> Iterator[Path]:
    """The directory basedpyright serves: ``root`` itself, or a copy of it that includes every
    file when the corpus has its own pyright configuration."""
    if not has_own_config(root):
        yield root
        return
    with tempfile.TemporaryDirectory(prefix="pyright-corpus-") as tmp:
        copy = Path(tmp) / root.name
        shutil.copytree(root, copy, symlinks=True)
        config = {"include": ["."], "typeCheckingMode": "off"}
        (copy / "pyrightconfig.json").write_text(json.dumps(config))
        yield copy


def run_pyright(
    root: Path,
    symbols: Sequence[Symbol],
    timeout: float = 120.0,
    log: IO[str] | None = None,
    on_result: Callable[[Symbol, OracleResult], None] = lambda s, r: None,
    callables: Sequence[Symbol] = (),
    on_calls: Callable[[Symbol, OracleResult], None] = lambda s, r: None,
) -> tuple[dict[str, OracleResult], dict[str, Any]]:
    """Answer every symbol's references (then every callable's incoming calls) with one
    basedpyright server.

    Also returns how the run went: the warm-up counts, and the keys of the first symbols whose
    references changed when asked again at the end (should be empty; non-empty means the early
    answers were partial, and the later ones are kept).
    """
    with served_root(root) as served:
        results, health = _run_pyright(
            served, symbols, timeout, log, on_result, callables, on_calls
        )
    health["own_config_overridden"] = served != root
    return results, health


def _run_pyright(
    root: Path,
    symbols: Sequence[Symbol],
    timeout: float,
    log: IO[str] | None,
    on_result: Callable[[Symbol, OracleResult], None],
    callables: Sequence[Symbol],
    on_calls: Callable[[Symbol, OracleResult], None],
) -> tuple[dict[str, OracleResult], dict[str, Any]]:
    oracle = PyrightOracle(root, log)
    results: dict[str, OracleResult] = {}
    warm_on = symbols[0] if symbols else (callables[0] if callables else None)
    try:
        warm = oracle.warm_up(warm_on, timeout=600) if warm_on is not None else []
        for symbol in symbols:
            results[symbol.key] = oracle.references(symbol, timeout)
            on_result(symbol, results[symbol.key])
        for symbol in callables:
            on_calls(symbol, oracle.incoming(symbol, timeout))
        changed = []
        for symbol in symbols[:RECHECK]:
            again = oracle.references(symbol, timeout)
            if again.get("locations") != results[symbol.key].get("locations"):
                changed.append(symbol.key)
                results[symbol.key] = again  # the later answer saw the whole workspace
                on_result(symbol, again)
    finally:
        oracle.close()
    return results, {"warmup_counts": warm, "recheck_changed": changed}
