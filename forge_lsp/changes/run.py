"""One `affected` run from the outside in: find the repository, the index (building it when
there is none yet), the diff; shared by the command line and the pytest plugin."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from forge_lsp.changes.affected import EXACT_ONLY, Affected, affected
from forge_lsp.changes.diff import DiffError, parse_diff
from forge_lsp.changes.git import GitError, repository_root, working_tree_diff
from forge_lsp.config import DB_ENV, ConfigError, Settings, load_settings
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.graph.store import StoreError
from forge_lsp.indexing.indexer import index_workspace


class AffectedError(Exception):
    """A problem the user can fix: no repository, unknown revision, unreadable diff or
    configuration, or (`index_unreadable`) an index that cannot be read."""

    def __init__(self, message: str, index_unreadable: bool = False) -> None:
        super().__init__(message)
        self.index_unreadable = index_unreadable


def run_affected(
    cwd: Path,
    *,
    since: str | None = None,
    diff: str | None = None,
    db: str | None = None,
    probable: str = EXACT_ONLY,
    test_base: Path | None = None,
) -> tuple[Affected, str]:
    """The affected tests and the directory their node ids are relative to (the repository
    root unless `test_base` says otherwise)."""
    try:
        if diff is not None:
            text = (
                sys.stdin.read()
                if diff == "-"
                else Path(diff).read_text("utf-8", "surrogateescape")
            )
            try:
                repo = repository_root(cwd)
            except GitError:
                repo = cwd.resolve()
            diffs = parse_diff(text)
        else:
            repo = repository_root(cwd)
            diffs = working_tree_diff(repo, since or "HEAD")
        settings = _settings(repo, db)
        base = test_base or repo
        return affected(settings, diffs, repo, base, probable=probable), base.as_posix()
    except StoreError as exc:
        raise AffectedError(str(exc), index_unreadable=True) from None
    except (GitError, DiffError, ConfigError, OSError) as exc:
        raise AffectedError(str(exc)) from None


def _settings(repo: Path, db: str | None) -> Settings:
    """The workspace of the index: the one whose database is given or found above the
    repository; else the repository itself, indexed now."""
    explicit = db or os.environ.get(DB_ENV)
    candidates = (
        [Path(explicit)] if explicit else [d / ".forge" / "graph.db" for d in (repo, *repo.parents)]
    )
    for candidate in candidates:
        if candidate.exists():
            query = GraphQuery.open(candidate.resolve())
            try:
                root = query.status().get("root") or repo.as_posix()
            finally:
                query.close()
            return load_settings(Path(str(root)), db=candidate.resolve())
    settings = load_settings(repo, db=explicit)
    print(f"forge-lsp: no index yet: indexing {repo}", file=sys.stderr)
    index_workspace(settings)
    return settings
