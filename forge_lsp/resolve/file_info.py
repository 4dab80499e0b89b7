"""What resolution reads of one file: its module names, bindings, imports and declared types.

The bindings (module-level names and the members of the file's classes) are a tuple of names
beside an array of symbol ids, not a dict per namespace: at 100,000 files the dicts and the int
objects they held were half the program's memory (issue 15). Binding i binds `bound[i]` to the
symbol `symbols[i]` (the file's symbols start with its bindings) in the scope of that symbol's
parent (the module's symbol or a class), in resolution order: definitions first, then by
position, so the first binding met wins. A lookup scans the tuple in C, and every lookup is
memoised by the Program; a file with more than INDEXED_BINDINGS bindings (a large module, a
class with hundreds of members: 7% of Django's files) builds a dict of them by name and scope
on its first lookup, where scanning was 13% of resolving Django; so does one with many typed
symbols, for their types. No file of a generated 100,000-file workspace has either: the dicts
cost memory only where they pay.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass, field
from sys import intern

from forge_lsp.parsing.facts import CLASS, FUNCTION, METHOD, MODULE
from forge_lsp.resolve.symbol_table import SymbolTable

# a module-level import: (module, imported name or None, alias or None, relative level)
ImportStatement = tuple[str, str | None, str | None, int]
# a symbol as the Program is given it: (id, file id, name, kind, parent id, name line,
# name column, type expression or None)
SymbolRow = tuple[int, int, str, str, int | None, int, int, str | None]

_DEFINITIONS = (CLASS, FUNCTION, METHOD)
_SCOPES = (MODULE, CLASS)  # the parents whose children are bindings resolution reads
INDEXED_BINDINGS = 64
INDEXED_TYPES = 16  # the same for typed symbols (an array scan makes an int of each element)


def symbol_order(row: SymbolRow) -> tuple[int, int, int]:
    """Definitions before other bindings, then by position: "the first binding wins"."""
    return (0 if row[3] in _DEFINITIONS else 1, row[5], row[6])


@dataclass(slots=True)
class FileInfo:
    file_id: int
    path: str
    names: list[str]  # every dotted module name the file is importable as; the first is primary
    is_package: bool  # an __init__ file: relative imports start from itself
    exports: list[str] | None = None
    bound: tuple[str, ...] = ()
    imports: list[ImportStatement] = field(default_factory=list)
    module_symbol: int | None = None
    # every symbol of the file, its bindings first (in the order of `bound`)
    symbols: array[int] = field(default_factory=lambda: array("q"))
    # the type expressions of its symbols that have one (resolve/expressions.py), by symbol;
    # most files have none, and share one empty tuple rather than an array each
    typed_ids: Sequence[int] = ()
    types: tuple[str, ...] = ()
    # the bindings by (name, scope), built on the first lookup of a file with many of them
    # (`bound` and the symbols' parents are set once, by add_symbols, before any lookup)
    _by_scope: dict[tuple[str, int | None], list[int]] | None = field(
        default=None, compare=False, repr=False
    )
    # and the types by symbol, built on the first question to a file with many typed symbols
    _types_by_id: dict[int, str] | None = field(default=None, compare=False, repr=False)

    @property
    def module(self) -> str:
        return self.names[0] if self.names else ""

    def add_symbols(self, rows: list[SymbolRow], symbols: SymbolTable) -> None:
        """All the file's symbol rows at once, in `symbol_order`, already in `symbols`."""
        if self.symbols:
            raise ValueError(f"the symbols of {self.path} are added once")
        bound: list[str] = []
        typed: list[str] = []
        typed_ids = array("q")
        others = array("q")
        for sid, _file, name, kind, parent, _line, _col, type_text in rows:
            if type_text:
                typed.append(intern(type_text))
                typed_ids.append(sid)
            if kind == MODULE:
                self.module_symbol = sid
                others.append(sid)
            elif parent is not None and parent in symbols and symbols.kind(parent) in _SCOPES:
                # one string per distinct name: thousands of files bind the same names
                bound.append(intern(name))
                self.symbols.append(sid)
            else:
                others.append(sid)
        self.symbols.extend(others)
        self.bound = tuple(bound)
        self.types = tuple(typed)
        self.typed_ids = typed_ids if typed_ids else ()

    def bound_to(self, name: str, scope: int, symbols: SymbolTable) -> Sequence[int]:
        """The symbols `name` is bound to in `scope` (the module's symbol or a class), first
        binding first."""
        bound = self.bound
        if len(bound) > INDEXED_BINDINGS:
            by_scope = self._by_scope
            if by_scope is None:
                by_scope = self._by_scope = self._index_bindings(symbols)
            return by_scope.get((name, scope), ())
        if name not in bound:
            return ()
        ids = self.symbols
        at = bound.index(name)
        found = [ids[at]] if symbols.parent(ids[at]) == scope else []
        for _ in range(bound.count(name) - 1):
            at = bound.index(name, at + 1)
            if symbols.parent(ids[at]) == scope:
                found.append(ids[at])
        return found

    def _index_bindings(self, symbols: SymbolTable) -> dict[tuple[str, int | None], list[int]]:
        by_scope: dict[tuple[str, int | None], list[int]] = {}
        for name, sid in zip(self.bound, self.symbols, strict=False):
            by_scope.setdefault((name, symbols.parent(sid)), []).append(sid)
        return by_scope

    def symbol_type(self, symbol_id: int) -> str:
        """The type expression of one of the file's symbols, "" when it has none."""
        typed_ids = self.typed_ids
        if len(typed_ids) > INDEXED_TYPES:
            by_id = self._types_by_id
            if by_id is None:
                by_id = self._types_by_id = dict(zip(typed_ids, self.types, strict=True))
            return by_id.get(symbol_id, "")
        if symbol_id not in typed_ids:
            return ""
        return self.types[typed_ids.index(symbol_id)]
