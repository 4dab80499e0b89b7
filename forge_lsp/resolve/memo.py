"""Memoised answers that remember what they consulted.

Resolution asks the same questions many times ("what is `models` in this file?", "which member
`save` does this class have?") and must also record, for each file it resolves, every file and
module name the answers read (ARCHITECTURE.md, invariant 5). `DependencyRecorder` does both in
one place: an answer is computed once with a fresh set of dependencies, stored with them, and
every later hit adds the same dependencies to the question being computed around it, so a memo
hit records exactly what the first computation did.

Cycles (an import cycle, a class that is its own base, a type that refers to itself) are cut by
storing a guard answer while the computation runs: a re-entrant question gets the guard and
the dependencies gathered so far. Nesting is bounded, so a pathological chain ends in "no
answer" rather than in a RecursionError.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

# What an answer consulted: a file id (its namespace, classes or module name), or a dotted module
# name whose mapping to a file was looked up.
Dep = int | str
Deps = tuple[Dep, ...] | set[Dep]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

MAX_NESTING = 64  # memoised computations inside one another before answering the guard


class DependencyRecorder:
    """The dependency set of the answer being computed, and memoisation that keeps it exact."""

    __slots__ = ("_nesting", "current")

    def __init__(self) -> None:
        self.current: set[Dep] = set()
        self._nesting = 0

    def add(self, dep: Dep) -> None:
        self.current.add(dep)

    @contextmanager
    def collecting(self) -> Iterator[set[Dep]]:
        """Collect what every answer computed inside the block consulted into the yielded set."""
        outer = self.current
        deps: set[Dep] = set()
        self.current = deps
        try:
            yield deps
        finally:
            self.current = outer
            outer.clear()

    def consulted(
        self, into: dict[Dep, set[int]], key: int, compute: Callable[..., V], *args: Any
    ) -> V:
        """`compute(*args)`, with what it consulted filed under `key` (a reference's name id)
        in `into`: per dependency, the names whose answers read it. A change to a file then
        re-resolves only the references that read it, not the whole file. Asked at the top of
        a resolution: what it consulted goes to `into`, not to an enclosing collection."""
        outer = self.current
        deps: set[Dep] = set()
        self.current = deps
        try:
            value = compute(*args)
        finally:
            self.current = outer
        for dep in deps:
            keys = into.get(dep)
            if keys is None:
                into[dep] = {key}
            else:
                keys.add(key)
        return value

    @staticmethod
    def forget(memo: dict[Any, tuple[Any, Deps]], stale: set[Dep]) -> None:
        """Drop the answers that consulted anything in `stale`: every answer records the whole
        closure of what it read, so the others are what they would be if computed now."""
        for key in [k for k, (_value, deps) in memo.items() if not stale.isdisjoint(deps)]:
            del memo[key]

    def memoised(
        self,
        memo: dict[K, tuple[V, Deps]],
        key: K,
        seed: Iterable[Dep],
        guard: V,
        compute: Callable[..., V],
        *args: Any,
    ) -> V:
        """`memo[key]`'s answer, computing it once as `compute(*args)` (no closure to allocate
        on the hot path) with `seed` as its first dependencies.

        While it is computed, asking the same key again answers `guard` (with the dependencies
        seen so far); so does asking anything deeper than MAX_NESTING. The stored dependencies
        are a tuple: a third of a set's memory, and there are hundreds of thousands of them.
        """
        hit = memo.get(key)
        if hit is not None:
            self.current.update(hit[1])
            return hit[0]
        outer = self.current
        deps = set(seed)
        if self._nesting >= MAX_NESTING:
            outer |= deps
            return guard
        memo[key] = (guard, deps)
        self.current = deps
        self._nesting += 1
        try:
            value = compute(*args)
        except BaseException:
            memo.pop(key, None)
            raise
        finally:
            self._nesting -= 1
            self.current = outer
        memo[key] = (value, tuple(deps))
        outer |= deps
        return value
