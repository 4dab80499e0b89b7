"""The receiver and type expressions extraction writes and resolution evaluates, parsed.

Extraction cannot know what `self.msg` or `make()` is; it writes down, as text, an expression
that resolution evaluates against the whole program (see parsing.facts.RefFact). The same
little language states a symbol's declared or inferred type (`SymbolFact.type`). Grammar:

    expr  := chain ('|' chain)*          a union: any arm may have the member
    chain := head step*
    head  := '<' LEVEL '|' DOTTED '>'    a module, relative at LEVEL (0: absolute)
           | 'self' | 'super()'          the enclosing class's instance, its bases
           | '&' NAME                    what the pytest fixture NAME gives the test (or
                                         fixture) the expression is used in
           | '{' [expr] ',' [expr] '}'   a container: what iterating it gives, what `c[k]` gives
           | NAME                        a module-level name of the file
    step  := '.' NAME                    an attribute (a variable's value is its declared type)
           | '()'                        a call: a class's instance, a function's return type
           | '[]' | '[i]'                a subscript, an iteration

`cls` in a classmethod is written `self.__class__`, as Python spells it.
Receivers stored by older versions (`models.Model`, `Repo()`, `<1|>.x`) are sentences of it.
Parsing is pure and cached: the same few thousand texts recur across a whole workspace.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

# Parsed forms, as tuples (hashable, small, memoised by text):
#   expression: ("chain", head, steps) or ("union", chains)
#   head: ("module", level, dotted) | ("self",) | ("super",) | ("name", text) | ("fixture", name)
#         | ("container", iteration expression or None, item expression or None)
#   step: ("attr", name) | ("call",) | ("item",) | ("iter",)
Expr = tuple[Any, ...]
Step = tuple[str, ...]
Head = tuple[Any, ...]
Chain = Expr

ATTR, CALL, ITEM, ITER = "attr", "call", "item", "iter"
_CALL: Step = (CALL,)
_ITEM: Step = (ITEM,)
_ITER: Step = (ITER,)
_STOP = ".([|,}"


class ExpressionError(ValueError):
    """Text that is not an expression of the grammar (never written by extraction)."""


@lru_cache(maxsize=1 << 15)
def parse_expression(text: str) -> Expr | None:
    """The parsed expression, or None for text outside the grammar (answered as unknown)."""
    try:
        expr, end = _union(text, 0)
    except ExpressionError:
        return None
    return expr if end == len(text) else None


def _union(text: str, i: int) -> tuple[Expr, int]:
    arms = []
    chain, i = _chain(text, i)
    arms.append(chain)
    while i < len(text) and text[i] == "|":
        chain, i = _chain(text, i + 1)
        arms.append(chain)
    if len(arms) == 1:
        return arms[0], i
    return ("union", tuple(arms)), i


def _chain(text: str, i: int) -> tuple[Chain, int]:
    head, i = _head(text, i)
    steps: list[Step] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == ".":
            name, i = _name(text, i + 1)
            steps.append((ATTR, name))
        elif text.startswith("()", i):
            steps.append(_CALL)
            i += 2
        elif text.startswith("[]", i):
            steps.append(_ITEM)
            i += 2
        elif text.startswith("[i]", i):
            steps.append(_ITER)
            i += 3
        else:
            break
    return ("chain", head, tuple(steps)), i


def _head(text: str, i: int) -> tuple[Head, int]:
    if i >= len(text):
        raise ExpressionError(text)
    c = text[i]
    if c == "<":
        close = text.find(">", i)
        if close < 0:
            raise ExpressionError(text)
        level, bar, dotted = text[i + 1 : close].partition("|")
        if not bar or not level.isdigit():
            raise ExpressionError(text)
        return ("module", int(level), dotted), close + 1
    if c == "{":
        iteration: Expr | None = None
        item: Expr | None = None
        i += 1
        if i < len(text) and text[i] != ",":
            iteration, i = _union(text, i)
        if i >= len(text) or text[i] != ",":
            raise ExpressionError(text)
        i += 1
        if i < len(text) and text[i] != "}":
            item, i = _union(text, i)
        if i >= len(text) or text[i] != "}":
            raise ExpressionError(text)
        return ("container", iteration, item), i + 1
    if text.startswith("super()", i):
        return ("super",), i + 7
    if c == "&":
        name, end = _name(text, i + 1)
        return ("fixture", name), end
    name, end = _name(text, i)
    if name == "self":
        return ("self",), end
    return ("name", name), end


def _name(text: str, i: int) -> tuple[str, int]:
    end = i
    n = len(text)
    while end < n and text[end] not in _STOP:
        end += 1
    if end == i:
        raise ExpressionError(text)
    return text[i:end], end


def depends_on_scope(receiver: str | None) -> bool:
    """Whether an expression's meaning depends on where it is used (`self`, `super()`, a
    fixture's value, found from the test's class outwards): such
    answers are memoised per scope, the rest once per file. ("self" anywhere: a union arm or
    a container may hold it; a name that merely contains it costs a memo entry, not an answer.)
    """
    return receiver is not None and ("self" in receiver or "super()" in receiver or "&" in receiver)
