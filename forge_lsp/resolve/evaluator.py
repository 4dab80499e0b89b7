"""The declared-type evaluator: what a receiver expression, or a symbol's type, evaluates to.

Lazy and memoised like the rest of the Program: a symbol's type (its annotation, or what
extraction inferred from `x = C(...)`, `return self` or `return C(...)`) is evaluated the first time
a receiver reaches it, in the symbol's own file, and every answer records what it consulted
(resolve/memo.py), so a type declared in another file makes the reader depend on that file
exactly as a name resolved through its imports does.

Where the line is (ARCHITECTURE.md, "Types"): declared types and single-assignment inference,
no flow analysis beyond `isinstance` narrowing. A variable is what its annotation says, else
what its one binding (or, for a local, the last binding before the use) evaluates to; unions
keep every arm that is a workspace class; generics go as far as "iterating or indexing a
container of C gives C".
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from forge_lsp.parsing.facts import (
    AUTOUSE_MARK,
    CLASS,
    FIELD,
    FIXTURE_MARK,
    FUNCTION,
    IMPLICIT_MARK,
    METHOD,
    PROPERTY_MARK,
    TYPE_MARKS,
    VARIABLE,
)
from forge_lsp.resolve.expressions import ATTR, CALL, ITEM, ITER, Expr, Head, parse_expression
from forge_lsp.resolve.memo import Deps

if TYPE_CHECKING:
    from forge_lsp.resolve.program import Entity, Program

_VALUES = (VARIABLE, FIELD)
_CALLABLES = (FUNCTION, METHOD)


def union_of(entities: list[Entity]) -> Entity | None:
    """One entity for several possibilities (order kept, duplicates dropped)."""
    distinct: list[Entity] = []
    for entity in entities:
        arms = entity[1] if entity[0] == "union" else (entity,)
        for arm in arms:
            if arm not in distinct:
                distinct.append(arm)
    if not distinct:
        return None
    return distinct[0] if len(distinct) == 1 else ("union", tuple(distinct))


def _container_method(parts: tuple[Entity | None, Entity | None], name: str) -> Entity | None:
    """The methods of a container that give its elements back: `d.values()`, `d.keys()`,
    `d.get(k)`, `l.pop()`, `c.copy()`; and `__enter__` of a generator-based context manager
    (`@contextmanager` is the iterator it wraps: entering it gives what it yields). As a
    ("returns", value) entity: calling it gives the value."""
    iterated, item = parts
    if name in ("__enter__", "__aenter__", "__next__"):
        value = iterated
    elif name in ("get", "pop", "setdefault", "__getitem__"):
        value = item
    elif name == "values":
        value = ("elem", (item, item)) if item is not None else None
    elif name == "keys":
        value = ("elem", (iterated, iterated)) if iterated is not None else None
    elif name == "copy":
        value = ("elem", parts)
    else:
        return None
    return ("returns", value) if value is not None else None


class TypeEvaluator:
    """Evaluates expressions (resolve/expressions.py) against a Program's namespaces."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self.reset()

    def reset(self) -> None:
        # per file (dropped by end_file): receivers as written in the file being resolved
        self.receivers: dict[tuple[int, str, int], tuple[Entity | None, Deps]] = {}
        # across files: a symbol's type, per class `self` is bound to (None: its own)
        self.types: dict[tuple[int, int | None], tuple[Entity | None, Deps]] = {}

    # ----- entry points ----------------------------------------------------------------------

    def receiver(self, file_id: int, receiver: str, scope_id: int, scoped: bool) -> Entity | None:
        """What an encoded receiver of file `file_id`, used in `scope_id`, evaluates to."""
        key = (file_id, receiver, scope_id if scoped else -1)
        hit = self.receivers.get(key)
        if hit is not None:
            self.program.deps.current.update(hit[1])
            return hit[0]
        expr = parse_expression(receiver)
        if expr is None:
            return None
        return self.program.deps.memoised(
            self.receivers, key, (file_id,), None, self.evaluate, file_id, expr, scope_id, None
        )

    def symbol_type(self, symbol_id: int, bound: int | None = None) -> Entity | None:
        """The value of a variable or field, the return value of a function, the value of a
        property; `bound` is the class `self` means in it (a method reached on a subclass)."""
        program = self.program
        text = program.symbol_type(symbol_id)
        if not text:
            return None
        if text[0] in TYPE_MARKS:
            text = text[1:]
        expr = parse_expression(text) if text else None
        if expr is None:
            return None
        file_id = program.symbols.file_id(symbol_id)
        return program.deps.memoised(
            self.types,
            (symbol_id, bound),
            (file_id,),
            None,
            self.evaluate,
            file_id,
            expr,
            symbol_id,
            bound,
        )

    def is_property(self, symbol_id: int) -> bool:
        return self.program.symbol_type(symbol_id).startswith(PROPERTY_MARK)

    def is_fixture(self, symbol_id: int) -> bool:
        return self.program.symbol_type(symbol_id)[:1] in (FIXTURE_MARK, AUTOUSE_MARK)

    def is_implicit(self, symbol_id: int) -> bool:
        """An attribute declared only by `self.x = ...` in a method: a declaration of the same
        name in a base class (a property, a method, an annotated or assigned class attribute)
        is what the name means, as a type checker has it."""
        return self.program.symbol_type(symbol_id).startswith(IMPLICIT_MARK)

    # ----- evaluation ------------------------------------------------------------------------

    def evaluate(
        self, file_id: int, expr: Expr, scope_id: int, self_class: int | None
    ) -> Entity | None:
        if expr[0] == "union":
            found = []
            for arm in expr[1]:
                entity = self.evaluate(file_id, arm, scope_id, self_class)
                if entity is not None:
                    found.append(entity)
            return union_of(found)
        _chain, head, steps = expr
        entity = self._head(file_id, head, scope_id, self_class)
        bound: int | None = None
        for step in steps:
            if entity is None:
                return None
            op = step[0]
            if op == ATTR:
                base = self.value(entity)
                bound = base[1] if base is not None and base[0] in ("inst", "sym") else None
                entity = self.member(base, step[1]) if base is not None else None
            elif op == CALL:
                entity = self.call(entity, bound)
                bound = None
            elif op == ITEM:
                entity = self.item(self.value(entity))
                bound = None
            elif op == ITER:
                entity = self.iterate(self.value(entity))
                bound = None
        return entity

    def _head(
        self, file_id: int, head: Head, scope_id: int, self_class: int | None
    ) -> Entity | None:
        program = self.program
        kind = head[0]
        if kind == "name":
            return program.lookup(file_id, head[1])
        if kind == "self":
            cls = self_class if self_class is not None else program.enclosing_class(scope_id)
            return ("inst", cls) if cls is not None else None
        if kind == "super":
            cls = program.enclosing_class(scope_id)
            return ("super", cls) if cls is not None else None
        if kind == "module":
            dotted = program.absolute_module(file_id, head[2], head[1])
            return program.module_entity(dotted) if dotted is not None else None
        if kind == "fixture":
            fixture = program.fixture(file_id, head[1], scope_id)
            return self.symbol_type(fixture) if fixture is not None else None
        if kind == "container":
            parts = [
                self.evaluate(file_id, part, scope_id, self_class) if part is not None else None
                for part in head[1:]
            ]
            if parts[0] is None and parts[1] is None:
                return None
            return ("elem", (parts[0], parts[1]))
        return None

    def value(self, entity: Entity | None) -> Entity | None:
        """What using `entity` as a value gives: a variable's or a property's declared type;
        anything else is its own value."""
        if entity is None:
            return None
        kind, sid = entity
        if kind == "sym":
            symbol_kind = self.program.symbol_kind(sid)
            if symbol_kind in _VALUES or (symbol_kind in _CALLABLES and self.is_property(sid)):
                return self.symbol_type(sid)
            return entity
        if kind == "union":
            return union_of([v for arm in sid if (v := self.value(arm)) is not None])
        return entity

    def member(self, entity: Entity | None, name: str) -> Entity | None:
        """The attribute `name` of a value; of a union, the first arm that has it."""
        if entity is None:
            return None
        if entity[0] == "union":
            for arm in entity[1]:
                found = self.member(arm, name)
                if found is not None:
                    return found
            return None
        if entity[0] == "inst" and name == "__class__":
            return ("sym", entity[1])
        if entity[0] == "elem":
            return _container_method(entity[1], name)
        return self.program.member(entity, name)

    def call(self, entity: Entity | None, bound: int | None = None) -> Entity | None:
        """What calling a value returns: a class's instance, a function's declared or inferred
        return value, an instance's `__call__`."""
        entity = self.value(entity)
        if entity is None:
            return None
        kind, value = entity
        if kind == "sym":
            symbol_kind = self.program.symbol_kind(value)
            if symbol_kind == CLASS:
                return ("inst", value)
            if symbol_kind in _CALLABLES:
                return self.symbol_type(value, bound)
            return None
        if kind == "inst":
            return self._dunder(value, "__call__")
        if kind == "returns":
            return value
        if kind == "union":
            return union_of([r for arm in value if (r := self.call(arm)) is not None])
        return None

    def item(self, entity: Entity | None) -> Entity | None:
        """`c[k]`: a container's item type, or a workspace class's `__getitem__`."""
        if entity is None:
            return None
        kind, value = entity
        if kind == "elem":
            return value[1]
        if kind == "inst":
            return self._dunder(value, "__getitem__")
        if kind == "union":
            return union_of([r for arm in value if (r := self.item(arm)) is not None])
        return None

    def iterate(self, entity: Entity | None) -> Entity | None:
        """`for x in c`: a container's element type, or what a workspace class's `__iter__`
        yields (its `Iterator[C]`, or the `__next__` of the iterator it returns)."""
        if entity is None:
            return None
        kind, value = entity
        if kind == "elem":
            return value[0]
        if kind == "inst":
            iterator = self._dunder(value, "__iter__")
            if iterator is not None and iterator[0] == "elem":
                return iterator[1][0]
            if iterator is not None and iterator[0] == "inst":
                return self._dunder(iterator[1], "__next__")
            return None
        if kind == "union":
            return union_of([r for arm in value if (r := self.iterate(arm)) is not None])
        return None

    def _dunder(self, class_id: int, name: str) -> Entity | None:
        method = self.program.class_member(class_id, name)
        if method is None or self.program.symbol_kind(method) not in _CALLABLES:
            return None
        return self.symbol_type(method, class_id)
