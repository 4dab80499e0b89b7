"""Unified diffs, as git and patch write them: which lines of which files changed.

Only what selection needs is kept: each file's old and new path, whether it was added or
deleted, and its hunks (old and new line ranges with the lines themselves), enough to rebuild
the old text from the new one (`old_text`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


class DiffError(ValueError):
    """Text that is not a unified diff forge can read."""


@dataclass(slots=True)
class Hunk:
    old_start: int  # 1-based first line; for an empty range, the line before it
    old_count: int
    new_start: int
    new_count: int
    removed: list[str] = field(default_factory=list)  # the old lines of the range, in order
    added: list[str] = field(default_factory=list)  # the new lines of the range, in order

    def new_lines(self) -> list[tuple[int, str]]:
        """The 0-based new lines this hunk added, with their text."""
        return list(enumerate(self.added, self.new_start - 1)) if self.new_count else []

    def old_lines(self) -> list[tuple[int, str]]:
        """The 0-based old lines this hunk removed, with their text."""
        return list(enumerate(self.removed, self.old_start - 1)) if self.old_count else []


@dataclass(slots=True)
class FileDiff:
    old_path: str | None  # relative to the repository root; None: the file is new
    new_path: str | None  # None: the file was deleted
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""


def parse_diff(text: str) -> list[FileDiff]:
    """The files of a unified diff (`git diff`, `diff -u`); context lines are skipped, so a
    diff made with any `-U` reads the same."""
    files: list[FileDiff] = []
    current: FileDiff | None = None
    hunk: Hunk | None = None
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("diff --git "):
            current = FileDiff(*_git_paths(line))
            files.append(current)
            hunk = None
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _path(line[4:]), _path(lines[i + 1][4:])
            if current is None or current.hunks or hunk is not None:
                current = FileDiff(old, new)
                files.append(current)
            else:
                current.old_path, current.new_path = old, new
            hunk = None
            i += 1
        elif line.startswith("rename from ") and current is not None:
            current.old_path = line[len("rename from ") :]
        elif line.startswith("rename to ") and current is not None:
            current.new_path = line[len("rename to ") :]
        elif line.startswith("new file mode") and current is not None:
            current.old_path = None
        elif line.startswith("deleted file mode") and current is not None:
            current.new_path = None
        elif line.startswith("Binary files ") and current is not None:
            current.binary = True
        elif line.startswith("@@"):
            match = _HUNK.match(line)
            if match is None or current is None:
                raise DiffError(f"line {i + 1}: a hunk header outside a file: {line[:60]}")
            a, b, c, d = match.groups()
            hunk = Hunk(int(a), _count(b), int(c), _count(d))
            current.hunks.append(hunk)
        elif hunk is not None and line[:1] == "-":
            hunk.removed.append(line[1:])
        elif hunk is not None and line[:1] == "+":
            hunk.added.append(line[1:])
        i += 1
    if text.strip() and not files:
        raise DiffError("no file headers (`diff --git` or `---`/`+++`): not a unified diff")
    return files


def _count(text: str | None) -> int:
    return int(text) if text is not None else 1  # "@@ -3 +3 @@": one line


def _git_paths(header: str) -> tuple[str | None, str | None]:
    rest = header[len("diff --git ") :]
    if rest.startswith('"'):
        return None, None  # quoted names: the ---/+++ lines that follow say them
    old, sep, new = rest.partition(" b/")
    if not sep:
        return None, None
    return old.removeprefix("a/"), new


def _path(text: str) -> str | None:
    text = text.split("\t", 1)[0].strip()
    if text.startswith('"') and text.endswith('"'):
        text = text[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
        text = text.encode("latin-1").decode("utf-8", "replace")
    if text == "/dev/null":
        return None
    if text.startswith(("a/", "b/")):
        return text[2:]
    return text


def old_text(new_text: str, diff: FileDiff) -> str:
    """The file before the change: the new text with each hunk's added lines put back as the
    removed ones (a reverse patch, exact because the hunks hold every changed line)."""
    if diff.new_path is None:
        return "".join(f"{line}\n" for h in diff.hunks for line in h.removed)
    if diff.old_path is None:
        return ""
    lines = new_text.splitlines(keepends=True)
    out: list[str] = []
    at = 0  # next new line (0-based) not yet copied
    for hunk in diff.hunks:
        start = hunk.new_start - 1 if hunk.new_count else hunk.new_start
        out.extend(lines[at:start])
        out.extend(f"{line}\n" for line in hunk.removed)
        at = start + hunk.new_count
    out.extend(lines[at:])
    return "".join(out)
