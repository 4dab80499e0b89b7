"""Turning query answers into text, JSON, Mermaid and Graphviz for the command line.

Positions leave here 1-based (line and column, columns in characters), as editors and compilers
print them; the end column is one past the last character. Paths are printed the same way in text
and in JSON (`display_path`), so a script can open what a person would read.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from forge_lsp.graph.model import (
    CallGroup,
    Edge,
    ImpactNode,
    ImpactResult,
    Location,
    Reference,
    Symbol,
)


def display_path(path: str) -> str:
    """Relative to the current directory when the file is below it, else absolute."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel


def location_json(loc: Location, show: Callable[[str], str] = display_path) -> dict[str, Any]:
    return {
        "path": show(loc.path),
        "line": loc.line + 1,
        "column": loc.col + 1,
        "endLine": loc.end_line + 1,
        "endColumn": loc.end_col + 1,
    }


def location_text(loc: Location) -> str:
    return f"{display_path(loc.path)}:{loc.line + 1}:{loc.col + 1}"


def symbol_json(sym: Symbol) -> dict[str, Any]:
    return {
        "id": sym.id,
        "name": sym.name,
        "qualname": sym.display_name,
        "kind": sym.kind,
        "signature": sym.signature,
        **location_json(sym.selection),
        "range": location_json(sym.range),
    }


def symbol_text(sym: Symbol) -> str:
    return f"{location_text(sym.selection)}: {sym.kind} {sym.display_name}"


def reference_text(ref: Reference) -> str:
    tag = "definition" if ref.is_declaration else ref.role
    probable = " (probable)" if ref.confidence == "probable" else ""
    return f"{location_text(ref.location)}: {tag}{probable}"


def calls_json(groups: list[CallGroup]) -> list[dict[str, Any]]:
    return [
        {
            "symbol": symbol_json(g.symbol),
            "confidence": g.confidence,
            "sites": [location_json(site) for site in g.sites],
        }
        for g in groups
    ]


def calls_text(groups: list[CallGroup], direction: str) -> str:
    lines = []
    for g in groups:
        probable = " (probable)" if g.confidence == "probable" else ""
        lines.append(f"{symbol_text(g.symbol)}{probable}")
        for site in g.sites:
            lines.append(f"    {direction} at {location_text(site)}")
    return "\n".join(lines)


def edge_json(edge: Edge, show: Callable[[str], str] = display_path) -> dict[str, Any]:
    return {
        "from": edge.source,
        "to": edge.target,
        "kind": edge.role,
        "confidence": edge.confidence,
        "location": location_json(edge.location, show),
    }


def impact_json(result: ImpactResult) -> dict[str, Any]:
    groups = result.by_file()
    return {
        "roots": [symbol_json(r) for r in result.roots],
        **walk_json(result),
        "files": [
            {"path": display_path(path), "dependents": [_node_json(n) for n in nodes]}
            for path, nodes in groups.items()
        ],
        "tests": [symbol_json(n.symbol) for n in result.tests],
        "testFiles": [display_path(p) for p in result.test_files],
    }


def walk_json(result: ImpactResult) -> dict[str, Any]:
    """What the walk did: its limits, whether and why it stopped early, what it counted."""
    return {
        "depth": result.depth,
        "truncated": result.truncated is not None,
        "truncatedBy": result.truncated,
        "unexpanded": result.unexpanded,
        "count": len(result.nodes),
        "exactCount": result.exact_count,
        "probableCount": result.probable_count,
    }


def walk_summary(result: ImpactResult) -> str:
    """`12 dependents (10 exact, 2 probable)`, and how the walk stopped when it stopped early."""
    text = (
        f"{len(result.nodes)} dependents ({result.exact_count} exact,"
        f" {result.probable_count} probable)"
    )
    if result.truncated == "depth":
        text += f", cut off at depth {result.depth}: {result.unexpanded} nodes not expanded"
    elif result.truncated == "nodes":
        text += f", cut off at the node limit: {result.unexpanded} nodes not expanded"
    return text


def _node_json(node: ImpactNode) -> dict[str, Any]:
    return {
        "symbol": symbol_json(node.symbol),
        "depth": node.depth,
        "confidence": node.confidence,
        "isTest": node.is_test,
        "chain": [edge_json(e) for e in node.chain],
    }


def impact_text(result: ImpactResult) -> str:
    names = {r.id: r.display_name for r in result.roots}
    names.update({n.symbol.id: n.symbol.display_name for n in result.nodes})
    root_desc = ", ".join(r.display_name for r in result.roots[:3])
    if len(result.roots) > 3:
        root_desc += f", … ({len(result.roots)} symbols)"
    lines = [f"impact of {root_desc}: {walk_summary(result)}"]
    for path, nodes in result.by_file().items():
        lines.append(display_path(path))
        for node in nodes:
            chain = names.get(node.chain[0].target, "?") if node.chain else ""
            for e in node.chain:
                mark = "?" if e.confidence == "probable" else ""
                chain += f" <-{e.role}{mark}- {names.get(e.source, e.source)}"
            test = " [test]" if node.is_test else ""
            lines.append(
                f"  {node.symbol.selection.line + 1}: {node.symbol.kind} {node.symbol.display_name}{test}"
                f"  ({chain})"
            )
    lines.append(f"tests reached: {len(result.tests)} in {len(result.test_files)} files")
    return "\n".join(lines)
