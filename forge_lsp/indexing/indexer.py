"""Indexing a workspace once, as the command line does: discover, bring the graph up to date, close.

Worker processes read, hash, parse and extract (tree-sitter holds the GIL, so threads would not
help); the GraphUpdater in this process is the one writer. A re-run is incremental: files whose
size and mtime match are not read; files whose content hash matches are not parsed; only
references that could have changed meaning are re-resolved.
"""

from __future__ import annotations

import time

from forge_lsp.config import Settings
from forge_lsp.graph.store import checkpoint
from forge_lsp.indexing.discovery import discover
from forge_lsp.indexing.report import IndexReport
from forge_lsp.indexing.updater import GraphUpdater, Progress

__all__ = ["IndexReport", "index_workspace"]


def index_workspace(
    settings: Settings, *, jobs: int | None = None, progress: Progress | None = None
) -> IndexReport:
    started = time.perf_counter()
    discovery = discover(settings)
    discovered = time.perf_counter() - started
    updater = GraphUpdater.open(settings)
    try:
        report = updater.sync(discovery, workers=jobs or settings.jobs, progress=progress)
        report.phases["discover"] = discovered
        report.seconds = time.perf_counter() - started
        with updater.conn:
            updater.writer.set_meta({"last_index_seconds": round(report.seconds, 3)})
        checkpoint(updater.conn)
    finally:
        updater.close()
    return report
