"""What a Python expression or annotation evaluates to, written for resolution to finish.

Extraction sees one file; whether `self.msg` is a `MessageBuilder`, or what `make()` returns,
is decided later against the whole program. This module writes down, while the tree is at hand,
an expression in the grammar of resolve/expressions.py: `self.msg`, `<0|pkg.mod>.make()`,
`Console()|Text()`, `{Part(),Part()}`. It knows Python's typing vocabulary (Optional, Union,
`|`, string annotations, Self, the generic containers, `cast`, TypeVar) and turns the binding a
use of a local sees (parsing/python_bindings.py) into what the local holds.

"?" (UNKNOWN_RECEIVER) is the answer wherever the value would need flow analysis or a
library outside the workspace.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from tree_sitter import Node

from forge_lsp.parsing.facts import FIXTURE_VALUE_HEAD, UNKNOWN_RECEIVER
from forge_lsp.parsing.python_bindings import (
    AENTERED,
    ANNOTATED,
    CAUGHT,
    ENTERED,
    FIXTURE_VALUE,
    ITERATED,
    NARROWED,
    PARAMETRIZED,
    Assignment,
    pick,
)
from forge_lsp.parsing.python_syntax import (
    IMPORTED,
    PARAM,
    REQUEST_PARAM,
    Scope,
    decorator_texts,
    string_annotation,
)

if TYPE_CHECKING:
    from forge_lsp.parsing.python import _FileExtraction

_MAX_DEPTH = 8

# typing's vocabulary, by the last name of the subscripted expression
_SAME = frozenset(
    {"Optional", "ClassVar", "Final", "Annotated", "Required", "NotRequired", "ReadOnly", "InitVar"}
)
_UNION = frozenset({"Union"})
_CLASS_OF = frozenset({"type", "Type"})
_SEQUENCES = frozenset(
    {
        "list",
        "List",
        "Sequence",
        "MutableSequence",
        "Iterable",
        "Iterator",
        "Collection",
        "Container",
        "Reversible",
        "set",
        "Set",
        "AbstractSet",
        "MutableSet",
        "frozenset",
        "FrozenSet",
        "deque",
        "Deque",
        "Generator",
        "AsyncIterator",
        "AsyncIterable",
        "AsyncGenerator",
        "KeysView",
        "ValuesView",
    }
)
_MAPPINGS = frozenset(
    {
        "dict",
        "Dict",
        "Mapping",
        "MutableMapping",
        "DefaultDict",
        "defaultdict",
        "OrderedDict",
        "ChainMap",
    }
)
_TUPLES = frozenset({"tuple", "Tuple"})
_NOTHING = frozenset({"None", "Any", "object", "NoReturn", "Never"})
_SPECIAL_CALLS = frozenset({"cast", "TypeVar", "partial"})
_LITERALS = frozenset(
    {
        "string",
        "concatenated_string",
        "integer",
        "float",
        "true",
        "false",
        "none",
        "dictionary",
        "dictionary_comprehension",
        "tuple",
        "lambda",
        "unary_operator",
        "comparison_operator",
        "not_operator",
    }
)
_ELEMENT_CALLS = frozenset(
    {"type", "list", "tuple", "set", "frozenset", "sorted", "reversed", "iter", "next"}
)
_SELF = frozenset({"Self"})


def extend(base: str, suffix: str) -> str:
    """`base` followed by a step (`()`, `.name`, `[i]`), distributed over a union's arms."""
    if base == UNKNOWN_RECEIVER:
        return base
    if "|" not in base:
        return base + suffix
    return "|".join(arm + suffix for arm in split_arms(base))


def split_arms(text: str) -> list[str]:
    """A union's arms: split at the '|' that are not inside `<...>` or `{...}`."""
    if "|" not in text:
        return [text]
    arms: list[str] = []
    depth = 0
    start = 0
    for i, c in enumerate(text):
        if c in "<{":
            depth += 1
        elif c in ">}":
            depth -= 1
        elif c == "|" and depth == 0:
            arms.append(text[start:i])
            start = i + 1
    arms.append(text[start:])
    return arms


def union(parts: list[str]) -> str:
    """The union of several expressions; unknown arms are dropped (the rest still resolve)."""
    arms: list[str] = []
    for part in parts:
        if part == UNKNOWN_RECEIVER:
            continue
        for arm in split_arms(part):
            if arm not in arms:
                arms.append(arm)
    return "|".join(arms) if arms else UNKNOWN_RECEIVER


class ExpressionEncoder:
    """Encodes the expressions of one file's tree; lives as long as its extraction."""

    def __init__(self, extraction: _FileExtraction) -> None:
        self.x = extraction
        self._memo: dict[int, str] = {}  # by (start byte, end byte), packed
        self._delta = 0  # inside a string annotation: its nodes' offsets are the file's - delta
        self.text: Callable[[Node], str] = extraction.text  # the hot path: no indirection
        self._first: dict[int, str | None] = {}  # def start byte -> its first parameter
        self._decorators: dict[int, list[str]] = {}  # def start byte -> decorator_texts

    def in_string(self, delta: int) -> ExpressionEncoder:
        """An encoder for the nodes of a string annotation parsed with string_annotation."""
        inner = ExpressionEncoder(self.x)
        inner._delta = delta
        inner.text = _own_text
        inner._first = self._first
        return inner

    def decorators(self, definition: Node) -> list[str]:
        """decorator_texts of a def, once per def."""
        known = self._decorators.get(definition.start_byte)
        if known is None:
            known = self._decorators[definition.start_byte] = decorator_texts(definition)
        return known

    # ----- values ----------------------------------------------------------------------------

    def receiver(self, node: Node, scope: Scope, depth: int = 0) -> str:
        """What the expression `node` evaluates to, as an expression resolution can finish."""
        key = node.start_byte << 32 | node.end_byte
        cached = self._memo.get(key)
        if cached is not None:
            return cached
        if depth > _MAX_DEPTH:
            return UNKNOWN_RECEIVER
        self._memo[key] = UNKNOWN_RECEIVER  # `x = x.parent`: a value defined by itself
        result = self._value(node, scope, depth)
        self._memo[key] = result
        return result

    def _value(self, node: Node, scope: Scope, depth: int) -> str:
        kind = node.type
        if kind == "identifier":
            return self._name(node, scope, depth)
        if kind == "attribute":
            obj = node.child_by_field_name("object")
            attr = node.child_by_field_name("attribute")
            if obj is None or attr is None:
                return UNKNOWN_RECEIVER
            if obj.type == "identifier" and self.text(attr) == "param":
                listed = self._fixture_params(obj, scope)
                if listed is not None:  # `request.param` in a fixture with params=[...]
                    return self._listed(listed, -1, scope, depth)
            return extend(self.receiver(obj, scope, depth + 1), "." + self.text(attr))
        if kind == "call":
            func = node.child_by_field_name("function")
            if func is None:
                return UNKNOWN_RECEIVER
            if func.type == "identifier":
                name = self.text(func)
                if name == "super":
                    return "super()"
                if name in _SPECIAL_CALLS or (name in _ELEMENT_CALLS and self.x.is_builtin(name)):
                    return self._special_call(name, node, scope, depth)
            elif func.type == "attribute":
                attr = func.child_by_field_name("attribute")
                name = self.text(attr) if attr is not None else ""
                if name in _SPECIAL_CALLS:
                    return self._special_call(name, node, scope, depth)
            return extend(self.receiver(func, scope, depth + 1), "()")
        if kind == "subscript":
            value = node.child_by_field_name("value")
            index = node.child_by_field_name("subscript")
            if value is None or (index is not None and index.type == "slice"):
                return UNKNOWN_RECEIVER
            return extend(self.receiver(value, scope, depth + 1), "[]")
        if kind in _LITERALS:
            return UNKNOWN_RECEIVER
        if kind in ("parenthesized_expression", "await") and node.named_child_count == 1:
            return self.receiver(node.named_children[0], scope, depth + 1)
        if kind == "conditional_expression" and node.named_child_count == 3:
            first, _condition, second = node.named_children
            return union([self.receiver(n, scope, depth + 1) for n in (first, second)])
        if kind == "boolean_operator":
            left = node.child_by_field_name("left")
            right = node.child_by_field_name("right")
            return union([self.receiver(n, scope, depth + 1) for n in (left, right) if n])
        if kind in ("list_comprehension", "set_comprehension", "generator_expression"):
            body = node.child_by_field_name("body")
            if body is None:
                return UNKNOWN_RECEIVER
            element = self.receiver(body, self.x.scope_at(body.start_byte), depth + 1)
            return container(element, element)
        if kind in ("list", "set") and node.named_child_count:
            element = union([self.receiver(c, scope, depth + 1) for c in node.named_children])
            return container(element, element)
        return UNKNOWN_RECEIVER

    def _special_call(self, name: str, node: Node, scope: Scope, depth: int) -> str:
        """`cast(T, x)` is a T; `type(x)` is x's class; `partial(f, ...)` is called as f is;
        `TypeVar("T", bound=C)` stands for C
        (its constraints, for several); `list(xs)`, `sorted(xs)`, `next(it)`... keep the
        elements of what they are given."""
        args = node.child_by_field_name("arguments")
        values = [a for a in args.named_children if a.type != "comment"] if args else []
        positional = [a for a in values if a.type != "keyword_argument"]
        if name == "cast" and len(values) == 2:
            return self.annotation(values[0], scope, depth + 1)
        if name == "partial":  # functools.partial(f, ...): calling it calls f
            return (
                self.receiver(positional[0], scope, depth + 1) if positional else UNKNOWN_RECEIVER
            )
        if name == "TypeVar":
            bounds = [
                a.child_by_field_name("value")
                for a in values
                if a.type == "keyword_argument" and self._keyword(a) == "bound"
            ]
            types = [b for b in bounds if b is not None] or positional[1:]
            classes = [self.annotation(t, scope, depth + 1) for t in types]
            return union([extend(c, ".__class__") for c in classes])
        if len(positional) != 1 or len(values) != 1:
            return UNKNOWN_RECEIVER
        value = self.receiver(positional[0], scope, depth + 1)
        if name == "type":
            return extend(value, ".__class__")
        if name == "next":
            return extend(value, "[i]")
        element = extend(value, "[i]")
        return container(element, element)

    def _fixture_params(self, name: Node, scope: Scope) -> Node | None:
        _binding, owner = self.x.binding_scope(self.text(name), scope)
        entries = owner.var_types.get(self.text(name), []) if owner is not None else []
        return next(
            (e.node for e in entries if e.kind == PARAMETRIZED and e.end == REQUEST_PARAM), None
        )

    def _listed(self, listed: Node, place: int, scope: Scope, depth: int) -> str:
        """Any element of a parametrize list (or the `place`-th item of each element tuple);
        `pytest.param(v, ...)` stands for v. A fixture's `request` holds them as `.param`."""
        arms = []
        for element in listed.named_children:
            if element.type == "call" and self.text(element).startswith(("pytest.param", "param(")):
                args = element.child_by_field_name("arguments")
                element = (
                    args.named_children[0] if args is not None and args.named_children else element
                )
            if place >= 0:
                items = element.named_children if element.type in ("tuple", "list") else []
                if place >= len(items):
                    continue
                element = items[place]
            arms.append(self.receiver(element, scope, depth + 1))
        return union(arms)

    def _keyword(self, argument: Node) -> str:
        name = argument.child_by_field_name("name")
        return self.text(name) if name is not None else ""

    def alias(self, node: Node, scope: Scope) -> str:
        """The classes a type alias (`Types = Union["URL", Proxy]`, `Maybe = Optional[C]`)
        stands for, so that an annotation naming it means their instances."""
        instances = split_arms(self.annotation(node, scope))
        return union([arm[:-2] for arm in instances if arm.endswith("()")])

    def _name(self, node: Node, scope: Scope, depth: int) -> str:
        name = self.text(node)
        binding, owner = self.x.binding_scope(name, scope)
        if binding is None:  # a module-level name: resolution looks it up
            return UNKNOWN_RECEIVER if self.x.is_builtin(name) else name
        if binding[0] == IMPORTED:
            return f"{binding[1]}.{binding[2]}" if binding[1] != "<0|>" else f"<0|{binding[2]}>"
        if binding[0] == PARAM and binding[1] == 0 and owner is not None:
            first = self._first_parameter(owner)
            if first is not None:
                return first
        if owner is None:
            return UNKNOWN_RECEIVER
        entries = owner.var_types.get(name)
        if not entries:
            return UNKNOWN_RECEIVER
        picked = pick(entries, node.start_byte + self._delta)
        value = self.assigned(picked, owner, depth)
        if value != UNKNOWN_RECEIVER:
            return value
        # Unknown there (a parameter before it is rebound, a library call, narrowing by
        # isinstance): what the name's other bindings hold is the best guess there is.
        others = [
            self.assigned(e, owner, depth)
            for e in entries
            if e is not picked and e.kind != NARROWED  # a narrowing holds only where it does
        ]
        return union(others)

    def _first_parameter(self, owner: Scope) -> str | None:
        """What a method's first parameter is: `self`, or the class in a classmethod; None
        for a staticmethod or a plain function."""
        if owner.kind != "function" or owner.parent is None or owner.parent.kind != "class":
            return None
        if owner.node is None:
            return "self"
        known = self._first.get(owner.start, False)
        if known is not False:
            return known  # type: ignore[return-value]
        found = self._first[owner.start] = self._first_parameter_of(owner.node)
        return found

    def _first_parameter_of(self, owner_node: Node) -> str | None:
        decorators = {d.rpartition(".")[2] for d in self.decorators(owner_node)}
        if "staticmethod" in decorators:
            return None
        name = owner_node.child_by_field_name("name")
        if "classmethod" in decorators or (name is not None and self.text(name) == "__new__"):
            return "self.__class__"
        return "self"

    def assigned(self, entry: Assignment, scope: Scope, depth: int = 0) -> str:
        """What a binding gives the name it binds."""
        node = entry.node
        if node is None:
            return UNKNOWN_RECEIVER
        kind = entry.kind
        if kind == FIXTURE_VALUE:
            return FIXTURE_VALUE_HEAD + self.text(node)
        if kind == PARAMETRIZED:
            if entry.end == REQUEST_PARAM:  # only its `.param` is one of them
                return UNKNOWN_RECEIVER
            return self._listed(node, entry.end, scope, depth)
        if kind == ANNOTATED:
            return self.annotation(node, scope, depth + 1)
        if kind in (CAUGHT, NARROWED):
            classes = node.named_children if node.type == "tuple" else [node]
            return union([extend(self.receiver(c, scope, depth + 1), "()") for c in classes])
        value = self.receiver(node, scope, depth + 1)
        if kind == ITERATED:
            return extend(value, "[i]")
        if kind == ENTERED:
            return extend(value, ".__enter__()")
        if kind == AENTERED:
            return extend(value, ".__aenter__()")
        return value

    # ----- annotations -----------------------------------------------------------------------

    def annotation(self, node: Node, scope: Scope, depth: int = 0) -> str:
        """The instances an annotation declares (`C` → `C()`, `Optional[C]` → `C()`,
        `list[C]` → `{C(),C()}`, `"C"` → `C()`, `Self` → `self`)."""
        if depth > _MAX_DEPTH:
            return UNKNOWN_RECEIVER
        kind = node.type
        if kind == "type" and node.named_child_count == 1:
            return self.annotation(node.named_children[0], scope, depth + 1)
        if kind in ("identifier", "attribute"):
            last = node.child_by_field_name("attribute") if kind == "attribute" else node
            name = self.text(last) if last is not None else ""
            if name in _SELF:
                return "self"
            if name in _NOTHING or (kind == "identifier" and self.x.is_builtin(name)):
                return UNKNOWN_RECEIVER
            return extend(self.receiver(node, scope, depth + 1), "()")
        if kind == "string":
            found = string_annotation(node, self.x.src)
            if found is None:
                return UNKNOWN_RECEIVER
            inner, delta = found
            return self.in_string(delta).annotation(inner, scope, depth + 1)
        if kind in ("union_type", "binary_operator"):
            return union([self.annotation(c, scope, depth + 1) for c in node.named_children])
        if kind == "generic_type" and node.named_child_count == 2:
            head, parameters = node.named_children
            return self._generic(head, list(parameters.named_children), scope, depth)
        if kind == "subscript":
            value = node.child_by_field_name("value")
            if value is None:
                return UNKNOWN_RECEIVER
            arguments = list(node.children_by_field_name("subscript"))
            return self._generic(value, arguments, scope, depth)
        return UNKNOWN_RECEIVER

    def _generic(self, head: Node, arguments: list[Node], scope: Scope, depth: int) -> str:
        last = head.child_by_field_name("attribute") if head.type == "attribute" else head
        name = self.text(last) if last is not None else ""
        if name in _SAME and arguments:
            return self.annotation(arguments[0], scope, depth + 1)
        if name in _UNION:
            return union([self.annotation(a, scope, depth + 1) for a in arguments])
        if name in _CLASS_OF and len(arguments) == 1:
            return extend(self.annotation(arguments[0], scope, depth + 1), ".__class__")
        if name in _SEQUENCES and arguments:
            element = self.annotation(arguments[0], scope, depth + 1)
            return container(element, element)
        if name in _MAPPINGS and len(arguments) == 2:
            key, value = (self.annotation(a, scope, depth + 1) for a in arguments)
            return container(key, value)
        if name in _TUPLES and arguments:
            elements = [a for a in arguments if a.type != "ellipsis" and self.text(a) != "..."]
            element = union([self.annotation(a, scope, depth + 1) for a in elements])
            return container(element, element)
        if head.type == "identifier" and self.x.is_builtin(name):
            return UNKNOWN_RECEIVER
        return extend(self.receiver(head, scope, depth + 1), "()")  # a workspace generic: C[T]


def container(iterated: str, item: str) -> str:
    """A container type: what iterating it gives, what indexing it gives."""
    if iterated == UNKNOWN_RECEIVER and item == UNKNOWN_RECEIVER:
        return UNKNOWN_RECEIVER
    parts = ["" if p == UNKNOWN_RECEIVER else p for p in (iterated, item)]
    return "{" + parts[0] + "," + parts[1] + "}"


def _own_text(node: Node) -> str:
    """A node's text from the tree it was parsed in (a string annotation's)."""
    return node.text.decode("utf-8", "replace") if node.text is not None else ""
