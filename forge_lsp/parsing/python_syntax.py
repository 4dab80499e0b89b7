"""Python syntax helpers for extraction: the tree-sitter query, scopes, and small node utilities.

Split from parsing.python so that the extractor reads as the two-pass scope analysis it is.
"""

from __future__ import annotations

import builtins
import threading
from typing import Any

import tree_sitter_python
from tree_sitter import Language, Node, Parser, Query

LANGUAGE = Language(tree_sitter_python.language())

QUERY_SOURCE = """
(function_definition name: (identifier) @def) @scope.function
(class_definition name: (identifier) @def) @scope.class
(lambda) @scope.lambda
(list_comprehension) @scope.comp
(set_comprehension) @scope.comp
(dictionary_comprehension) @scope.comp
(generator_expression) @scope.comp
(parameters) @params
(lambda_parameters) @params
(assignment) @assign
(augmented_assignment left: (_) @target)
(for_statement left: (_) @target)
(for_in_clause left: (_) @target)
(as_pattern_target) @target
(named_expression name: (identifier) @target)
(global_statement (identifier) @global)
(nonlocal_statement (identifier) @global)
(call function: (identifier) @call)
(call function: (attribute attribute: (identifier) @call))
(attribute) @attribute
(keyword_argument name: (identifier) @skip)
(decorator) @decorator
(class_definition superclasses: (argument_list) @bases)
(type) @annotation
(comment) @type_comment
(return_statement) @return
(yield) @yield
(import_statement) @import
(import_from_statement) @import
(future_import_statement) @future
(identifier) @id
"""

QUERY = Query(LANGUAGE, QUERY_SOURCE)

BUILTINS = frozenset(dir(builtins)) | {"__file__", "__name__", "__doc__", "__spec__", "__path__"}
PATTERN_TYPES = frozenset(
    {
        "pattern_list",
        "tuple_pattern",
        "list_pattern",
        "parenthesized_expression",
        "list_splat_pattern",
        "tuple",
        "list",
        "expression_list",
        "as_pattern_target",
    }
)
# Binding kinds inside a scope.
LOCAL = 0  # an ordinary local variable: not indexed
SYMBOL = 1  # a nested def/class or a class member: (kind, symbol index)
IMPORTED = 2  # a local import: (kind, receiver, original name)
PARAM = 3  # a parameter: (kind, position)


class Scope:
    __slots__ = (
        "bindings",
        "end",
        "globals",
        "kind",
        "node",
        "parent",
        "start",
        "symbol",
        "var_types",
    )

    def __init__(self, kind: str, node: Node | None, start: int, end: int) -> None:
        self.kind = kind
        self.node = node
        self.start = start
        self.end = end
        self.parent: Scope | None = None
        self.symbol = 0  # enclosing symbol index used as the `scope` of references
        self.bindings: dict[str, tuple[Any, ...]] = {}
        self.globals: set[str] = set()
        # a local's bindings that say what it holds (parsing/python_bindings.Assignment)
        self.var_types: dict[str, list[Any]] = {}


def start_byte(node: Node) -> int:
    return node.start_byte


def identifiers_in(node: Node) -> list[Node]:
    if node.type == "identifier":
        return [node]
    found: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        for child in current.named_children:
            if child.type == "identifier":
                found.append(child)
            else:
                stack.append(child)
    found.sort(key=lambda n: n.start_byte)
    return found


def binding_identifiers(target: Node) -> list[Node]:
    """Names bound by an assignment target: `a`, `a, (b, *c)`; not `a.b` or `a[0]`."""
    if target.type == "identifier":
        return [target]
    if target.type not in PATTERN_TYPES:
        return []
    found: list[Node] = []
    for child in target.named_children:
        found.extend(binding_identifiers(child))
    return found


def attribute_targets(target: Node) -> list[Node]:
    """Attribute names assigned to: `self.x = ...`, `a.b, c.d = ...`."""
    if target.type == "attribute":
        attr = target.child_by_field_name("attribute")
        return [attr] if attr is not None else []
    if target.type not in PATTERN_TYPES:
        return []
    found: list[Node] = []
    for child in target.named_children:
        found.extend(attribute_targets(child))
    return found


def split_alias(node: Node) -> tuple[Node | None, Node | None]:
    if node.type == "aliased_import":
        return node.child_by_field_name("name"), node.child_by_field_name("alias")
    if node.type == "dotted_name":
        return node, None
    return None, None


def head_identifier(expr: Node | None) -> Node | None:
    """The identifier that names what a decorator or base class expression refers to."""
    if expr is None:
        return None
    if expr.type == "identifier":
        return expr
    if expr.type == "attribute":
        return expr.child_by_field_name("attribute")
    return None


_local = threading.local()


def _snippet_parser() -> Parser:
    parser: Parser | None = getattr(_local, "parser", None)
    if parser is None:
        parser = _local.parser = Parser(LANGUAGE)
    return parser


def string_annotation(node: Node, source: bytes) -> tuple[Node, int] | None:
    """The expression inside a one-line string annotation (`"Foo"`, `'pkg.Foo[int]'`), parsed
    where it stands: rows and byte columns are the file's, and its byte offsets are the file's
    minus the returned delta. None for other strings (prefixed, escaped, several lines)."""
    if node.type != "string" or node.named_child_count != 3:
        return None
    start, content, _end = node.named_children
    if content.type != "string_content" or start.end_byte - start.start_byte != 1:
        return None
    row, col = content.start_point
    if content.end_point[0] != row:
        return None
    text = source[content.start_byte : content.end_byte]
    if b"\\" in text:
        return None
    return expression_at(text, content.start_byte, row, col)


def expression_at(text: bytes, start: int, row: int, col: int) -> tuple[Node, int] | None:
    """`text`, which stands at byte `start` (row, byte column) of a file, parsed as one
    expression where it stands; with the delta from its nodes' byte offsets to the file's."""
    if not text.strip():
        return None
    padded = b"\n" * row + b" " * col + text
    tree = _snippet_parser().parse(padded)
    root = tree.root_node
    if root.has_error or root.named_child_count != 1:
        return None
    statement = root.named_children[0]
    if statement.type != "expression_statement" or statement.named_child_count != 1:
        return None
    return statement.named_children[0], start - (row + col)


def decorator_texts(definition: Node) -> list[str]:
    """Each decorator of a def or class as written, without a call's arguments
    (`property`, `x.setter`, `functools.cached_property`)."""
    parent = definition.parent
    if parent is None or parent.type != "decorated_definition":
        return []
    texts: list[str] = []
    for child in parent.named_children:
        if child.type != "decorator" or not child.named_children:
            continue
        expr = child.named_children[0]
        if expr.type == "call":
            expr = expr.child_by_field_name("function") or expr
        if expr.type in ("identifier", "attribute") and expr.text is not None:
            texts.append(expr.text.decode("utf-8", "replace"))
    return texts


# typing's names whose subscript is a type again (what an alias `X = Optional[C]` is made of)
TYPE_WRAPPERS = frozenset(
    {
        "Optional",
        "Union",
        "ClassVar",
        "Final",
        "Annotated",
        "Required",
        "NotRequired",
        "ReadOnly",
        "InitVar",
        # generics: an alias of one (`Handler = Callable[["Request"], "Response"]`) holds names
        "Callable",
        "Type",
        "List",
        "Dict",
        "Tuple",
        "Set",
        "FrozenSet",
        "Sequence",
        "Mapping",
        "Iterable",
        "Iterator",
    }
)


def is_type_alias(node: Node) -> bool:
    """Whether a value assigned to a name is a type (`Optional[C]`, `Union[...]`, `A | None`,
    `"C" | None`), so that the name is an alias of it."""
    kind = node.type
    if kind == "subscript":
        head = node.child_by_field_name("value")
        if head is not None and head.type == "attribute":
            head = head.child_by_field_name("attribute")
        text = head.text if head is not None else None
        return text is not None and text.decode("utf-8", "replace") in TYPE_WRAPPERS
    if kind == "binary_operator":
        operator = node.child_by_field_name("operator")
        if operator is None or operator.type != "|":
            return False
        operands = [node.child_by_field_name("left"), node.child_by_field_name("right")]
        return any(
            o is not None and (o.type in ("none", "string") or is_type_alias(o)) for o in operands
        )
    return False


# ----- pytest marks ----------------------------------------------------------------------


def string_content(node: Node) -> Node | None:
    """The content of a plain one-part string literal (`"db"`), else None."""
    if node.type != "string" or node.named_child_count != 3:
        return None
    content = node.named_children[1]
    return content if content.type == "string_content" else None


def usefixtures_owner(call: Node) -> Node | None:
    """What a `usefixtures(...)` call applies to: the def or class it decorates, or the
    `pytestmark = ...` assignment it stands in (the module or class around it)."""
    node: Node | None = call.parent
    while node is not None and node.type in ("list", "tuple", "expression_list"):
        node = node.parent
    if node is not None and node.type == "decorator":
        wrapper = node.parent
        return wrapper.child_by_field_name("definition") if wrapper is not None else None
    if node is not None and node.type == "assignment":
        left = node.child_by_field_name("left")
        if left is not None and left.type == "identifier" and left.text == b"pytestmark":
            return node
    return None


def is_autouse_fixture(definition: Node) -> bool:
    """`@pytest.fixture(autouse=True)` (or `@fixture(..., autouse=True)`) on this def."""
    parent = definition.parent
    if parent is None or parent.type != "decorated_definition":
        return False
    for child in parent.named_children:
        expr = (
            child.named_children[0] if child.type == "decorator" and child.named_children else None
        )
        if expr is None or expr.type != "call":
            continue
        function = expr.child_by_field_name("function")
        arguments = expr.child_by_field_name("arguments")
        if function is None or function.text is None or not function.text.endswith(b"fixture"):
            continue
        for arg in arguments.named_children if arguments is not None else ():
            if arg.type == "keyword_argument":
                name, value = arg.child_by_field_name("name"), arg.child_by_field_name("value")
                if name is not None and name.text == b"autouse" and value is not None:
                    return value.type == "true"
    return False


def decorator_starts(source: bytes) -> dict[int, int]:
    """For each decorated def or class, the row of its `def`/`class` to the row of its first
    decorator: the lines a change to it may touch start there."""
    starts: dict[int, int] = {}
    tree = _snippet_parser().parse(source)
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "decorated_definition":
            definition = node.child_by_field_name("definition")
            if definition is not None:
                starts[definition.start_point[0]] = node.start_point[0]
        if node.type in (
            "module",
            "block",
            "decorated_definition",
            "class_definition",
            "function_definition",
            "if_statement",
            "try_statement",
            "with_statement",
            "else_clause",
            "elif_clause",
            "except_clause",
            "finally_clause",
        ):
            stack.extend(node.named_children)
    return starts


REQUEST_PARAM = -2  # pytest_values: the list is what `request.param` holds, not `request`


def pytest_values(definition: Node) -> dict[str, tuple[Node, int]]:
    """The values pytest passes a test's or fixture's parameters by name, from its decorators:
    `@pytest.mark.parametrize("a, b", [(1, 2), ...])` gives a and b (the list, and the place in
    each tuple; -1 for a single name), `@pytest.fixture(params=[...])` gives `request` (whose
    `.param` is one of them)."""
    parent = definition.parent
    if parent is None or parent.type != "decorated_definition":
        return {}
    found: dict[str, tuple[Node, int]] = {}
    for child in parent.named_children:
        expr = (
            child.named_children[0] if child.type == "decorator" and child.named_children else None
        )
        if expr is None or expr.type != "call":
            continue
        function, arguments = (
            expr.child_by_field_name("function"),
            expr.child_by_field_name("arguments"),
        )
        if function is None or function.text is None or arguments is None:
            continue
        args = [a for a in arguments.named_children if a.type != "comment"]
        if function.text.endswith(b"parametrize") and len(args) >= 2:
            names, values = string_content(args[0]), args[1]
            if names is not None and names.text is not None and values.type in ("list", "tuple"):
                split = [n.strip() for n in names.text.decode("utf-8", "replace").split(",")]
                for i, name in enumerate(split):
                    found[name] = (values, -1 if len(split) == 1 else i)
        elif function.text.endswith(b"fixture"):
            for arg in args:
                key, value = arg.child_by_field_name("name"), arg.child_by_field_name("value")
                is_params = (
                    arg.type == "keyword_argument" and key is not None and key.text == b"params"
                )
                if is_params and value is not None and value.type in ("list", "tuple"):
                    found["request"] = (value, REQUEST_PARAM)
    return found
