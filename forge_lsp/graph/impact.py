"""Blast radius: everything that transitively depends on some symbols or files.

A breadth-first walk over the reverse dependency edges of graph/dependencies.py, one batch of
indexed lookups per level, to a fixed point unless a depth is asked for, and never past the node
cap. Cycle-safe (a symbol is visited once, at its smallest depth, through the first edge in a
stable order: exact before probable, then by position), so the same graph always gives the same
answer. The answer says whether and why it stopped early, and how many reached nodes it did not
expand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from forge_lsp.graph.dependencies import Dependencies
from forge_lsp.graph.model import EXACT, PROBABLE, Edge, ImpactNode, ImpactResult, Location, Symbol
from forge_lsp.graph.queries import GraphQuery

DEFAULT_MAX_NODES = 10_000
MAX_NODES = 1_000_000
MAX_DEPTH = 10_000


class LimitError(ValueError):
    """A depth or node limit outside what the walk accepts (the CLI and the server alike)."""


def check_limits(depth: int | None, max_nodes: int) -> None:
    if depth is not None and not 1 <= depth <= MAX_DEPTH:
        raise LimitError(f"depth must be from 1 to {MAX_DEPTH} (or unset: to a fixed point)")
    if not 1 <= max_nodes <= MAX_NODES:
        raise LimitError(f"max nodes must be from 1 to {MAX_NODES}")


def roots_for(query: GraphQuery, symbol: Symbol | None, path: str | None) -> list[Symbol]:
    """What a target stands for: a class for itself and its members (changing it can break
    their users), a file for every symbol in it and its module-level code, else the symbol."""
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
    depth: int | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    include_probable: bool = False,
) -> ImpactResult:
    """The impact of one symbol (or of one whole file)."""
    return impact_of(
        query,
        roots_for(query, symbol, path),
        depth=depth,
        max_nodes=max_nodes,
        include_probable=include_probable,
    )


def impact_of(
    query: GraphQuery,
    roots: Sequence[Symbol],
    *,
    depth: int | None = None,
    max_nodes: int = DEFAULT_MAX_NODES,
    include_probable: bool = False,
    probable_names: int = 0,
) -> ImpactResult:
    """The union of the impacts of several roots, walked once. `probable_names`: with
    `include_probable`, follow the probable uses only of names defined at most that many
    times, and at most one on a chain (0: every one of every name)."""
    check_limits(depth, max_nodes)
    unique = {r.id: r for r in roots}
    visited: dict[int, tuple[int, list[Edge], str]] = {sid: (0, [], EXACT) for sid in unique}
    dependencies = Dependencies(query.conn, include_probable, probable_names)
    paths: dict[int, str] = {}
    frontier = sorted(unique)
    truncated: str | None = None
    unexpanded = 0
    level = 0
    while frontier:
        if depth is not None and level >= depth:
            truncated, unexpanded = "depth", len(frontier)
            break
        level += 1
        next_frontier: list[int] = []
        # with rare names only, one guess per chain: a node reached through a probable edge is
        # followed by exact edges only (a guess upon a guess reaches everything, means little)
        certain = [sid for sid in frontier if visited[sid][2] == EXACT] if probable_names else None
        for row in dependencies.of(frontier, certain):
            source = row.source
            if source in visited or source == row.target:
                continue
            if len(visited) - len(unique) >= max_nodes:
                truncated = "nodes"
                break
            parent_depth, parent_path, parent_conf = visited[row.target]
            probable = row.probable or parent_conf == PROBABLE
            path = paths.get(row.file_id)
            if path is None:
                path = paths[row.file_id] = query.file_path(row.file_id)
            edge = Edge(
                source,
                row.target,
                row.kind,
                Location(path, row.line, row.col, row.line, row.end_col),
                PROBABLE if row.probable else EXACT,
            )
            visited[source] = (
                parent_depth + 1,
                [*parent_path, edge],
                PROBABLE if probable else EXACT,
            )
            next_frontier.append(source)
        if truncated:  # this level's nodes were not all followed, the next level's not at all
            unexpanded = len(frontier) + len(next_frontier)
            break
        frontier = next_frontier
    dependent_ids = [sid for sid in visited if sid not in unique]
    symbols = query.symbols(dependent_ids)
    nodes: list[ImpactNode] = []
    for sid in dependent_ids:
        sym = symbols.get(sid)
        if sym is None:
            continue
        node_depth, edge_path, confidence = visited[sid]
        nodes.append(ImpactNode(sym, node_depth, edge_path, confidence, is_test(sym)))
    nodes.sort(key=lambda n: (n.symbol.path, n.symbol.range.line, n.symbol.range.col, n.symbol.id))
    consulted = frozenset(dependencies.consulted)
    return ImpactResult(list(unique.values()), nodes, truncated, depth, unexpanded, consulted)


def is_test(symbol: Symbol) -> bool:
    """A test function as pytest and unittest find them: test* in a test file."""
    return (
        symbol.is_test and symbol.kind in ("function", "method") and symbol.name.startswith("test")
    )
