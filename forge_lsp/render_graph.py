"""`forge-lsp impact --format dot|mermaid`: the blast radius as a picture that stays readable.

A real change reaches hundreds of symbols, and a graph of all of them renders as a strip no one
can read (692 nodes gave a 2084×32767 PNG) or not at all (mermaid-cli refuses more than 500
edges). So the picture holds the roots and the `max_nodes` dependents nearest them (by depth,
tests first, then file), every path to a shown node stays whole (its steps are nearer, so shown too), and
the rest is one "+N more" node. Symbols are grouped in one box per file, which also tells
apart two `save`s; tests are filled green; the roots are marked.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from forge_lsp.graph.model import ImpactNode, ImpactResult, Symbol
from forge_lsp.render import display_path

GRAPH_NODES = 100  # dependents drawn by default; the rest are counted in one node

_TEST_FILL = "#d9f2d9"
_ROOT_FILL = "#ffe9a8"


@dataclass(slots=True)
class _Picture:
    roots: list[Symbol]
    shown: list[ImpactNode]
    hidden: int
    edges: list[tuple[int, int, str]]  # (dependent, what it uses, role) between shown symbols

    def by_file(self) -> dict[str, list[tuple[Symbol, str]]]:
        """(symbol, style) per file, files in order of first appearance."""
        files: dict[str, list[tuple[Symbol, str]]] = {}
        for root in self.roots:
            files.setdefault(root.path, []).append((root, "root"))
        for node in self.shown:
            style = "test" if node.is_test else "code"
            files.setdefault(node.symbol.path, []).append((node.symbol, style))
        return files


def _picture(result: ImpactResult, max_nodes: int) -> _Picture:
    root_ids = {r.id for r in result.roots}
    nodes = [n for n in result.nodes if n.symbol.id not in root_ids]
    nodes.sort(key=lambda n: (n.depth, not n.is_test, n.symbol.path, n.symbol.range.line))
    shown = nodes[:max_nodes]
    ids = root_ids | {n.symbol.id for n in shown}
    edges = {
        (e.source, e.target, e.role)
        for n in shown
        for e in n.chain
        if e.source in ids and e.target in ids
    }
    return _Picture(list(result.roots), shown, len(nodes) - len(shown), sorted(edges))


def _label(sym: Symbol) -> str:
    return sym.display_name if sym.kind != "module" else f"{sym.display_name} (module)"


def impact_dot(result: ImpactResult, max_nodes: int = GRAPH_NODES) -> str:
    picture = _picture(result, max_nodes)
    lines = [
        "digraph impact {",
        "  rankdir=RL;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];',
    ]
    for index, (path, members) in enumerate(picture.by_file().items()):
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f"    label={json.dumps(display_path(path))}; style=dashed;")
        for sym, style in members:
            extra = {
                "root": f', shape=doubleoctagon, fillcolor="{_ROOT_FILL}", penwidth=2',
                "test": f', fillcolor="{_TEST_FILL}"',
                "code": "",
            }[style]
            lines.append(f"    s{sym.id} [label={json.dumps(_label(sym))}{extra}];")
        lines.append("  }")
    for source, target, role in picture.edges:
        lines.append(f"  s{source} -> s{target} [label={json.dumps(role)}];")
    if picture.hidden:
        lines.append(f'  more [label="+{picture.hidden} more", shape=note, style=dashed];')
        for root in picture.roots:
            lines.append(f"  more -> s{root.id} [style=dashed];")
    lines.append("}")
    return "\n".join(lines)


def impact_mermaid(result: ImpactResult, max_nodes: int = GRAPH_NODES) -> str:
    picture = _picture(result, max_nodes)
    lines = ["graph RL"]
    for index, (path, members) in enumerate(picture.by_file().items()):
        lines.append(f'  subgraph f{index}["{_mermaid_text(display_path(path))}"]')
        for sym, style in members:
            shape = ('{{"', '"}}') if style == "root" else ('["', '"]')
            lines.append(f"    s{sym.id}{shape[0]}{_mermaid_text(_label(sym))}{shape[1]}")
            if style != "code":
                lines.append(f"    class s{sym.id} {style}")
        lines.append("  end")
    for source, target, role in picture.edges:
        lines.append(f"  s{source} -->|{role}| s{target}")
    if picture.hidden:
        lines.append(f'  more["+{picture.hidden} more"]')
        lines.extend(f"  more -.-> s{root.id}" for root in picture.roots)
    lines.append(f"  classDef root fill:{_ROOT_FILL},stroke-width:3px")
    lines.append(f"  classDef test fill:{_TEST_FILL}")
    return "\n".join(lines)


def _mermaid_text(text: str) -> str:
    return text.replace('"', "#quot;")
