"""Which graph a command answers from, and bringing it up to date first; the failures a user
can cause, each with its exit status (cli_options.EXIT_STATUSES says them to users)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from forge_lsp.config import DB_ENV
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.graph.store import StoreError

EXIT_NO_RESULT = 1
EXIT_USAGE = 2
EXIT_NO_INDEX = 3  # and `affected`: the change cannot be analysed; run every test
EXIT_UNANALYSABLE = EXIT_NO_INDEX
EXIT_INTERNAL = 4


class CliError(Exception):
    """A user-facing failure: printed as one line, exits with `status`."""

    status = EXIT_NO_RESULT


class UsageError(CliError):
    """A bad flag, position or path: the command was not what it needs."""

    status = EXIT_USAGE


class NoIndexError(CliError):
    """No graph to answer from, or one that cannot be read."""

    status = EXIT_NO_INDEX


def find_db(explicit: str | None, hint: Path) -> Path:
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get(DB_ENV)
    if env:
        return Path(env).expanduser().resolve()
    start = hint if hint.is_dir() else hint.parent
    cwd = Path.cwd()
    for directory in (start, *start.parents, cwd, *cwd.parents):
        candidate = directory / ".forge" / "graph.db"
        if candidate.exists():
            _warn_if_shadowing(candidate)
            return candidate
    raise NoIndexError(f"no index found above {start}: run `forge-lsp index ROOT` or pass --db")


def _warn_if_shadowing(found: Path) -> None:
    """A nested index (one built inside a subdirectory) answers only for its subtree: say so
    when the project above has its own, rather than answer silently from the smaller one."""
    for directory in found.parent.parent.parents:
        outer = directory / ".forge" / "graph.db"
        if outer.exists():
            print(
                f"forge-lsp: warning: using {found}, nested inside the index {outer};"
                " pass --db to choose",
                file=sys.stderr,
            )
            return


def open_graph(args: argparse.Namespace, hint: Path, asked: Sequence[str] = ()) -> GraphQuery:
    """The graph to answer from, brought up to date with the files on disk first unless
    --no-refresh or a server keeps it; when it cannot be (read-only, locked), only if the
    `asked` positions' files are unchanged (indexing/freshness.py)."""
    from forge_lsp.indexing.freshness import refresh, serving_pid, stale_paths
    from forge_lsp.indexing.updater import RootRefused

    db = find_db(args.db, hint)
    if args.no_refresh or serving_pid(db) is not None:  # a server keeps it fresh itself
        return GraphQuery.open(db)
    try:
        report = refresh(db)
    except (StoreError, RootRefused) as exc:
        query = GraphQuery.open(db)
        stale = stale_paths(query.conn, [_file_of(text) for text in asked])
        if stale:
            query.close()
            raise NoIndexError(
                f"{stale[0]} changed since it was indexed, and the index could not be"
                f" refreshed ({exc}); pass --no-refresh to answer from it as it is"
            ) from None
        return query
    if report is not None and (report.parsed or report.removed):
        print(
            f"forge-lsp: index refreshed: {report.parsed} changed, {report.removed} removed files",
            file=sys.stderr,
        )
    return GraphQuery.open(db)


def _file_of(position: str) -> str:
    """The file of FILE, FILE:LINE or FILE:LINE:COL, absolute, as the graph stores it."""
    text = position
    for _ in range(2):
        head, sep, tail = text.rpartition(":")
        if sep and tail.isdigit():
            text = head
    return Path(text).expanduser().resolve().as_posix()
