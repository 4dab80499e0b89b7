"""What an update did, down to the keys of the cached answers it may have changed.

The key vocabulary is shared by the writer, which reports the keys it touched, and the query
cache (forge_lsp.live.cache), whose answers each record the keys they read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# Cache keys: what an answer can depend on, and what an update reports it touched.
Key = tuple[str, int]
ROW = "r"  # ("r", symbol id): the symbol's own row (where it is, its signature)
USERS = "u"  # ("u", symbol id): the references to the symbol
USES = "o"  # ("o", symbol id): the references made from inside the symbol
CHILDREN = "c"  # ("c", symbol id): which symbols it contains
NAME = "n"  # ("n", name id): unresolved references, or symbols, with that name
ALL_SYMBOLS: Key = ("*", 0)  # any symbol row anywhere (symbol search ranks them all)


@dataclass(slots=True)
class FileDelta:
    """What one update did to one file's rows."""

    path: str
    interface_changed: bool
    symbols_added: int = 0
    symbols_removed: int = 0
    symbols_changed: int = 0
    refs_added: int = 0
    refs_removed: int = 0
    seconds: float = 0.0  # writing and resolving it (parsing is counted by whoever parsed)


@dataclass(slots=True)
class IndexReport:
    files: int = 0
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    reresolved_files: int = 0  # files re-resolved, not reparsed, because something they use changed
    reresolved_refs: int = 0  # of their references, those that read what changed
    retargeted: int = 0  # references in those files whose target changed
    interface_changed: int = 0
    symbols: int = 0
    references: int = 0
    resolved: int = 0
    seconds: float = 0.0
    cold: bool = False
    bulk: bool = False  # new files written without cache keys (a cold index, a first-index batch)
    phases: dict[str, float] = field(default_factory=dict)  # where the seconds went
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    deltas: list[FileDelta] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # jobs an update stopped before reading
    touched: set[Key] = field(default_factory=set)  # empty after a cold index: everything is new

    @property
    def resolved_percent(self) -> float:
        return 100.0 * self.resolved / self.references if self.references else 100.0


def ref_keys(keys: set[Key], row: Sequence[Any]) -> None:
    """Keys touched by adding or removing a reference row (see GraphWriter.insert_refs)."""
    target = row[7]
    keys.add((USERS, target) if target is not None else (NAME, row[4]))
    keys.add((USES, row[6]))


def symbol_keys(keys: set[Key], sid: int, parent: int | None, name_id: int, *, moved: bool) -> None:
    """Keys touched by a symbol row added or removed (`moved`), or changed in place."""
    keys.update(((ROW, sid), ALL_SYMBOLS))
    if moved:
        keys.add((NAME, name_id))
        if parent is not None:
            keys.add((CHILDREN, parent))


def retarget_keys(
    keys: set[Key], old: int | None, new: int | None, name_id: int, scope: int
) -> None:
    """Keys touched by a reference that now points elsewhere (re-resolution)."""
    for target in (old, new):
        keys.add((USERS, target) if target is not None else (NAME, name_id))
    keys.add((USES, scope))
