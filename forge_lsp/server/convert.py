"""Graph records (forge_lsp.graph.model) into LSP objects and the JSON of the custom requests.

Every position leaves the server through `Converter`, which turns code-point columns into the
negotiated encoding with the text of the line (see documents.TextSnapshot) and graph paths into
the URIs the client used for the folder. Nothing here queries the graph.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lsprotocol import types

from forge_lsp.graph.model import (
    CallGroup,
    DocumentSymbol,
    Edge,
    ImpactNode,
    ImpactResult,
    Location,
    Symbol,
)
from forge_lsp.render import walk_json
from forge_lsp.server.documents import TextSnapshot
from forge_lsp.server.workspace import Folder

SYMBOL_KINDS: dict[str, types.SymbolKind] = {
    "module": types.SymbolKind.Module,
    "class": types.SymbolKind.Class,
    "function": types.SymbolKind.Function,
    "method": types.SymbolKind.Method,
    "variable": types.SymbolKind.Variable,
    "field": types.SymbolKind.Field,
}


def symbol_kind(kind: str) -> types.SymbolKind:
    """The LSP kind of a graph symbol kind (unknown kinds from future languages: Variable)."""
    return SYMBOL_KINDS.get(kind, types.SymbolKind.Variable)


def _contains(outer: types.Range, inner: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return (p.line, p.character)

    return key(outer.start) <= key(inner.start) and key(inner.end) <= key(outer.end)


def _union(a: types.Range, b: types.Range) -> types.Range:
    start = min(a.start, b.start, key=lambda p: (p.line, p.character))
    end = max(a.end, b.end, key=lambda p: (p.line, p.character))
    return types.Range(start=start, end=end)


class Converter:
    """Converts for one request: one folder's paths, one snapshot of document text."""

    def __init__(self, folder: Folder, text: TextSnapshot) -> None:
        self.folder = folder
        self.text = text
        self._uris: dict[str, str] = {}

    # ----- positions -------------------------------------------------------------------------

    def uri(self, graph_path: str) -> str:
        uri = self._uris.get(graph_path)
        if uri is None:
            uri = self._uris[graph_path] = Path(self.folder.to_client_path(graph_path)).as_uri()
        return uri

    def position(self, path: str, line: int, column: int) -> types.Position:
        return types.Position(line=line, character=self.text.to_client(path, line, column))

    def range(self, loc: Location) -> types.Range:
        return types.Range(
            start=self.position(loc.path, loc.line, loc.col),
            end=self.position(loc.path, loc.end_line, loc.end_col),
        )

    def location(self, loc: Location) -> types.Location:
        return types.Location(uri=self.uri(loc.path), range=self.range(loc))

    def _ranges(self, sym: Symbol) -> tuple[types.Range, types.Range]:
        """(full range, selection range), the first widened to hold the second as LSP requires."""
        full, selection = self.range(sym.range), self.range(sym.selection)
        return (full if _contains(full, selection) else _union(full, selection)), selection

    # ----- symbols ---------------------------------------------------------------------------

    def call_item(self, sym: Symbol) -> types.CallHierarchyItem:
        full, selection = self._ranges(sym)
        return types.CallHierarchyItem(
            name=sym.name or sym.display_name,
            kind=symbol_kind(sym.kind),
            uri=self.uri(sym.path),
            range=full,
            selection_range=selection,
            detail=sym.signature or sym.display_name,
            data={"id": sym.id, "folder": self.folder.uri, "name": sym.name},
        )

    def incoming(self, groups: list[CallGroup]) -> list[types.CallHierarchyIncomingCall]:
        return [
            types.CallHierarchyIncomingCall(
                from_=self.call_item(g.symbol), from_ranges=[self.range(s) for s in g.sites]
            )
            for g in groups
        ]

    def outgoing(self, groups: list[CallGroup]) -> list[types.CallHierarchyOutgoingCall]:
        return [
            types.CallHierarchyOutgoingCall(
                to=self.call_item(g.symbol), from_ranges=[self.range(s) for s in g.sites]
            )
            for g in groups
        ]

    def document_symbols(self, nodes: list[DocumentSymbol]) -> list[types.DocumentSymbol]:
        out = []
        for node in nodes:
            sym = node.symbol
            full, selection = self._ranges(sym)
            out.append(
                types.DocumentSymbol(
                    name=sym.name or sym.display_name,
                    kind=symbol_kind(sym.kind),
                    range=full,
                    selection_range=selection,
                    detail=sym.signature or None,
                    children=self.document_symbols(node.children),
                )
            )
        return out

    def workspace_symbol(self, sym: Symbol) -> types.WorkspaceSymbol:
        container = sym.qualname.rpartition(".")[0] if "." in sym.qualname else None
        return types.WorkspaceSymbol(
            name=sym.name or sym.display_name,
            kind=symbol_kind(sym.kind),
            location=types.Location(uri=self.uri(sym.path), range=self.range(sym.selection)),
            container_name=container or None,
        )

    # ----- forge/impact ----------------------------------------------------------------------

    def _json_range(self, loc: Location) -> dict[str, Any]:
        r = self.range(loc)
        return {
            "start": {"line": r.start.line, "character": r.start.character},
            "end": {"line": r.end.line, "character": r.end.character},
        }

    def impact_item(self, sym: Symbol) -> dict[str, Any]:
        return {
            "id": sym.id,
            "name": sym.name,
            "qualname": sym.display_name,
            "kind": sym.kind,
            "symbolKind": int(symbol_kind(sym.kind)),
            "detail": sym.signature,
            "uri": self.uri(sym.path),
            "range": self._json_range(sym.range),
            "selectionRange": self._json_range(sym.selection),
        }

    def _edge(self, edge: Edge) -> dict[str, Any]:
        return {
            "from": edge.source,
            "to": edge.target,
            "kind": edge.role,
            "confidence": edge.confidence,
            "location": {"uri": self.uri(edge.location.path), **self._range_only(edge.location)},
        }

    def _range_only(self, loc: Location) -> dict[str, Any]:
        return {"range": self._json_range(loc)}

    def _node(self, node: ImpactNode) -> dict[str, Any]:
        return {
            "symbol": self.impact_item(node.symbol),
            "depth": node.depth,
            "confidence": node.confidence,
            "isTest": node.is_test,
            "chain": [self._edge(e) for e in node.chain],
        }

    def impact(
        self, result: ImpactResult, *, target: dict[str, Any], root: Symbol | None
    ) -> dict[str, Any]:
        """The forge/impact answer; its schema is documented in docs/lsp.md."""
        return {
            "target": target,
            "root": self.impact_item(root) if root is not None else None,
            "roots": [self.impact_item(r) for r in result.roots],
            **walk_json(result),
            "files": [
                {"uri": self.uri(path), "dependents": [self._node(n) for n in nodes]}
                for path, nodes in result.by_file().items()
            ],
            "tests": [self.impact_item(n.symbol) for n in result.tests],
            "testFiles": [self.uri(p) for p in result.test_files],
        }
