"""Facts that declarations state beside the code: symbol types, names inside string annotations,
`__all__` entries, and the defs that only re-declare a symbol (overloads, property setters).

Run by the extraction once every binding of the file is known (see parsing.python); each
function here reads the extraction's state and appends to its facts.
"""

from __future__ import annotations

import re
from functools import partial
from typing import TYPE_CHECKING

from tree_sitter import Node

from forge_lsp.parsing.facts import (
    ATTRIBUTE,
    AUTOUSE_MARK,
    CLASS,
    EXPORT,
    FIELD,
    FIXTURE_MARK,
    FIXTURE_RECEIVER,
    FUNCTION,
    IMPLICIT_MARK,
    IMPORT,
    LOCAL_RECEIVER,
    METHOD,
    MODULE,
    NO_TARGET,
    PROPERTY_MARK,
    READ,
    UNKNOWN_RECEIVER,
    WRITE,
    RefFact,
    SymbolFact,
)
from forge_lsp.parsing.python_bindings import ANNOTATED, ASSIGNED, Assignment
from forge_lsp.parsing.python_syntax import (
    SYMBOL,
    Scope,
    expression_at,
    identifiers_in,
    is_autouse_fixture,
    is_type_alias,
    string_annotation,
    string_content,
    usefixtures_owner,
)
from forge_lsp.parsing.python_types import ExpressionEncoder, container, union

if TYPE_CHECKING:
    from forge_lsp.parsing.python import _FileExtraction

PROPERTIES = frozenset({"property", "cached_property"})
_INSTANCE_RECEIVERS = ("self", "self.__class__")  # `self.x = ...`, `cls.x = ...` declare x
_ACCESSORS = ("setter", "deleter", "getter")


def redeclared(x: _FileExtraction, parent: Scope, name: str, definition: Node) -> int | None:
    """The symbol a def only declares again, or None for a def of its own: an `@overload`
    signature, the implementation after overloads, a property's `@name.setter`/`.deleter`."""
    binding = parent.bindings.get(name)
    if binding is None or binding[0] != SYMBOL:
        return None
    earlier = binding[1]
    symbols = x.facts.symbols
    if not 0 <= earlier < len(symbols) or symbols[earlier].kind not in (FUNCTION, METHOD):
        return None
    decorators = x.encoder.decorators(definition)
    if earlier in x.overloads or any(d.rpartition(".")[2] == "overload" for d in decorators):
        return earlier
    if any(d in (f"{name}.{a}" for a in _ACCESSORS) for d in decorators):
        return earlier
    return None


def ref_at(
    x: _FileExtraction, ident: Node, role: str, scope: int, target: int, receiver: str | None
) -> RefFact:
    """A reference at an identifier's place, with its text for name (code-point columns)."""
    row, c0 = ident.start_point
    c1 = ident.end_point[1]
    name = x.text(ident)
    return RefFact(name, row, x.col(row, c0), x.col(row, c1), role, scope, target, receiver)


def fixture_refs(x: _FileExtraction) -> None:
    """A parameter pytest fills with a fixture is a reference to the fixture (resolved by
    pytest's lookup: the module, then conftest.py files up the directories)."""
    for ident, scope in x.fixture_params:
        x.facts.refs.append(ref_at(x, ident, READ, scope.symbol, NO_TARGET, FIXTURE_RECEIVER))


def usefixtures_refs(x: _FileExtraction, callees: list[Node]) -> None:
    """`@pytest.mark.usefixtures("db")` on a test or a test class, and `pytestmark =
    pytest.mark.usefixtures(...)` in a module or class body: each string names a fixture the
    tests there receive, a reference to it from the decorated def (or the module, the class)."""
    for callee in callees:
        if callee.end_byte - callee.start_byte != 11 or x.text(callee) != "usefixtures":
            continue
        call = callee.parent
        if call is not None and call.type == "attribute":
            call = call.parent
        arguments = call.child_by_field_name("arguments") if call is not None else None
        owner = usefixtures_owner(call) if call is not None else None
        if owner is None or arguments is None:
            continue
        at = owner.start_byte if owner.type != "assignment" else callee.start_byte
        symbol = x.scope_at(at).symbol
        for arg in arguments.named_children:
            content = string_content(arg)
            if content is not None and x.text(content).isidentifier():
                x.facts.refs.append(ref_at(x, content, READ, symbol, NO_TARGET, FIXTURE_RECEIVER))


_BY_STRING = {"getattr": ATTRIBUTE, "hasattr": ATTRIBUTE, "setattr": WRITE, "delattr": WRITE}


def getattr_refs(x: _FileExtraction, callees: list[Node]) -> None:
    """`getattr(obj, "meta", None)` reads `obj.meta`, `setattr(obj, "x", v)` writes it: an
    attribute named by a string literal is a reference, on the first argument's value."""
    for callee in callees:
        role = _BY_STRING.get(x.text(callee)) if callee.end_byte - callee.start_byte <= 7 else None
        call = callee.parent
        if role is None or call is None or call.type != "call" or not x.is_builtin(x.text(callee)):
            continue
        arguments = call.child_by_field_name("arguments")
        args = [a for a in arguments.named_children if a.type != "comment"] if arguments else []
        content = string_content(args[1]) if len(args) >= 2 else None
        if content is None or not x.text(content).isidentifier():
            continue
        scope = x.scope_at(call.start_byte)
        receiver = x.encoder.receiver(args[0], scope)
        x.facts.refs.append(ref_at(x, content, role, scope.symbol, NO_TARGET, receiver))


def redeclaration_refs(x: _FileExtraction) -> None:
    """The name of a def that re-declares a symbol is a reference to it (role write)."""
    for name_node, target, scope in x.redeclarations:
        x.facts.refs.append(ref_at(x, name_node, WRITE, scope.symbol, target, LOCAL_RECEIVER))


# ----- symbol types --------------------------------------------------------------------------


def symbol_types(x: _FileExtraction) -> None:
    """Give each symbol made by this run that other code can reach by name its type
    (SymbolFact.type). A def nested in a function is used only by its own file, through
    targets decided there: its type would never be read."""
    symbols = x.facts.symbols
    for idx, scope in x.typed_symbols:
        sym = symbols[idx]
        if sym.parent > 0 and symbols[sym.parent].kind not in (CLASS, MODULE):
            continue
        if sym.kind in (FUNCTION, METHOD):
            text = _function_type(x, scope)
        elif sym.kind == CLASS:
            continue
        else:
            text = _binding_type(x, x.symbol_values.get(idx, []), scope)
        if idx in x.implicit_fields:
            text = IMPLICIT_MARK + text
        if text:
            symbols[idx] = sym._replace(type=text)
    for idx in x.implicit_fields:  # those without a scope to type them in still are implicit
        if not symbols[idx].type:
            symbols[idx] = symbols[idx]._replace(type=IMPLICIT_MARK)


def _function_type(x: _FileExtraction, scope: Scope) -> str:
    """What calling the function gives: its return annotation; unannotated, the union of what
    its `return` statements give; a generator's, what it yields (an iterator of it, which a
    `@contextmanager` enters as). A property is marked."""
    node = scope.node
    if node is None:
        return ""
    names = {d.rpartition(".")[2] for d in x.encoder.decorators(node)}
    fixture = "fixture" in names
    mark = PROPERTY_MARK if names & PROPERTIES else FIXTURE_MARK if fixture else ""
    if fixture and is_autouse_fixture(node):
        mark = AUTOUSE_MARK
    returns = node.child_by_field_name("return_type")
    if returns is not None and not (fixture and node.start_byte in x.generators):
        text = x.encoder.annotation(returns, scope.parent or x.module)
    elif node.start_byte in x.generators:
        yielded = x.generators[node.start_byte]
        if fixture:  # what a test receives: whatever the fixture yields
            text = union([x.encoder.receiver(v, scope) for v in yielded])
        else:
            element = union([_constructed(x, v, scope) for v in yielded])
            text = container(element, element)
    else:
        values = x.returns.get(node.start_byte, [])
        encode = x.encoder.receiver if fixture else partial(_constructed, x)
        text = union([encode(v, scope) for v in values])
    return mark + ("" if text == UNKNOWN_RECEIVER else text)


def _constructed(x: _FileExtraction, value: Node, scope: Scope) -> str:
    """What an unannotated function's `return` gives, where it plainly says so: `self`, or
    a constructor call (`C(...)`, `mod.C(...)`: a CapWords name, as classes are named;
    `cls(...)`). Nothing finer: the function's type is part of its file's interface, and
    typing in a body (`return self._chain()`, `return result`, `return make()`) must not
    change it at every keystroke."""
    if value.type == "identifier":
        if x.text(value) != "self":
            return UNKNOWN_RECEIVER
        receiver = x.encoder.receiver(value, scope)
        return receiver if receiver == "self" else UNKNOWN_RECEIVER
    if value.type != "call":
        return UNKNOWN_RECEIVER
    func = value.child_by_field_name("function")
    if func is not None and func.type == "attribute":
        func = func.child_by_field_name("attribute")
    if func is None or func.type != "identifier":
        return UNKNOWN_RECEIVER
    name = x.text(func)
    if not name[:1].isupper() and name != "cls":
        return UNKNOWN_RECEIVER
    receiver = x.encoder.receiver(value, scope)
    if receiver.startswith("self.__class__("):
        return receiver
    return UNKNOWN_RECEIVER if receiver.startswith("self") else receiver


def _binding_type(x: _FileExtraction, entries: list[Assignment], scope: Scope) -> str:
    """A variable's or field's type: its annotation, else its first binding whose value is
    known (bindings of the same scope only: a module's, a class body's, a method's)."""
    for entry in entries:
        if entry.kind == ANNOTATED:
            text = x.encoder.assigned(entry, scope)
            return "" if text == UNKNOWN_RECEIVER else text
    for entry in sorted(entries, key=lambda e: e.position):
        if entry.kind == ASSIGNED and entry.node is not None and is_type_alias(entry.node):
            text = x.encoder.alias(entry.node, scope)
        else:
            text = x.encoder.assigned(entry, scope)
        if text != UNKNOWN_RECEIVER:
            return text
    return ""


def annotation_values(x: _FileExtraction, calls: list[Node]) -> list[Node]:
    """Expressions outside annotations that a type checker reads as types: type aliases'
    values, `cast`'s first argument, a TypeVar's bound and constraints."""
    found = list(x.alias_values)
    for ident in calls:
        if ident.end_byte - ident.start_byte not in (4, 7):  # every call passes here
            continue
        name = x.text(ident)
        if name not in ("cast", "TypeVar"):
            continue
        call = ident.parent if ident.parent is not None and ident.parent.type == "call" else None
        if call is None and ident.parent is not None:
            call = ident.parent.parent
        args = call.child_by_field_name("arguments") if call is not None else None
        if args is None:
            continue
        values = [a for a in args.named_children if a.type != "comment"]
        positional = [a for a in values if a.type != "keyword_argument"]
        if name == "cast":
            found.extend(positional[:1])
            continue
        found.extend(positional[1:])
        for a in values:
            if a.type == "keyword_argument":
                key = a.child_by_field_name("name")
                value = a.child_by_field_name("value")
                if key is not None and x.text(key) == "bound" and value is not None:
                    found.append(value)
    return found


def collect_returns(x: _FileExtraction, caps: dict[str, list[Node]]) -> None:
    """Which values each function returns, and which functions are generators."""
    for node in caps.get("return", []):
        scope = x.scope_at(node.start_byte)
        if scope.kind == "function" and scope.node is not None and node.named_child_count:
            value = node.named_children[0]
            if value.type != "none":
                x.returns.setdefault(scope.node.start_byte, []).append(value)
    for node in caps.get("yield", []):
        owner: Scope | None = x.scope_at(node.start_byte)
        while owner is not None and owner.kind in ("comp", "lambda"):
            owner = owner.parent
        if owner is not None and owner.node is not None:
            values = x.generators.setdefault(owner.node.start_byte, [])
            delegated = any(c.type == "from" for c in node.children)
            if node.named_child_count == 1 and not delegated:
                values.append(node.named_children[0])


# ----- names in string annotations and __all__ ----------------------------------------------


def annotation_refs(x: _FileExtraction, annotations: list[Node]) -> None:
    """Names inside string annotations (`x: "Console"`, `-> "pkg.Node"`, `Optional["C"]`) are
    references, as they are to a type checker."""
    seen: set[int] = set()
    for annotation in annotations:
        for string in _strings_in(annotation):
            if string.start_byte in seen or _inside_literal(string):
                continue
            seen.add(string.start_byte)
            found = string_annotation(string, x.src)
            if found is None:
                continue
            expr, delta = found
            scope = x.scope_at(string.start_byte)
            encoder = x.encoder.in_string(delta)
            for ident in identifiers_in(expr):
                ref = _snippet_ref(x, encoder.text(ident), ident, scope, encoder)
                if ref is not None:
                    x.facts.refs.append(ref)


def type_comment_refs(x: _FileExtraction, comments: list[Node]) -> None:
    """Names in type comments (`x = []  # type: List[Node]`, `# type: (int) -> Node`) are
    references, as they are to a type checker."""
    for comment in comments:
        raw = x.src[comment.start_byte : comment.end_byte]
        found = _TYPE_COMMENT.match(raw)
        if found is None or raw[found.end() :].startswith(b"ignore"):
            continue
        body = raw[found.end() :].split(b"#", 1)[0]
        arrow = body.find(b"->")
        parts = [(0, body)] if arrow < 0 else [(0, body[:arrow]), (arrow + 2, body[arrow + 2 :])]
        row, col = comment.start_point
        scope = x.scope_at(comment.start_byte)
        for offset, part in parts:
            at = found.end() + offset
            parsed = expression_at(part, comment.start_byte + at, row, col + at)
            if parsed is None:
                continue
            expr, delta = parsed
            encoder = x.encoder.in_string(delta)
            for ident in identifiers_in(expr):
                ref = _snippet_ref(x, encoder.text(ident), ident, scope, encoder)
                if ref is not None:
                    x.facts.refs.append(ref)


_TYPE_COMMENT = re.compile(rb"#\s*type:\s*")  # comments are filtered here, on bytes: a query
# predicate would decode them, and one comment with invalid UTF-8 would fail the whole file


def _snippet_ref(
    x: _FileExtraction, name: str, ident: Node, scope: Scope, encoder: ExpressionEncoder
) -> RefFact | None:
    parent = ident.parent
    role = READ
    target = NO_TARGET
    receiver: str | None = None
    if (
        parent is not None
        and parent.type == "attribute"
        and parent.child_by_field_name("attribute") == ident
    ):
        obj = parent.child_by_field_name("object")
        if obj is None:
            return None
        receiver = encoder.receiver(obj, scope)
        role = ATTRIBUTE
    else:
        found = x.free_name(name, scope)
        if found is None:
            return None
        name, target, receiver = found
    row, c0 = ident.start_point
    c1 = ident.end_point[1]
    return RefFact(name, row, x.col(row, c0), x.col(row, c1), role, scope.symbol, target, receiver)


def _strings_in(node: Node) -> list[Node]:
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        if current.type == "string":
            found.append(current)
            continue
        stack.extend(current.named_children)
    return found


_TYPE_PARTS = frozenset(
    {"type", "type_parameter", "generic_type", "subscript", "union_type", "binary_operator"}
)


def _inside_literal(string: Node) -> bool:
    """Whether a string of a type expression is a `Literal[...]` value, not a name."""
    node = string.parent
    while node is not None and node.type in _TYPE_PARTS:
        if node.type in ("generic_type", "subscript") and node.named_children:
            head = node.named_children[0]
            if head.type == "attribute":
                head = head.child_by_field_name("attribute") or head
            if head.text == b"Literal":
                return True
        node = node.parent
    return False


def export_refs(x: _FileExtraction, values: list[Node]) -> None:
    """Each name listed in a module-level `__all__` (=, +=, list + list) is a reference to
    what the name means in the module (role export)."""
    for value in values:
        for string in _listed_strings(value):
            content = string.named_children[1]
            text = x.text(content)
            if not text.isidentifier():
                continue
            row, c0 = content.start_point
            c1 = content.end_point[1]
            x.facts.refs.append(
                RefFact(text, row, x.col(row, c0), x.col(row, c1), EXPORT, 0, NO_TARGET, None)
            )


def _listed_strings(node: Node) -> list[Node]:
    if node.type in ("list", "tuple", "parenthesized_expression"):
        found: list[Node] = []
        for child in node.named_children:
            found.extend(_listed_strings(child) if child.type != "string" else [child])
        return [s for s in found if s.named_child_count == 3]
    if node.type == "binary_operator":
        return [s for c in node.named_children for s in _listed_strings(c)]
    return []


def sort_refs(refs: list[RefFact]) -> None:
    """Document order after the import references (python_body splices by position)."""
    first = 0
    while first < len(refs) and refs[first].role == IMPORT:
        first += 1
    refs[first:] = sorted(refs[first:], key=lambda r: (r.line, r.col))


def instance_fields(x: _FileExtraction) -> None:
    """`x.x = ...` (or `cls.x = ...`) in a method declares the field x when the class
    body does not."""
    symbols = x.facts.symbols
    declared: set[tuple[int, str]] = {
        (s.parent, s.name) for s in symbols if s.parent >= 0 and symbols[s.parent].kind == CLASS
    } | x.declared
    made: dict[tuple[int, str], tuple[int, int]] = {}  # (class, name) -> (field, method)
    for ref in x.facts.refs:
        if ref.role != WRITE or ref.receiver not in _INSTANCE_RECEIVERS:
            continue
        method = ref.scope
        while method > 0 and symbols[method].kind != METHOD:
            method = symbols[method].parent
        if method <= 0:
            continue
        cls = symbols[method].parent
        key = (cls, ref.name)
        value = x.attribute_values.get((ref.line, ref.col))
        if key in made:
            # the declaring method's later assignments can give the type its first lacks
            field_idx, declaring = made[key]
            if declaring == method and value is not None:
                x.symbol_values[field_idx].append(value)
            continue
        if key in declared:
            continue
        declared.add(key)
        made[key] = (len(symbols), method)
        scope = x.function_scopes.get(ref.scope) or x.function_scopes.get(method)
        x.implicit_fields.add(len(symbols))
        if scope is not None:
            x.typed_symbols.append((len(symbols), scope))
            x.symbol_values[len(symbols)] = [value] if value is not None else []
        symbols.append(
            SymbolFact(
                name=ref.name,
                qualname=f"{symbols[cls].qualname}.{ref.name}",
                kind=FIELD,
                parent=cls,
                line=ref.line,
                col=ref.col,
                end_line=ref.line,
                end_col=ref.end_col,
                sel_line=ref.line,
                sel_col=ref.col,
                sel_end_col=ref.end_col,
                signature="",
            )
        )
