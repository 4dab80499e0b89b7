"""The `forge-lsp` command line: index a workspace, ask the graph, serve editors.

Every failure a user can cause (bad path, no index, nothing at a position) is one line on stderr
and a non-zero exit status; a traceback only appears with FORGE_LSP_DEBUG=1.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from forge_lsp import render, render_graph
from forge_lsp.cli_graph import (
    EXIT_INTERNAL,
    EXIT_NO_INDEX,
    EXIT_NO_RESULT,
    EXIT_UNANALYSABLE,
    EXIT_USAGE,
    CliError,
    NoIndexError,
    UsageError,
    open_graph,
)
from forge_lsp.cli_options import build_parser
from forge_lsp.config import ConfigError, load_settings
from forge_lsp.graph.impact import LimitError, check_limits, impact_of, roots_for
from forge_lsp.graph.model import Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.graph.store import StoreError

# ----- helpers -------------------------------------------------------------------------------


def _parse_position(text: str) -> tuple[Path, int, int]:
    parts = text.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
        raise UsageError(f"{text}: expected FILE:LINE:COL with 1-based LINE and COL")
    line, col = int(parts[1]), int(parts[2])
    if line < 1 or col < 1:
        raise UsageError(f"{text}: LINE and COL are 1-based")
    return _existing_file(parts[0]), line - 1, col - 1


def _existing_file(text: str) -> Path:
    path = Path(text).expanduser()
    if not path.exists():
        raise UsageError(f"{text}: no such file")
    if not path.is_file():
        raise UsageError(f"{text}: not a file")
    return path.resolve()


def _symbol_at(query: GraphQuery, position: str) -> tuple[Path, Symbol]:
    path, line, col = _parse_position(position)
    if query.file_id(path.as_posix()) is None:
        raise CliError(
            f"{position}: file is not in the index (outside the workspace, excluded, or not indexed yet)"
        )
    sym = query.symbol_at(path.as_posix(), line, col)
    if sym is None:
        raise CliError(f"{position}: no symbol at this position")
    return path, sym


def _print_json(value: object) -> None:
    print(json.dumps(value, ensure_ascii=False))


# ----- commands ------------------------------------------------------------------------------


def cmd_index(args: argparse.Namespace) -> int:
    from forge_lsp.indexing.indexer import index_workspace
    from forge_lsp.indexing.updater import RootRefused

    root = Path(args.root).expanduser()
    if not root.is_dir():
        raise UsageError(f"{args.root}: not a directory")
    if args.jobs is not None and args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    settings = load_settings(root, db=args.db)
    for problem in settings.problems:
        print(f"forge-lsp: warning: {problem}", file=sys.stderr)
    progress = ProgressBar() if sys.stderr.isatty() and not args.json else None
    try:
        report = index_workspace(settings, jobs=args.jobs, progress=progress, force=args.force)
    except RootRefused as exc:
        raise UsageError(f"{exc} (or use --force)") from None
    if progress is not None:
        progress.finish()
    for warning in report.warnings[:20]:
        print(f"forge-lsp: warning: {warning}", file=sys.stderr)
    if len(report.warnings) > 20:
        print(f"forge-lsp: … and {len(report.warnings) - 20} more warnings", file=sys.stderr)
    skipped = ", ".join(f"{n} {reason}" for reason, n in sorted(report.skipped.items()))
    if args.json:
        _print_json(
            {
                "db": str(settings.db_path),
                "files": report.files,
                "parsed": report.parsed,
                "unchanged": report.unchanged,
                "removed": report.removed,
                "reresolvedFiles": report.reresolved_files,
                "symbols": report.symbols,
                "references": report.references,
                "resolvedPercent": round(report.resolved_percent, 1),
                "seconds": round(report.seconds, 3),
                "phases": {k: round(v, 3) for k, v in report.phases.items()},
                "skipped": report.skipped,
                "warnings": report.warnings,
            }
        )
    else:
        print(
            f"{report.files} files ({report.parsed} parsed, {report.unchanged} unchanged,"
            f" {report.removed} removed{', skipped: ' + skipped if skipped else ''}),"
            f" {report.symbols} symbols, {report.references} references,"
            f" {report.resolved_percent:.1f}% resolved, {report.seconds:.2f}s"
        )
    return 0


class ProgressBar:
    """The index's progress on a terminal, from the first moment: finding files, then the files
    parsed (redrawn as the count moves, at most every 0.2 s, not only when the percentage
    does: at 100,000 files 1% is a thousand of them), then the resolution that follows."""

    def __init__(self, out: Any = None, clock: Callable[[], float] = time.monotonic) -> None:
        self.out = out if out is not None else sys.stderr
        self.clock = clock
        self.percent = -1
        self.drawn_at = -1.0
        self._write("indexing: finding files…")

    def __call__(self, done: int, total: int) -> None:
        now = self.clock()
        if done >= total:
            self._write(f"indexing: {total} files parsed; resolving references…")
            return
        percent = 100 * done // total if total else 100
        if percent != self.percent or now - self.drawn_at >= 0.2:
            self.percent, self.drawn_at = percent, now
            bar = "#" * (percent // 4)
            self._write(f"indexing [{bar:<25}] {percent:3d}% {done}/{total} files")

    def _write(self, text: str) -> None:
        self.out.write(f"\r\033[K{text}")
        self.out.flush()

    def finish(self) -> None:
        self.out.write("\r\033[K")
        self.out.flush()


def cmd_refs(args: argparse.Namespace) -> int:
    first = args.positions[0].rsplit(":", 2)[0]
    query = open_graph(args, Path(first).expanduser().resolve(), args.positions)
    status = 0
    for position in args.positions:
        try:
            _path, sym = _symbol_at(query, position)
        except CliError as exc:
            status = max(status, exc.status)
            if args.json:
                _print_json({"query": position, "locations": [], "error": str(exc)})
            else:
                print(f"forge-lsp: {exc}", file=sys.stderr)
            continue
        refs = query.references(
            sym, include_declaration=not args.no_declaration, include_probable=args.probable
        )
        if args.json:
            _print_json(
                {
                    "query": position,
                    "symbol": sym.display_name,
                    "kind": sym.kind,
                    "locations": [
                        {
                            **render.location_json(r.location),
                            "role": r.role,
                            "confidence": r.confidence,
                        }
                        for r in refs
                    ],
                }
            )
        else:
            if len(args.positions) > 1:
                print(f"# {position}: {sym.kind} {sym.display_name}")
            for ref in refs:
                print(render.reference_text(ref))
    return status


def cmd_definition(args: argparse.Namespace) -> int:
    path, line, col = _parse_position(args.position)
    query = open_graph(args, path, [args.position])
    found = query.definition(path.as_posix(), line, col, include_probable=args.probable)
    if not found:
        raise CliError(f"{args.position}: no definition found")
    if args.json:
        _print_json([render.symbol_json(s) for s in found])
    else:
        for sym in found:
            print(render.symbol_text(sym))
    return 0


def cmd_calls(args: argparse.Namespace) -> int:
    query = open_graph(
        args, Path(args.position.rsplit(":", 2)[0]).expanduser().resolve(), [args.position]
    )
    _path, sym = _symbol_at(query, args.position)
    if sym.kind not in _CALLABLE:
        raise CliError(
            f"{args.position}: {sym.kind} {sym.display_name} is not called:"
            " calls need a function, method or class"
        )
    if args.incoming:
        groups = query.incoming_calls(sym, include_probable=args.probable)
    else:
        groups = query.outgoing_calls(sym, include_probable=args.probable)
    if args.json:
        _print_json({"symbol": render.symbol_json(sym), "calls": render.calls_json(groups)})
    elif groups:
        print(render.calls_text(groups, "called" if args.incoming else "calls it"))
    else:
        found = "no callers" if args.incoming else "no calls"
        print(f"forge-lsp: {args.position}: {found} of {sym.display_name}", file=sys.stderr)
    return 0 if groups else EXIT_NO_RESULT


_CALLABLE = ("function", "method", "class")


def _targets(query: GraphQuery, texts: Sequence[str]) -> list[Symbol]:
    """The roots FILE, FILE:LINE and FILE:LINE:COL stand for: a whole file; the innermost
    function, class or variable holding the line (or the position), else the module-level code;
    a name at a position means what it names."""
    roots: list[Symbol] = []
    for text in texts:
        parts = text.rsplit(":", 2)
        numbers = [p for p in parts[1:] if p.isdigit()]
        path_text = text.rsplit(":", len(numbers))[0] if numbers else text
        path = _existing_file(path_text).as_posix()
        if query.file_id(path) is None:
            raise CliError(f"{text}: file is not in the index")
        if not numbers:
            roots.extend(roots_for(query, None, path))
            continue
        line, col = int(numbers[0]) - 1, int(numbers[1]) - 1 if len(numbers) > 1 else None
        if line < 0 or (col is not None and col < 0):
            raise UsageError(f"{text}: LINE and COL are 1-based")
        named = query.symbol_at(path, line, col) if col is not None else None
        sym = named or query.enclosing_symbol(path, line, col)
        if sym is None:
            raise CliError(f"{text}: no symbol here")
        roots.extend(roots_for(query, sym, None) if sym.kind != "module" else [sym])
    return roots


def cmd_impact(args: argparse.Namespace) -> int:
    try:
        check_limits(args.depth, args.max_nodes)
    except LimitError as exc:
        raise UsageError(str(exc)) from None
    if args.graph_nodes < 1:
        raise UsageError("--graph-nodes must be at least 1")
    if args.json and args.format not in ("text", "json"):
        raise UsageError(f"--json and --format {args.format} are exclusive: pick one output")
    first = args.targets[0].rsplit(":", 2)[0]
    query = open_graph(args, Path(first).expanduser().resolve(), args.targets)
    roots = _targets(query, args.targets)
    result = impact_of(
        query, roots, depth=args.depth, max_nodes=args.max_nodes, include_probable=args.probable
    )
    fmt = "json" if args.json else args.format
    if fmt == "json":
        _print_json(render.impact_json(result))
    elif fmt == "mermaid":
        print(render_graph.impact_mermaid(result, args.graph_nodes))
    elif fmt == "dot":
        print(render_graph.impact_dot(result, args.graph_nodes))
    else:
        print(render.impact_text(result))
    return 0


def cmd_affected(args: argparse.Namespace) -> int:
    from forge_lsp.changes import report
    from forge_lsp.changes.affected import EXACT_ONLY, RARE_NAMES, Unanalysable
    from forge_lsp.changes.run import AffectedError, run_affected

    if args.diff is not None and args.since is not None:
        raise UsageError("--since and --diff are exclusive: a diff says what changed")
    try:
        probable = RARE_NAMES if args.probable else EXACT_ONLY
        result, base = run_affected(
            Path.cwd(), since=args.since, diff=args.diff, db=args.db, probable=probable
        )
    except AffectedError as exc:
        raise (NoIndexError if exc.index_unreadable else UsageError)(str(exc)) from None
    except Unanalysable as exc:
        print(f"forge-lsp: cannot analyse the change, run every test: {exc}", file=sys.stderr)
        if args.format == "json":
            _print_json(report.unanalysable_json(str(exc), args.since))
        elif args.format == "github":
            print(
                f"::warning::forge-lsp affected: cannot analyse the change, run every test: {exc}"
            )
        return EXIT_UNANALYSABLE
    if args.format == "pytest":
        for line in report.pytest_lines(result):
            print(line)
    elif args.format == "json":
        _print_json(
            report.as_json(result, base, args.since or ("HEAD" if args.diff is None else None))
        )
    elif args.format == "github":
        print("\n".join(report.github(result, base)))
    else:
        print(report.text(result, base))
    return 0


def cmd_symbols(args: argparse.Namespace) -> int:
    query = open_graph(args, Path.cwd())
    found = query.workspace_symbols(args.query, limit=args.limit)
    if args.json:
        _print_json([render.symbol_json(s) for s in found])
    else:
        for sym in found:
            print(render.symbol_text(sym))
    return 0 if found else EXIT_NO_RESULT


def cmd_status(args: argparse.Namespace) -> int:
    query = open_graph(args, Path.cwd())
    status = query.status()
    if args.json:
        _print_json(status)
        return 0
    listed = {"skipped": status.pop("skippedFiles"), "partlyIndexed": status.pop("partlyIndexed")}
    status["partlyIndexed"] = len(listed["partlyIndexed"])
    for key, value in status.items():
        if key == "skipped":
            value = ", ".join(f"{n} {reason}" for reason, n in sorted(value.items())) or "none"
        elif key == "lastIndexTime" and value is not None:
            value = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(float(value)))
        print(f"{key}: {value}")
        for entry in listed.get(key, []):  # which files, and why: nothing is lost silently
            print(f"  {entry['path']}: {entry.get('reason') or entry.get('note')}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    from forge_lsp.server.app import configure_logging
    from forge_lsp.server.main import serve
    from forge_lsp.server.options import LOG_LEVELS

    if args.tcp and args.stdio:
        raise UsageError("--stdio and --tcp are exclusive")
    if not 0 < args.port < 65536:
        raise UsageError("--port must be from 1 to 65535")
    configure_logging(LOG_LEVELS[args.log_level], args.log_file)
    return serve(tcp=args.tcp, host=args.host, port=args.port)


COMMANDS = {
    "index": cmd_index,
    "refs": cmd_refs,
    "definition": cmd_definition,
    "calls": cmd_calls,
    "impact": cmd_impact,
    "affected": cmd_affected,
    "symbols": cmd_symbols,
    "status": cmd_status,
    "serve": cmd_serve,
}


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into the interruption Ctrl-C is: transactions roll back, workers stop."""


def _terminate(signum: int, frame: object) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    handles_term = args.command != "serve" and threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _terminate) if handles_term else None
    try:
        return _run(args)
    finally:
        if handles_term:
            signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    try:
        return COMMANDS[args.command](args)
    except CliError as exc:
        print(f"forge-lsp: {exc}", file=sys.stderr)
        return exc.status
    except StoreError as exc:
        print(f"forge-lsp: {exc}", file=sys.stderr)
        return EXIT_NO_INDEX
    except ConfigError as exc:
        print(f"forge-lsp: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except Terminated:
        print("forge-lsp: terminated; nothing half-written was kept", file=sys.stderr)
        return 143
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # never a traceback for the user, unless asked
        if os.environ.get("FORGE_LSP_DEBUG"):
            raise
        print(
            f"forge-lsp: internal error: {exc!r} (set FORGE_LSP_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
