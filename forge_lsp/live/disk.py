"""What a batch of "something changed at this path" notices means for the graph.

A watcher reports paths, not what happened: a path may now be a file to read, a directory that
appeared (moved in, checked out) or vanished with everything under it, a file that discovery
would skip (too large, binary, excluded, ignored by git), or a `.gitignore` that changes which
files belong at all. This decides which, with the same rules as discovery.
"""

from __future__ import annotations

import os
import posixpath
import stat
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from forge_lsp.config import Settings
from forge_lsp.graph.writer import FileState
from forge_lsp.indexing.discovery import (
    PathFilter,
    SourceFile,
    check_file,
    discover,
    git_ignored,
    readable_name,
)
from forge_lsp.indexing.worker import Job


class DiskWork(NamedTuple):
    jobs: list[Job]  # files to read and index
    removed: list[str]  # graph paths that are gone, or that discovery would now skip
    rescan: bool  # a .gitignore changed: compare every file with the graph


def disk_work(
    paths: Iterable[str],
    *,
    settings: Settings,
    path_filter: PathFilter,
    states: Mapping[str, FileState],
    skip: set[str],
    git: bool | None,
) -> DiskWork:
    """The work for changed `paths` (absolute); `skip`: open documents, whose buffer rules."""
    prefix = settings.root.as_posix().rstrip("/") + "/"
    jobs: dict[str, Job] = {}
    removed: set[str] = set()
    found: list[SourceFile] = []
    rescan = False
    for raw in paths:
        path = posixpath.normpath(raw)  # `WS/../secrets.py` is not inside WS
        if path in skip or not path.startswith(prefix) or readable_name(path) is not None:
            continue
        rel = path[len(prefix) :]
        if rel.rsplit("/", 1)[-1] == ".gitignore":
            rescan = True  # which files belong may have changed anywhere below it
            continue
        try:
            mode: int | None = os.stat(path).st_mode
        except OSError:
            mode = None
        if mode is None:
            if path in states:
                removed.add(path)
            else:  # perhaps a directory: everything the graph has below it is gone
                below = path + "/"
                removed.update(p for p in states if p.startswith(below) and p not in skip)
        elif stat.S_ISDIR(mode):
            if path_filter.tree_allowed(rel):
                found.extend(
                    f for f in discover(settings, rel, git=git).files if f.path not in skip
                )
        elif path_filter.file_allowed(rel):
            root = settings.root.as_posix()
            checked = check_file(
                path,
                rel,
                settings.max_file_bytes,
                root=root,
                resolve=True,
                follow=settings.follow_symlinks,
            )
            if isinstance(checked, SourceFile):
                found.append(checked)
            elif checked is not None and path in states:
                removed.add(path)  # binary or too large now: out of the graph, like discovery
    if git:
        ignored = git_ignored(settings.root, [f.rel for f in found if f.path not in states])
        found = [f for f in found if f.rel not in ignored]
    for f in found:
        jobs[f.path] = Job(f.path, f.size)  # the updater adds the stored hash
    return DiskWork(list(jobs.values()), sorted(removed - jobs.keys()), rescan)
