"""Bindings: what each assignment target, parameter and `isinstance` test binds, in which
scope, and with what value (annotation, assignment, `for`, `with`, `except ... as`, narrowing);
module- and class-level names become symbols; which binding a use of a local sees.

Part of the extraction in parsing/python.py (its functions run with the extraction's state);
parsing/python_types.py turns the chosen binding into the expression resolution evaluates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from tree_sitter import Node

from forge_lsp.parsing.facts import FIELD, VARIABLE
from forge_lsp.parsing.python_syntax import (
    LOCAL,
    PARAM,
    SYMBOL,
    Scope,
    attribute_targets,
    binding_identifiers,
    identifiers_in,
    is_type_alias,
    pytest_values,
)

if TYPE_CHECKING:
    from forge_lsp.parsing.python import _FileExtraction

# How a local got its value (Assignment.kind).
ANNOTATED = 0  # `x: T` (a parameter or a variable): declared, wins over every assignment
ASSIGNED = 1  # `x = value`, `(x := value)`
ITERATED = 2  # `for x in value`, `[... for x in value]`
ENTERED = 3  # `with value as x`
AENTERED = 4  # `async with value as x`
CAUGHT = 5  # `except value as x`
UNKNOWN = 6  # a parameter without an annotation, as the function starts
NARROWED = 7  # `isinstance(x, C)` holds from `position` to `end` (an if, a while, an assert)
FIXTURE_VALUE = 8  # a test's (or fixture's) parameter: what the fixture of that name gives
PARAMETRIZED = 9  # a parameter pytest fills from a list (`parametrize`, a fixture's `params`):
# any of its elements (`end`: the place in each element tuple, -1 for the element itself)


class Assignment(NamedTuple):
    """One way a local name got a value: where it takes effect (a byte offset; uses before it
    see earlier assignments), how, and the node that says what."""

    position: int
    kind: int
    node: Node | None
    end: int = -1  # NARROWED: where the narrowing stops holding


def pick(entries: list[Assignment], use: int) -> Assignment:
    """The assignment a use at byte `use` sees: an `isinstance` narrowing that holds there
    (and no assignment since); else a declaration; else the last assignment that took effect
    before the use; else (a use in a loop, before its assignment) the last."""
    before: Assignment | None = None
    declared: Assignment | None = None
    last = entries[0]
    for entry in entries:
        if entry.kind == NARROWED and not entry.position <= use < entry.end:
            continue
        if entry.kind == ANNOTATED:
            declared = entry
            continue
        if entry.position <= use and (before is None or entry.position > before.position):
            before = entry
        if entry.position > last.position:
            last = entry
    if before is not None and before.kind == NARROWED:
        return before
    if declared is not None:
        return declared
    return before if before is not None else last


def narrowing(call: Node) -> tuple[Node, Assignment] | None:
    """`isinstance(x, C)` where it narrows the name x: the condition of an `if` or a `while`
    (in its body, and in the rest of an `and`), `if not isinstance(x, C): return` (after the
    if), `assert isinstance(x, C)` (after the assert); to the end of the enclosing block."""
    args = call.child_by_field_name("arguments")
    values = [a for a in args.named_children if a.type != "comment"] if args else []
    if len(values) != 2 or values[0].type != "identifier":
        return None
    name, classes = values
    node = call
    parent = node.parent
    while parent is not None and parent.type in ("boolean_operator", "parenthesized_expression"):
        operator = parent.child_by_field_name("operator")
        if parent.type == "boolean_operator" and (operator is None or operator.type != "and"):
            return None
        node, parent = parent, parent.parent
    if parent is None:
        return None
    if parent.type in ("if_statement", "elif_clause", "while_statement"):
        body = parent.child_by_field_name(
            "consequence" if parent.type != "while_statement" else "body"
        )
        if body is None or parent.child_by_field_name("condition") != node:
            return None
        return name, Assignment(call.end_byte, NARROWED, classes, body.end_byte)
    if parent.type == "assert_statement" and node == call:
        block = parent.parent
        if block is None:
            return None
        return name, Assignment(parent.end_byte, NARROWED, classes, block.end_byte)
    if parent.type == "not_operator" and node == call:
        statement = parent.parent
        if statement is None or statement.type != "if_statement":
            return None
        if statement.child_by_field_name("condition") != parent:
            return None
        body = statement.child_by_field_name("consequence")
        last = body.named_children[-1] if body is not None and body.named_children else None
        if last is None or last.type not in _EXITS or statement.child_by_field_name("alternative"):
            return None
        block = statement.parent
        if block is None:
            return None
        return name, Assignment(statement.end_byte, NARROWED, classes, block.end_byte)
    return None


_EXITS = frozenset({"return_statement", "raise_statement", "continue_statement", "break_statement"})


def binding_of(target: Node, value: Node | None, statement: Node) -> Assignment | None:
    """How the statement that binds `target` gives it a value, if it does in a way types can
    follow (`x: T`, `x = v`, `for x in v`, `with v as x`, `except v as x`, `(x := v)`)."""
    kind = statement.type
    if kind == "assignment":
        annotation = statement.child_by_field_name("type")
        if annotation is not None:
            return Assignment(-1, ANNOTATED, annotation)
        while value is not None and value.type == "assignment":  # a = b = value
            value = value.child_by_field_name("right")
        return Assignment(value.end_byte, ASSIGNED, value) if value is not None else None
    if kind in ("for_statement", "for_in_clause"):
        iterable = statement.child_by_field_name("right")
        return Assignment(iterable.end_byte, ITERATED, iterable) if iterable is not None else None
    if kind == "named_expression":
        value = statement.child_by_field_name("value")
        return Assignment(value.end_byte, ASSIGNED, value) if value is not None else None
    if kind == "as_pattern" and statement.named_child_count == 2:
        value = statement.named_children[0]
        owner = statement.parent
        if owner is not None and owner.type == "except_clause":
            return Assignment(value.end_byte, CAUGHT, value)
        if owner is not None and owner.type == "with_item":
            statement_node = owner.parent.parent if owner.parent is not None else None
            is_async = statement_node is not None and statement_node.children[0].type == "async"
            return Assignment(value.end_byte, AENTERED if is_async else ENTERED, value)
    return None


def collect_parameters(x: _FileExtraction, params_nodes: list[Node]) -> None:
    for params in params_nodes:
        scope = x.scope_at(params.start_byte)
        fixtures = takes_fixtures(x, scope)
        method = scope.parent is not None and scope.parent.kind == "class"
        values = pytest_values(scope.node) if fixtures and scope.node is not None else {}
        position = 0
        for child in params.named_children:
            ident: Node | None = None
            annotation: Node | None = None
            if child.type == "identifier":
                ident = child
            elif child.type in ("default_parameter", "typed_default_parameter"):
                ident = child.child_by_field_name("name")
                annotation = child.child_by_field_name("type")
            elif child.type == "typed_parameter":
                ident = next((c for c in child.named_children if c.type == "identifier"), None)
                annotation = child.child_by_field_name("type")
                if ident is None:  # *args: T / **kw: T
                    for c in child.named_children:
                        if c.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                            ident = next(iter(identifiers_in(c)), None)
            elif child.type in ("list_splat_pattern", "dictionary_splat_pattern"):
                ident = next(iter(identifiers_in(child)), None)
            if ident is None:
                continue
            name = x.text(ident)
            x.skip.add(ident.start_byte)
            scope.bindings[name] = (PARAM, position)
            default = child.child_by_field_name("value") if annotation is None else None
            if annotation is not None:
                scope.var_types[name] = [Assignment(-1, ANNOTATED, annotation)]
            elif default is not None and default.type != "none":
                scope.var_types[name] = [Assignment(-1, ASSIGNED, default)]
            elif name in values:  # parametrized: pytest passes one of the listed values
                listed, place = values[name]
                scope.var_types[name] = [Assignment(-1, PARAMETRIZED, listed, place)]
            else:
                if fixtures and child.type == "identifier" and (position or not method):
                    x.fixture_params.append((ident, scope))
                    scope.var_types[name] = [Assignment(-1, FIXTURE_VALUE, ident)]
                else:
                    scope.var_types[name] = [Assignment(-1, UNKNOWN, None)]
            position += 1


def takes_fixtures(x: _FileExtraction, scope: Scope) -> bool:
    """Whether pytest passes fixtures to this def's parameters: a test (`test*`, at module
    level or in a `Test*` class) or a fixture (`@pytest.fixture`, `@fixture(...)`)."""
    node = scope.node
    if scope.kind != "function" or node is None or scope.parent is None:
        return False
    if any(d.rpartition(".")[2] == "fixture" for d in x.encoder.decorators(node)):
        return True
    name = node.child_by_field_name("name")
    if name is None or not x.text(name).startswith("test"):
        return False
    parent = scope.parent
    if parent.kind == "module":
        return True
    owner = parent.node.child_by_field_name("name") if parent.node is not None else None
    return parent.kind == "class" and owner is not None and x.text(owner).startswith("Test")


def collect_targets(x: _FileExtraction, caps: dict[str, list[Node]]) -> None:
    targets: list[tuple[Node, Node | None, Node]] = []  # (target, value, statement)
    for node in caps.get("assign", []):
        left = node.child_by_field_name("left")
        if left is None:
            continue
        value = node.child_by_field_name("right")
        targets.append((left, value, node))
        if (
            value is not None
            and left.type == "identifier"
            and x.text(left) == "__all__"
            and x.scope_at(node.start_byte) is x.module
        ):
            x.facts.exports = _string_list(x, value)
            x.exports.append(value)
    for node in caps.get("target", []):
        statement = node.parent or node
        targets.append((node, None, statement))
        if statement.type == "augmented_assignment" and x.text(node) == "__all__":
            value = statement.child_by_field_name("right")
            if value is not None and x.scope_at(node.start_byte) is x.module:
                x.exports.append(value)
    for target, value, statement in targets:
        scope = x.scope_at(target.start_byte)
        assigned = binding_of(target, value, statement)
        for attr in attribute_targets(target):
            x.writes.add(attr.start_byte)
            if assigned is not None and target.type == "attribute":
                key = (attr.start_point[0], x.col(*attr.start_point))
                x.attribute_values[key] = assigned
        for ident in binding_identifiers(target):
            name = x.text(ident)
            if name in scope.globals:
                x.writes.add(ident.start_byte)
                continue
            sole = ident is target or (
                target.type == "as_pattern_target" and target.named_child_count == 1
            )
            typed = assigned if sole else None
            if scope.kind in ("module", "class"):
                if name not in scope.bindings:
                    kind = VARIABLE if scope.kind == "module" else FIELD
                    idx = x.add_symbol(name, kind, scope.symbol, statement, ident)
                    scope.bindings[name] = (SYMBOL, idx)
                    x.skip.add(ident.start_byte)
                    x.typed_symbols.append((idx, scope))
                else:
                    x.writes.add(ident.start_byte)
                binding = scope.bindings[name]
                if typed is not None and binding[0] == SYMBOL:
                    x.symbol_values.setdefault(binding[1], []).append(typed)
                    if typed.kind == ASSIGNED and typed.node and is_type_alias(typed.node):
                        x.alias_values.append(typed.node)
            else:
                if name not in scope.bindings:
                    scope.bindings[name] = (LOCAL,)
                x.writes.add(ident.start_byte)
                if typed is not None:
                    scope.var_types.setdefault(name, []).append(typed)


def narrow(x: _FileExtraction, call: Node) -> None:
    found = narrowing(call)
    if found is None:
        return
    ident, assignment = found
    scope = x.scope_at(ident.start_byte)
    binding, owner = x.binding_scope(x.text(ident), scope)
    if owner is not None and binding is not None and binding[0] != SYMBOL:
        owner.var_types.setdefault(x.text(ident), []).append(assignment)


def _string_list(x: _FileExtraction, node: Node) -> list[str] | None:
    if node.type not in ("list", "tuple"):
        return None
    names: list[str] = []
    for child in node.named_children:
        if child.type != "string":
            return None
        content = [c for c in child.named_children if c.type == "string_content"]
        names.append(x.text(content[0]) if content else "")
    return names


# ----- imports ---------------------------------------------------------------------------
