"""Blast radius: everything that transitively depends on a symbol or a file.

A breadth-first walk over the reverse reference edges (who uses X → the enclosing symbol of each
use), one batched indexed lookup per level. Bounded by depth and by node count, cycle-safe (a
symbol is visited once, at its smallest depth), and ordered by path and position so the same
graph always gives the same answer.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from forge_lsp.graph.model import EXACT, PROBABLE, Edge, ImpactNode, ImpactResult, Location, Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.graph.schema import ROLE_NAMES
from forge_lsp.parsing.facts import FIXTURE_RECEIVER

_EXACT_SQL = (
    "SELECT r.target_id, r.scope_id, r.role, r.file_id, r.line, r.col, r.end_col FROM refs r"
    " WHERE r.target_id IN (SELECT value FROM json_each(?))"
)
_PROBABLE_SQL = (
    "SELECT s.id, r.scope_id, r.role, r.file_id, r.line, r.col, r.end_col FROM symbols s"
    " JOIN refs r ON r.name_id = s.name_id AND r.target_id IS NULL"
    " JOIN names rn ON rn.id = r.receiver_id AND rn.text NOT LIKE '<%'"
    f" AND rn.text != '{FIXTURE_RECEIVER}'"  # a fixture parameter is no probable use
    " WHERE s.id IN (SELECT value FROM json_each(?)) AND s.kind IN ('method', 'field', 'function')"
)


def _roots_for(query: GraphQuery, symbol: Symbol | None, path: str | None) -> list[Symbol]:
    """A class or module stands for its members too: changing it can break their users."""
    if symbol is not None and symbol.kind not in ("class", "module"):
        return [symbol]
    if symbol is not None and symbol.kind == "class":
        ids = [symbol.id]
        frontier = [symbol.id]
        while frontier:
            rows = query.conn.execute(
                "SELECT id FROM symbols WHERE parent_id IN (SELECT value FROM json_each(?))",
                (json.dumps(frontier),),
            ).fetchall()
            frontier = [r[0] for r in rows]
            ids.extend(frontier)
        found = query.symbols(ids)
        return [found[i] for i in ids if i in found]
    file_path = path if path is not None else symbol.path if symbol is not None else None
    return query.file_symbols(file_path) if file_path else []


def impact(
    query: GraphQuery,
    *,
    symbol: Symbol | None = None,
    path: str | None = None,
    depth: int = 3,
    max_nodes: int = 1000,
    include_probable: bool = False,
) -> ImpactResult:
    roots = _roots_for(query, symbol, path)
    visited: dict[int, tuple[int, list[Edge], str]] = {r.id: (0, [], EXACT) for r in roots}
    frontier = sorted(visited)
    truncated = False
    level = 0
    while frontier and level < depth and not truncated:
        level += 1
        next_frontier: list[int] = []
        for edge in _new_edges(query, frontier, visited, include_probable):
            if len(visited) - len(roots) >= max_nodes:
                truncated = True
                break
            parent_depth, parent_path, parent_conf = visited[edge.target]
            confidence = PROBABLE if PROBABLE in (parent_conf, edge.confidence) else EXACT
            visited[edge.source] = (parent_depth + 1, [*parent_path, edge], confidence)
            next_frontier.append(edge.source)
        frontier = next_frontier
    root_ids = {r.id for r in roots}
    dependent_ids = [sid for sid in visited if sid not in root_ids]
    symbols = query.symbols(dependent_ids)
    nodes: list[ImpactNode] = []
    for sid in dependent_ids:
        sym = symbols.get(sid)
        if sym is None:
            continue
        node_depth, edge_path, confidence = visited[sid]
        nodes.append(ImpactNode(sym, node_depth, edge_path, confidence, _is_test(sym)))
    nodes.sort(key=lambda n: (n.symbol.path, n.symbol.range.line, n.symbol.range.col, n.symbol.id))
    return ImpactResult(roots=roots, nodes=nodes, truncated=truncated, depth=depth)


def _is_test(symbol: Symbol) -> bool:
    """A test function as pytest and unittest find them: test* in a test file."""
    return (
        symbol.is_test and symbol.kind in ("function", "method") and symbol.name.startswith("test")
    )


def _new_edges(
    query: GraphQuery,
    frontier: Iterable[int],
    visited: dict[int, Any],
    include_probable: bool,
) -> Iterator[Edge]:
    """The first edge, in a stable order (exact first, then file and position), that reaches
    each not-yet-visited user of the frontier. Rows are sorted as plain tuples and an Edge is
    only built for a new user: a popular symbol has tens of thousands of uses."""
    ids = json.dumps(sorted(frontier))
    rows: list[tuple[Any, ...]] = [(0, *row) for row in query.conn.execute(_EXACT_SQL, (ids,))]
    if include_probable:
        rows.extend((1, *row) for row in query.conn.execute(_PROBABLE_SQL, (ids,)))
    rows.sort(key=lambda r: (r[0], r[4], r[5], r[6]))
    seen: set[int] = set()
    paths: dict[int, str] = {}
    for probable, target, scope, role, file_id, line, col, end_col in rows:
        if scope == target or scope in visited or scope in seen:
            continue
        seen.add(scope)
        path = paths.get(file_id)
        if path is None:
            path = paths[file_id] = query.file_path(file_id)
        yield Edge(
            scope,
            target,
            ROLE_NAMES[role],
            Location(path, line, col, line, end_col),
            PROBABLE if probable else EXACT,
        )
