"""The working tree against a revision, asked of git: the one place forge runs git for a diff."""

from __future__ import annotations

import subprocess
from pathlib import Path

from forge_lsp.changes.diff import FileDiff, Hunk, parse_diff


class GitError(RuntimeError):
    """git is missing, the directory is not a work tree, or the revision is unknown."""


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, check=False, timeout=120
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]}: {exc}") from None
    if done.returncode != 0:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]}: {message[-1] if message else 'failed'}")
    return done.stdout.decode("utf-8", "surrogateescape")


def repository_root(directory: Path) -> Path:
    return Path(_git(directory, "rev-parse", "--show-toplevel").strip())


def working_tree_diff(root: Path, rev: str) -> list[FileDiff]:
    """Everything in the work tree that differs from `rev`: staged and unstaged edits, deleted
    and renamed files, and untracked files that are not ignored (as new files)."""
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    except GitError:
        raise GitError(f"{rev}: not a commit in {root}") from None
    text = _git(root, "diff", "--no-color", "--no-ext-diff", "--find-renames", "-U0", rev, "--")
    files = parse_diff(text)
    for rel in _git(root, "ls-files", "--others", "--exclude-standard", "-z").split("\0"):
        if rel:
            files.append(_new_file(root, rel))
    return files


def _new_file(root: Path, rel: str) -> FileDiff:
    try:
        lines = (root / rel).read_bytes().decode("utf-8", "surrogateescape").splitlines()
    except OSError:
        lines = []
    return FileDiff(None, rel, [Hunk(0, 0, 1, len(lines), [], lines)])
