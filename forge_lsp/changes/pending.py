"""The unsaved edit of one open document as a change: what the editor's impact view calls
"body-only change" or "signature changed", classified exactly as `affected` classifies a diff."""

from __future__ import annotations

import difflib

from forge_lsp.changes.diff import FileDiff, Hunk
from forge_lsp.changes.symbols import SymbolChange, changed_symbols


def text_diff(before: str, after: str) -> FileDiff:
    """The hunks that turn `before` into `after`, line by line."""
    old, new = before.splitlines(), after.splitlines()
    diff = FileDiff("a", "b")
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal":
            # unified-diff numbering: an empty range names the line before it
            diff.hunks.append(
                Hunk(
                    i1 + 1 if i2 > i1 else i1,
                    i2 - i1,
                    j1 + 1 if j2 > j1 else j1,
                    j2 - j1,
                    old[i1:i2],
                    new[j1:j2],
                )
            )
    return diff


def pending_changes(path: str, saved: str, edited: str) -> list[SymbolChange]:
    """The symbols the unsaved edit of `path` changes (empty when the buffer is as saved)."""
    if saved == edited:
        return []
    return changed_symbols(text_diff(saved, edited), path, path, saved, edited)
