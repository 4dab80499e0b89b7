"""A query cache that forgets exactly the answers an update may have changed.

Answers (references, calls, impact, symbols) are cached by question in an LRU (cachetools). Each
answer remembers the keys it depends on, in the vocabulary of `GraphUpdater`'s report: a
symbol's row, the references to it, the references from inside it, its children, unresolved
uses of a name (probable answers), and ALL_SYMBOLS for symbol search. An update invalidates the
answers whose keys it touched, and nothing else: typing in a function body leaves its outline,
its references and its callers cached, and drops only what reads the references it moved.

A question is asked with the symbol it is about already found (finding the symbol at a position
is a cheap indexed lookup, and positions move with every keystroke); answers hold plain records
from `graph.model`, which callers must treat as read-only.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable
from typing import Any, TypeVar

from cachetools import LRUCache

from forge_lsp.graph.impact import impact
from forge_lsp.graph.model import CallGroup, DocumentSymbol, ImpactResult, Reference, Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.indexing.report import ALL_SYMBOLS, CHILDREN, NAME, ROW, USERS, USES, Key

T = TypeVar("T")


class _Entries(LRUCache[Hashable, tuple[Any, frozenset[Key]]]):
    """An LRU that tells its owner what it evicts, so the reverse index stays exact."""

    def __init__(self, maxsize: int, evicted: Callable[[Hashable, frozenset[Key]], None]) -> None:
        super().__init__(maxsize)
        self._evicted = evicted

    def popitem(self) -> tuple[Hashable, tuple[Any, frozenset[Key]]]:
        key, value = super().popitem()
        self._evicted(key, value[1])
        return key, value


class QueryCache:
    def __init__(self, maxsize: int = 4096) -> None:
        self._lock = threading.Lock()
        self._by_key: dict[Key, set[Hashable]] = {}
        self._entries = _Entries(max(1, maxsize), self._forget)
        self._epoch = 0
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self.invalidated = 0

    def _forget(self, question: Hashable, deps: frozenset[Key]) -> None:
        self.evictions += 1
        self._unindex(question, deps)

    def _unindex(self, question: Hashable, deps: frozenset[Key]) -> None:
        for dep in deps:
            questions = self._by_key.get(dep)
            if questions is not None:
                questions.discard(question)
                if not questions:
                    del self._by_key[dep]

    def get(self, question: Hashable, compute: Callable[[], tuple[T, Iterable[Key]]]) -> T:
        """The cached answer, or compute it (outside the lock) and remember it with its keys."""
        with self._lock:
            found = self._entries.get(question)
            if found is not None:
                self.hits += 1
                return found[0]
            self.misses += 1
            epoch = self._epoch
        answer, deps = compute()
        frozen = frozenset(deps)
        with self._lock:
            # An update landed while computing: the answer may predate it, so it is not kept.
            if epoch == self._epoch and question not in self._entries:
                self._entries[question] = (answer, frozen)
                for dep in frozen:
                    self._by_key.setdefault(dep, set()).add(question)
        return answer

    def invalidate(self, keys: Iterable[Key]) -> int:
        """Drop every answer that depends on any of `keys`; returns how many were dropped."""
        dropped = 0
        with self._lock:
            self._epoch += 1
            for key in keys:
                for question in self._by_key.pop(key, ()):
                    entry = self._entries.pop(question, None)
                    if entry is not None:
                        dropped += 1
                        self._unindex(question, entry[1])
            self.invalidated += dropped
        return dropped

    def clear(self) -> None:
        with self._lock:
            self._epoch += 1
            self.invalidated += len(self._entries)
            self._entries.clear()
            self._by_key.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            asked = self.hits + self.misses
            return {
                "size": len(self._entries),
                "maxSize": int(self._entries.maxsize),
                "hits": self.hits,
                "misses": self.misses,
                "evictions": self.evictions,
                "invalidated": self.invalidated,
                "hitRate": round(self.hits / asked, 4) if asked else None,
            }


def _constructor_keys(query: GraphQuery, symbol: Symbol) -> set[Key]:
    """C(...) is a use of the C.__init__ it runs: the calls of C and of the subclasses that
    inherit it, and whether they still do (a subclass may define its own)."""
    classes = query.constructed_classes(symbol)
    return {(kind, c) for c in classes for kind in (USERS, CHILDREN)}


class CachedQueries:
    """The cached questions, each with the keys its answer depends on."""

    def __init__(self, cache: QueryCache) -> None:
        self.cache = cache

    def references(
        self, query: GraphQuery, symbol: Symbol, *, include_declaration: bool, probable: bool
    ) -> list[Reference]:
        def compute() -> tuple[list[Reference], set[Key]]:
            refs = query.references(
                symbol, include_declaration=include_declaration, include_probable=probable
            )
            deps: set[Key] = {(ROW, symbol.id), (USERS, symbol.id)}
            deps.update(_constructor_keys(query, symbol))
            if probable:
                deps.update((NAME, n) for n in query.name_ids([symbol.id]))
            return refs, deps

        return self.cache.get(("refs", symbol.id, include_declaration, probable), compute)

    def calls(
        self, query: GraphQuery, symbol: Symbol, *, incoming: bool, probable: bool
    ) -> list[CallGroup]:
        def compute() -> tuple[list[CallGroup], set[Key]]:
            fetch = query.incoming_calls if incoming else query.outgoing_calls
            groups = fetch(symbol, include_probable=probable)
            deps: set[Key] = {(ROW, g.symbol.id) for g in groups}
            if incoming:
                deps.add((USERS, symbol.id))
                deps.update(_constructor_keys(query, symbol))
                if probable:
                    deps.update((NAME, n) for n in query.name_ids([symbol.id]))
            else:
                deps.update(((USES, symbol.id), (ROW, symbol.id)))  # its range bounds the calls
                # an attribute it reads becomes a call when its target becomes a property
                deps.update((ROW, target) for target in query.attribute_targets(symbol))
                if probable:
                    deps.add(ALL_SYMBOLS)  # candidates: any symbol named like a call in it
            return groups, deps

        return self.cache.get(("calls", symbol.id, incoming, probable), compute)

    def impact(
        self,
        query: GraphQuery,
        *,
        symbol: Symbol | None,
        path: str | None,
        depth: int | None,
        max_nodes: int,
        probable: bool,
    ) -> ImpactResult:
        def compute() -> tuple[ImpactResult, set[Key]]:
            result = impact(
                query,
                symbol=symbol,
                path=path,
                depth=depth,
                max_nodes=max_nodes,
                include_probable=probable,
            )
            ids = [r.id for r in result.roots] + [n.symbol.id for n in result.nodes]
            deps: set[Key] = {(kind, i) for i in ids for kind in (ROW, USERS)}
            deps.update((USERS, i) for i in result.consulted)
            # the pytest and module-level rules find tests and a file's symbols by where they
            # are: any symbol added, moved or removed can add an edge
            deps.add(ALL_SYMBOLS)
            # a class or a file stands for its members: a new member is a new root
            deps.update((CHILDREN, r.id) for r in result.roots)
            if symbol is not None:
                deps.update(((ROW, symbol.id), (USERS, symbol.id), (CHILDREN, symbol.id)))
            if path is not None:
                module = query.module_symbol(path)
                deps.add((CHILDREN, module.id) if module is not None else ALL_SYMBOLS)
            if probable:
                deps.update((NAME, n) for n in query.name_ids(ids))
            return result, deps

        subject = ("symbol", symbol.id) if symbol is not None else ("file", path)
        return self.cache.get(("impact", subject, depth, max_nodes, probable), compute)

    def document_symbols(self, query: GraphQuery, path: str) -> list[DocumentSymbol]:
        def compute() -> tuple[list[DocumentSymbol], set[Key]]:
            symbols = query.file_symbols(path)
            deps: set[Key] = {(kind, s.id) for s in symbols for kind in (ROW, CHILDREN)}
            return query.document_symbols(path, symbols), deps or {ALL_SYMBOLS}

        return self.cache.get(("document", path), compute)

    def workspace_symbols(self, query: GraphQuery, text: str, limit: int) -> list[Symbol]:
        def compute() -> tuple[list[Symbol], set[Key]]:
            found = query.workspace_symbols(text, limit=limit)
            return found, {ALL_SYMBOLS, *((ROW, s.id) for s in found)}

        return self.cache.get(("workspace", text, limit), compute)
