"""basedpyright as a references oracle, driven as a real language server over stdio.

The server is configured for speed, not diagnostics (type checking off, diagnostics only for open
files): ``textDocument/references`` still searches every file of the workspace, it just does not
check the ones it never needs.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from collections.abc import Callable, Sequence
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
            "textDocument": {"references": {}, "synchronization": {}},
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
        path = self.root / symbol.path
        uri = path_to_uri(path)
        with open(path, encoding="utf-8", errors="replace", newline="") as handle:
            text = handle.read()
        self.client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}},
        )
        start = time.monotonic()
        try:
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
        finally:
            self.client.notify("textDocument/didClose", {"textDocument": {"uri": uri}})
        return self._normalise(raw or [], time.monotonic() - start)

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


def run_pyright(
    root: Path,
    symbols: Sequence[Symbol],
    timeout: float = 120.0,
    log: IO[str] | None = None,
    on_result: Callable[[Symbol, OracleResult], None] = lambda s, r: None,
) -> tuple[dict[str, OracleResult], dict[str, Any]]:
    """Answer every symbol with one basedpyright server.

    Also returns how the run went: the warm-up counts, and the keys of the first symbols whose
    answer changed when asked again at the end (should be empty; non-empty means the early answers
    were partial, and the later ones are kept).
    """
    oracle = PyrightOracle(root, log)
    results: dict[str, OracleResult] = {}
    try:
        warm = oracle.warm_up(symbols[0], timeout=600) if symbols else []
        for symbol in symbols:
            results[symbol.key] = oracle.references(symbol, timeout)
            on_result(symbol, results[symbol.key])
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
