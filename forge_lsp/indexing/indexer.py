"""Indexing a workspace once, as the command line does: discover, bring the graph up to date, close.

Worker processes read, hash, parse and extract (tree-sitter holds the GIL, so threads would not
help); the GraphUpdater in this process is the one writer. A re-run is incremental: files whose
size and mtime match are not read; files whose content hash matches are not parsed; only
references that could have changed meaning are re-resolved.
"""

from __future__ import annotations

from forge_lsp.config import Settings
from forge_lsp.indexing.report import IndexReport
from forge_lsp.indexing.updater import GraphUpdater, Progress

__all__ = ["IndexReport", "index_workspace"]


def index_workspace(
    settings: Settings,
    *,
    jobs: int | None = None,
    progress: Progress | None = None,
    force: bool = False,
) -> IndexReport:
    updater = GraphUpdater.open(settings, force=force)
    try:
        report, _git = updater.index(workers=jobs or settings.jobs, progress=progress)
    finally:
        updater.close()
    return report
