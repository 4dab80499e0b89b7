"""Walking class hierarchies and other closures in batches: one indexed lookup per level for
every start at once, never one per class."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

import apsw

from forge_lsp.graph.schema import ROLE_CODES

_INHERIT = ROLE_CODES["inherit"]
_IDS = "(SELECT value FROM json_each(?))"


def classes_inheriting(conn: apsw.Connection, class_id: int, member: str) -> list[int]:
    """The class and its subclasses that do not define `member` themselves: where `C(...)`
    runs `C.__init__` (for `member` "__init__")."""
    found, frontier = [class_id], [class_id]
    while frontier:
        rows = conn.execute(
            f"SELECT DISTINCT r.scope_id FROM refs r WHERE r.role = {_INHERIT}"
            f" AND r.target_id IN {_IDS} AND NOT EXISTS (SELECT 1 FROM symbols m"
            " JOIN names mn ON mn.id = m.name_id WHERE m.parent_id = r.scope_id"
            " AND mn.text = ?)",
            (json.dumps(frontier), member),
        ).fetchall()
        frontier = [r[0] for r in rows if r[0] not in found]
        found += frontier
    return found


Key = TypeVar("Key", bound=Hashable)


def closures(
    starts: dict[Key, list[int]],
    step: Callable[[list[int]], Callable[[Key, int], Iterable[int]]],
) -> dict[Key, list[int]]:
    """For each key, its start nodes and all they reach, found level by level for every key
    at once: `step(nodes)` looks up the next level of all of them in one go and returns
    `neighbours(key, node)`. Each list keeps the order nodes were found in."""
    found = {key: list(nodes) for key, nodes in starts.items()}
    frontier = {key: list(nodes) for key, nodes in starts.items()}
    while frontier:
        neighbours = step(sorted({n for nodes in frontier.values() for n in nodes}))
        following: dict[Key, list[int]] = {}
        for key, nodes in frontier.items():
            seen = set(found[key])
            new: list[int] = []
            for node in nodes:
                for m in neighbours(key, node):
                    if m not in seen:
                        seen.add(m)
                        new.append(m)
            if new:
                found[key].extend(new)
                following[key] = new
        frontier = following
    return found
