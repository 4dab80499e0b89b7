"""The system under test, forge_lsp, queried only through its command line.

``forge-lsp index ROOT --db DB --jobs 2`` builds the index; ``forge-lsp refs FILE:LINE:COL ...
--db DB --json [--probable]`` prints one JSON object per line and position.  A non-zero exit is
allowed when some positions fail, so stdout is parsed regardless.  ``forge-lsp calls
FILE:LINE:COL --incoming --db DB --json [--probable]`` takes one position per process and prints
``{"symbol": ..., "calls": [{"symbol": caller, "confidence": ..., "sites": [location]}]}``.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bench.sample import Symbol
from bench.textpos import Location, relativize

BATCH_SIZE = 200
"""Positions per ``refs`` invocation: few processes, but far below any argv size limit."""


def default_forge_command() -> list[str]:
    """``forge-lsp`` next to this interpreter if installed, else ``python -m forge_lsp``."""
    script = Path(sys.executable).with_name("forge-lsp")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "forge_lsp"]


def parse_forge_command(text: str | None) -> list[str]:
    """Split a ``--forge-cmd`` value like a shell would; None means the default command."""
    return shlex.split(text) if text else default_forge_command()


@dataclass
class ForgeAnswer:
    """forge's answer to one position: locations inside the corpus, or an error text."""

    locations: set[Location] = field(default_factory=set)
    error: str | None = None
    outside: int = 0


@dataclass
class ForgeRun:
    """All answers of one forge configuration (exact or probable) plus how the run went."""

    answers: dict[str, ForgeAnswer]
    seconds: float
    exit_codes: list[int]
    stderr_tail: str


def query_string(root: Path, symbol: Symbol) -> str:
    """The CLI position syntax, with an absolute file path so the cwd does not matter."""
    return f"{root / symbol.path}:{symbol.line}:{symbol.column}"


def _resolve(path: str, root: Path) -> str | None:
    """Corpus-relative form of a path forge printed (absolute, or relative to the corpus)."""
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = root / candidate
    return relativize(candidate, root)


def parse_refs_output(stdout: str, root: Path) -> dict[str, ForgeAnswer]:
    """Parse ``refs --json`` output: one object per line, keyed by its ``query`` string.

    Lines that are not JSON objects (log noise) are ignored rather than failing the benchmark;
    an answer without ``query`` cannot be attributed and is dropped.
    """
    answers: dict[str, ForgeAnswer] = {}
    for line in stdout.splitlines():
        line = line.strip()
        if not line.startswith("{"):
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if not isinstance(obj, dict) or "query" not in obj:
            continue
        answer = ForgeAnswer(error=obj.get("error"))
        for item in obj.get("locations") or []:
            rel = _resolve(str(item["path"]), root)
            if rel is None:
                answer.outside += 1
            else:
                answer.locations.add((rel, int(item["line"]), int(item["column"])))
        answers[str(obj["query"])] = answer
    return answers


def _batches(items: Sequence[str], size: int) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def run_index(command: Sequence[str], root: Path, db: Path, jobs: int = 2) -> float:
    """Build forge's index; returns the wall time.  A failing index is fatal for the run."""
    start = time.monotonic()
    argv = [*command, "index", str(root), "--db", str(db), "--jobs", str(jobs)]
    subprocess.run(argv, check=True, cwd=root, stdout=sys.stderr)  # stdout is the report's
    return time.monotonic() - start


def run_refs(
    command: Sequence[str], root: Path, db: Path, symbols: Sequence[Symbol], probable: bool
) -> ForgeRun:
    """Ask forge for all symbols' references in a few batched invocations."""
    queries = {query_string(root, s): s.key for s in symbols}
    answers: dict[str, ForgeAnswer] = {}
    exit_codes: list[int] = []
    stderr_tail = ""
    start = time.monotonic()
    for batch in _batches(list(queries), BATCH_SIZE):
        argv = [*command, "refs", *batch, "--db", str(db), "--json"]
        if probable:
            argv.append("--probable")
        done = subprocess.run(argv, capture_output=True, text=True, cwd=root)
        exit_codes.append(done.returncode)
        stderr_tail = (stderr_tail + done.stderr)[-2000:]
        for query, answer in parse_refs_output(done.stdout, root).items():
            key = queries.get(query) or _key_from_query(query, root)
            if key is not None:
                answers[key] = answer
    return ForgeRun(answers, time.monotonic() - start, exit_codes, stderr_tail)


def _key_from_query(query: str, root: Path) -> str | None:
    """Map an echoed query that was reformatted (e.g. made relative) back to a symbol key."""
    path, _, rest = query.rpartition(":")
    path, _, line = path.rpartition(":")
    rel = _resolve(path, root)
    return f"{rel}:{line}:{rest}" if rel is not None else None


def parse_calls_output(stdout: str, root: Path) -> ForgeAnswer:
    """Parse ``calls --incoming --json``: the call sites of every caller, as one answer."""
    answer = ForgeAnswer()
    try:
        obj = json.loads(stdout)
    except json.JSONDecodeError:
        answer.error = f"not JSON: {stdout[:200]!r}"
        return answer
    for group in obj.get("calls") or []:
        for site in group.get("sites") or []:
            rel = _resolve(str(site["path"]), root)
            if rel is None:
                answer.outside += 1
            else:
                answer.locations.add((rel, int(site["line"]), int(site["column"])))
    return answer


def run_calls(
    command: Sequence[str], root: Path, db: Path, symbols: Sequence[Symbol], probable: bool
) -> ForgeRun:
    """Ask forge for each callable's incoming call sites, one process per position."""
    answers: dict[str, ForgeAnswer] = {}
    exit_codes: list[int] = []
    stderr_tail = ""
    start = time.monotonic()
    for symbol in symbols:
        argv = [*command, "calls", query_string(root, symbol), "--incoming", "--db", str(db)]
        argv += ["--json", *(["--probable"] if probable else [])]
        done = subprocess.run(argv, capture_output=True, text=True, cwd=root)
        exit_codes.append(done.returncode)
        stderr_tail = (stderr_tail + done.stderr)[-2000:]
        if done.returncode != 0:
            answers[symbol.key] = ForgeAnswer(error=done.stderr.strip()[-300:] or "failed")
        else:
            answers[symbol.key] = parse_calls_output(done.stdout, root)
    return ForgeRun(answers, time.monotonic() - start, sorted(set(exit_codes)), stderr_tail)
