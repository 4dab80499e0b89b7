"""What queries return: plain records, free of SQL and of LSP, shared by the CLI and the server.

Lines and columns are 0-based; columns count code points. The server converts to the client's
position encoding, the CLI to 1-based numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

EXACT = "exact"
PROBABLE = "probable"


@dataclass(frozen=True, slots=True)
class Location:
    path: str
    line: int
    col: int
    end_line: int
    end_col: int


@dataclass(frozen=True, slots=True)
class Reference:
    location: Location
    role: str
    confidence: str  # EXACT or PROBABLE
    scope_id: int  # the enclosing symbol: the caller, for a call
    is_declaration: bool = False


@dataclass(frozen=True, slots=True)
class Symbol:
    id: int
    file_id: int
    path: str
    name: str
    qualname: str
    kind: str
    parent_id: int | None
    range: Location
    selection: Location
    signature: str
    is_test: bool = False
    module_name: str = ""  # a module symbol's dotted name (`shop.models`); "" for the others

    @property
    def display_name(self) -> str:
        return self.qualname or self.module_name or self.path.rsplit("/", 1)[-1]


@dataclass(slots=True)
class DocumentSymbol:
    symbol: Symbol
    children: list[DocumentSymbol] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class CallGroup:
    """One caller (incoming) or callee (outgoing) with the exact call sites."""

    symbol: Symbol
    sites: tuple[Location, ...]
    confidence: str


@dataclass(frozen=True, slots=True)
class Edge:
    """`source` depends on `target` through a reference of `role` at `location`."""

    source: int
    target: int
    role: str
    location: Location
    confidence: str


@dataclass(slots=True)
class ImpactNode:
    symbol: Symbol
    depth: int
    chain: list[Edge]  # the edges that reach it, from the root outwards: chain[0].target is a root
    confidence: str
    is_test: bool


@dataclass(slots=True)
class ImpactResult:
    roots: list[Symbol]
    nodes: list[ImpactNode]
    truncated: str | None  # None: the walk reached a fixed point; else "depth" or "nodes"
    depth: int | None  # the depth limit asked for; None: unbounded
    unexpanded: int = 0  # nodes reached whose own dependents were not looked up
    consulted: frozenset[int] = frozenset()  # other symbols whose references the walk read

    @property
    def exact_count(self) -> int:
        return sum(1 for n in self.nodes if n.confidence == EXACT)

    @property
    def probable_count(self) -> int:
        return len(self.nodes) - self.exact_count

    def by_file(self) -> dict[str, list[ImpactNode]]:
        grouped: dict[str, list[ImpactNode]] = {}
        for node in self.nodes:
            grouped.setdefault(node.symbol.path, []).append(node)
        return grouped

    @property
    def tests(self) -> list[ImpactNode]:
        return [n for n in self.nodes if n.is_test]

    @property
    def test_files(self) -> list[str]:
        return sorted({n.symbol.path for n in self.nodes if n.symbol.is_test})
