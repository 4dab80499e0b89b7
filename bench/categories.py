"""Classify a reference location by its syntactic context, to explain misses.

A recall or precision number says *that* forge is wrong; the category of each miss says *which
resolution case* is wrong (imports, ``self.x``, ``mod.x``, ``super()``, strings ...), which is
what the forge developer needs to act on.  Classification is purely lexical (``tokenize`` over
the file) so it works on any location any tool reports, even inside strings and comments.

Attributes are told apart by their receiver, because each receiver shape needs a different piece
of type inference: ``self.x`` / ``self.a.m`` (a chain through self: the attribute's declared
type), ``mod.x`` / ``mod.a.m``, ``Cls.x``, ``x.m`` (a local or parameter: its annotation or
assignment), ``x.a.m``, ``f().m`` / ``C().m`` (a return type or a constructor), ``a[k].m`` (a
container's item type).  Names inside string annotations, type comments and ``__all__`` are
references only a type checker indexes; the def line of an ``@overload`` or of a
``@x.setter``/``@x.deleter`` is another definition of the same symbol.  For incoming calls
(``calls``), a use without call parentheses comes first: a property's name read or assigned is a
call of its getter or setter (``property_reads``: the symbol is a property), and a function or
method used as a value (``sync_to_async(self.delete)``) is one basedpyright reports as a call.
"""

from __future__ import annotations

import ast
import bisect
import io
import keyword
import re
import textwrap
import tokenize
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from bench.textpos import split_lines

DEFINITION_SITE = "definition site"
OTHER_DEFINITION = "other def/class of the same name"
IMPORT = "import statement"
FROM_IMPORT = "from-import"
SELF_ATTR = "attribute access on self/cls"
SELF_CHAIN_ATTR = "attribute on a chain through self (self.a.m)"
MODULE_ATTR = "attribute on module alias (mod.x)"
MODULE_CHAIN_ATTR = "attribute on a chain through a module (mod.a.m)"
CLASS_ATTR = "attribute on class name (Cls.x)"
NAME_ATTR = "attribute on a plain name (x.m)"
NAME_CHAIN_ATTR = "attribute on a chain from a plain name (x.a.m)"
CALL_RESULT_ATTR = "attribute on a call result (f().m, C().m)"
SUBSCRIPT_ATTR = "attribute on a subscript (a[k].m)"
OTHER_ATTR = "attribute on other receiver (obj.x)"
SUPER_CALL = "super() call"
DECORATOR = "decorator"
BASE_CLASS = "base class list"
KEYWORD_ARG = "keyword argument name"
STRING = "string/docstring/comment"
DUNDER_ALL = "__all__ entry"
STRING_ANNOTATION = 'name in a string annotation/forward ref ("Foo")'
TYPE_COMMENT = "type comment (# type: Foo)"
OVERLOAD_DEF = "def line of an @overload"
ACCESSOR_DEF = "def line of a property accessor (@x.setter/@x.deleter, @property)"
ACCESSOR_DECORATOR = "the x of @x.setter/@x.deleter"
PARAMETER = "parameter name in a def (pytest fixture)"
PROPERTY_READ = "property read (no call parens)"
PROPERTY_WRITE = "property write (the setter runs)"
VALUE_USE = "function/method used as a value (no call parens)"
ALIASED_NAME = "another name at the location (import alias)"
ASSIGN_TARGET = "assignment target (rebinds the name)"
FSTRING = "inside an f-string"
PLAIN_NAME = "plain name (call/read)"
PLAIN_NAME_SAME_FILE = "plain name, same file as the definition"
PLAIN_NAME_OTHER_FILE = "plain name, other file (imported)"
OTHER = "other"

_ASSIGN_OPS = {
    ":",
    "+=",
    "-=",
    "*=",
    "/=",
    "//=",
    "%=",
    "|=",
    "&=",
    "^=",
    "**=",
    "@=",
    ">>=",
    "<<=",
}
_STRING_PREFIX = re.compile(r"[A-Za-z]*")
_TYPE_COMMENT = re.compile(r"#\s*type:\s*(?!ignore\b)\S")
_GENERIC_BUILTINS = {"list", "dict", "tuple", "set", "frozenset", "type"}
_NOT_TYPE_SUBSCRIPTS = {"Literal"}  # its strings are values, not types
_TYPE_EXPR_NODES = (
    ast.Expression,
    ast.Name,
    ast.Attribute,
    ast.Subscript,
    ast.Tuple,
    ast.List,
    ast.BinOp,
    ast.BitOr,
    ast.Load,
    ast.Constant,
)
_COMPOUND = {"if", "elif", "else", "for", "while", "with", "try", "except", "finally", "class"}
_SKIP = {tokenize.NL, tokenize.COMMENT, tokenize.INDENT, tokenize.DEDENT, tokenize.NEWLINE}


@dataclass
class _Token:
    type: int
    string: str
    start: tuple[int, int]
    end: tuple[int, int]
    statement: int  # index into FileContext.statements


@dataclass
class FileContext:
    """Tokens of one file grouped into logical lines, plus names bound to modules."""

    tokens: list[_Token] = field(default_factory=list)
    statements: list[list[_Token]] = field(default_factory=list)
    module_aliases: set[str] = field(default_factory=set)
    ok: bool = True
    alias_modules: dict[str, str] = field(default_factory=dict)  # bound name -> dotted module
    is_module: Callable[[str], bool] = field(default=lambda dotted: False)
    text: str = ""
    _tree: ast.Module | None = None

    @property
    def tree(self) -> ast.Module | None:
        """The file's AST, parsed on first use (only receivers that are plain names need it)."""
        if self._tree is None and self.ok:
            try:
                self._tree = ast.parse(self.text)
            except (SyntaxError, ValueError, MemoryError, RecursionError):
                self.ok = False
        return self._tree

    def __post_init__(self) -> None:
        self._starts = [t.start for t in self.tokens]

    def token_at(self, line: int, col0: int) -> _Token | None:
        """The token containing (1-based line, 0-based code-point column), if any."""
        index = bisect.bisect_right(self._starts, (line, col0)) - 1
        if index < 0:
            return None
        token = self.tokens[index]
        return token if (line, col0) < token.end else None


def _tokenize(text: str) -> tuple[list[_Token], list[list[_Token]]]:
    """Tokenize into tokens and logical statements (significant tokens only)."""
    tokens: list[_Token] = []
    statements: list[list[_Token]] = [[]]
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        token = _Token(tok.type, tok.string, tok.start, tok.end, len(statements) - 1)
        tokens.append(token)
        if tok.type not in _SKIP and tok.type != tokenize.ENDMARKER:
            statements[-1].append(token)
        if tok.type == tokenize.NEWLINE:
            statements.append([])
    return tokens, statements


def _package_of(relpath: str) -> list[str]:
    """Dotted package parts a relative import in ``relpath`` starts from."""
    parts = list(PurePosixPath(relpath).with_suffix("").parts)
    return parts[:-1]


def module_alias_names(tree: ast.AST, relpath: str, is_module: Callable[[str], bool]) -> set[str]:
    """Names a file binds to *modules*, so ``name.x`` can be told apart from ``obj.x``.

    ``import a.b`` binds ``a``, ``import a.b as c`` binds ``c``; ``from p import m`` binds ``m``
    only when ``is_module("p.m")`` (the corpus has such a module).
    """
    return set(module_aliases_of(tree, relpath, is_module))


def module_aliases_of(
    tree: ast.AST, relpath: str, is_module: Callable[[str], bool]
) -> dict[str, str]:
    """``module_alias_names`` with the dotted module each name is bound to."""
    names: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    names[alias.asname] = alias.name
                else:
                    names[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            base = node.module.split(".") if node.module else []
            if node.level:
                package = _package_of(relpath)
                package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = package + base
            for alias in node.names:
                dotted = ".".join([*base, alias.name])
                if is_module(dotted):
                    names[alias.asname or alias.name] = dotted
    return names


def build_context(text: str, relpath: str, is_module: Callable[[str], bool]) -> FileContext:
    """Prepare one file for classification; an untokenizable file gives ``ok=False``."""
    try:
        tokens, statements = _tokenize(text)
    except (tokenize.TokenError, SyntaxError):
        return FileContext(ok=False)
    aliases = module_aliases_of(_imports_only(text, statements), relpath, is_module)
    return FileContext(tokens, statements, set(aliases), True, aliases, is_module, text)


def _imports_only(text: str, statements: list[list[_Token]]) -> ast.Module:
    """An AST of just the file's import statements.

    Parsing only these (found from the tokens) instead of the whole file keeps categorising
    thousands of locations across hundreds of files fast; an import nested in a block is
    dedented first, and one that still does not parse is skipped.
    """
    lines = split_lines(text)
    body: list[ast.stmt] = []
    for statement in statements:
        if not statement or statement[0].string not in ("import", "from"):
            continue
        chunk = "\n".join(lines[statement[0].start[0] - 1 : statement[-1].end[0]])
        try:
            body.extend(ast.parse(textwrap.dedent(chunk)).body)
        except (SyntaxError, ValueError):
            continue
    return ast.Module(body=body, type_ignores=[])


def _matching_open(statement: list[_Token], close_index: int) -> int | None:
    """Index of the bracket that opens the one at ``close_index`` (scanning backwards)."""
    depth = 0
    for index in range(close_index, -1, -1):
        text = statement[index].string
        if text in (")", "]", "}"):
            depth += 1
        elif text in ("(", "[", "{"):
            depth -= 1
            if depth == 0:
                return index
    return None


def _is_operand_end(token: _Token | None) -> bool:
    """True when ``token`` ends an expression a bracket can apply to: ``f(``, ``a[``, ``)(``."""
    if token is None:
        return False
    if token.type == tokenize.NAME:
        return not keyword.iskeyword(token.string)
    return token.string in (")", "]")


def _bracket_receiver(statement: list[_Token], close: int) -> str:
    """Category of a receiver that ends with the bracket at ``close``: a call or a subscript."""
    opener = _matching_open(statement, close)
    if opener is None:
        return OTHER_ATTR
    before = statement[opener - 1] if opener > 0 else None
    if statement[close].string == ")":
        if before is not None and before.string == "super":
            return SUPER_CALL
        return CALL_RESULT_ATTR if _is_operand_end(before) else OTHER_ATTR
    if statement[close].string == "]":
        return SUBSCRIPT_ATTR if _is_operand_end(before) else OTHER_ATTR
    return OTHER_ATTR


def _receiver_category(statement: list[_Token], dot: int, ctx: FileContext) -> str:
    """Category of ``<receiver>.name`` from the tokens before the dot at index ``dot``."""
    if dot == 0:
        return OTHER_ATTR
    before = statement[dot - 1]
    if before.string in (")", "]"):
        return _bracket_receiver(statement, dot - 1)
    if before.type != tokenize.NAME:
        return OTHER_ATTR
    chain_start = dot - 1
    while (
        chain_start >= 2
        and statement[chain_start - 1].string == "."
        and statement[chain_start - 2].type == tokenize.NAME
    ):
        chain_start -= 2
    if chain_start >= 1 and statement[chain_start - 1].string == ".":
        # the chain starts after a call or subscript: f().a.m, a[k].b.m
        if chain_start >= 2 and statement[chain_start - 2].string in (")", "]"):
            return _bracket_receiver(statement, chain_start - 2)
        return OTHER_ATTR
    root = statement[chain_start].string
    single = chain_start == dot - 1
    if root in ("self", "cls"):
        return SELF_ATTR if single else SELF_CHAIN_ATTR
    if root in ctx.module_aliases:
        if single:
            return MODULE_ATTR
        rest = "".join(t.string for t in statement[chain_start + 1 : dot])
        dotted = ctx.alias_modules.get(root, root) + rest
        return MODULE_ATTR if ctx.is_module(dotted) else MODULE_CHAIN_ATTR
    if single and root[:1].isupper() and root != root.upper():
        return CLASS_ATTR
    base = NAME_ATTR if single else NAME_CHAIN_ATTR
    binding = binding_of(ctx, statement[chain_start])
    return f"{base}, x: {binding}" if binding else base


# -- how a receiver name was bound ---------------------------------------------------------------

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


def _innermost_function(tree: ast.Module, line: int) -> ast.AST | None:
    """The innermost function (or lambda) whose lines contain ``line``, if any."""
    best: ast.AST | None = None
    for node in ast.walk(tree):
        if isinstance(node, _SCOPES):
            start = node.lineno
            end = getattr(node, "end_lineno", None) or start
            if start <= line <= end and (best is None or start >= best.lineno):  # type: ignore[attr-defined]
                best = node
    return best


def _walk_scope(node: ast.AST) -> list[ast.AST]:
    """Nodes of one scope: its body without nested functions' and classes' bodies."""
    out: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        out.append(child)
        if not isinstance(child, (*_SCOPES, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(child))
    return out


def _names_in(target: ast.AST | None, name: str) -> bool:
    """True when the assignment target binds ``name`` (``x``, ``a, x``, ``*x``; not ``x.a``
    or ``x[k]``, which use it)."""
    if isinstance(target, ast.Name):
        return target.id == name
    if isinstance(target, (ast.Tuple, ast.List)):
        return any(_names_in(element, name) for element in target.elts)
    if isinstance(target, ast.Starred):
        return _names_in(target.value, name)
    return False


def _bindings(scope: ast.AST, name: str) -> list[str]:
    """Every way ``scope`` binds ``name``, in source order."""
    found: list[tuple[int, str]] = []
    if isinstance(scope, _SCOPES):
        a = scope.args
        for arg in [*a.posonlyargs, *a.args, *a.kwonlyargs, a.vararg, a.kwarg]:
            if arg is not None and arg.arg == name:
                kind = "annotated parameter" if arg.annotation is not None else "parameter"
                if arg.arg in ("self", "cls"):
                    continue
                found.append((arg.lineno, kind))
    for node in _walk_scope(scope):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Assign) and any(_names_in(t, name) for t in node.targets):
            value = node.value
            kind = "assigned from a call" if isinstance(value, ast.Call) else "assigned"
            found.append((line, kind))
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)) and _names_in(node.target, name):
            found.append(
                (line, "annotated local" if isinstance(node, ast.AnnAssign) else "assigned")
            )
        elif isinstance(node, ast.NamedExpr) and _names_in(node.target, name):
            found.append((line, "assigned"))
        elif isinstance(node, (ast.For, ast.AsyncFor)) and _names_in(node.target, name):
            found.append((line, "loop variable"))
        elif isinstance(node, ast.comprehension) and _names_in(node.target, name):
            found.append((getattr(node.target, "lineno", 0), "comprehension variable"))
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            if any(_names_in(item.optional_vars, name) for item in node.items):
                found.append((line, "with ... as"))
        elif isinstance(node, ast.ExceptHandler) and node.name == name:
            found.append((line, "except ... as"))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if (alias.asname or alias.name.split(".")[0]) == name:
                    found.append((line, "imported"))
        elif (
            isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and node.name == name
        ):
            found.append((line, "a def/class"))
    return [kind for _, kind in sorted(found)]


def binding_of(ctx: FileContext, token: _Token) -> str | None:
    """How the plain name that roots a receiver is bound: in the innermost function around it
    (a parameter, annotated or not; assigned from a call; a loop or ``with`` variable ...), else
    at module level (``module-level ...``); "bound more than once" when several statements bind
    it; None when the file does not parse."""
    tree = ctx.tree
    if tree is None:
        return None
    name = token.string
    scope = _innermost_function(tree, token.start[0])
    while scope is not None:
        kinds = _bindings(scope, name)
        if kinds:
            return kinds[0] if len(kinds) == 1 else "bound more than once"
        # not bound here: a closure variable from an enclosing function, or a global
        scope = _innermost_function_around(tree, scope)
    kinds = _bindings(tree, name)
    if not kinds:
        return "not bound in the file (builtin or star import)"
    return "module-level " + (kinds[0] if len(kinds) == 1 else "name bound more than once")


def _innermost_function_around(tree: ast.Module, inner: ast.AST) -> ast.AST | None:
    """The innermost function strictly enclosing the function ``inner``."""
    best: ast.AST | None = None
    for node in ast.walk(tree):
        if isinstance(node, _SCOPES) and node is not inner:
            start, end = node.lineno, getattr(node, "end_lineno", None) or node.lineno
            inner_start = inner.lineno  # type: ignore[attr-defined]
            inner_end = getattr(inner, "end_lineno", None) or inner_start
            inside = (
                start <= inner_start
                and inner_end <= end
                and (start, end)
                != (
                    inner_start,
                    inner_end,
                )
            )
            if inside and (best is None or start >= best.lineno):  # type: ignore[attr-defined]
                best = node
    return best


def _paren_depth(statement: list[_Token], index: int) -> int:
    """Bracket nesting depth at token ``index`` within its statement."""
    depth = 0
    for token in statement[:index]:
        if token.string in ("(", "[", "{"):
            depth += 1
        elif token.string in (")", "]", "}"):
            depth -= 1
    return depth


def _in_base_list(statement: list[_Token], index: int) -> bool:
    """True when token ``index`` sits inside ``class Name( ... )``."""
    return (
        len(statement) > 3
        and statement[0].string == "class"
        and statement[2].string == "("
        and index > 2
        and _paren_depth(statement, index) > 0
    )


def decorator_names(ctx: FileContext, statement_index: int) -> list[str]:
    """The decorators above the def/class statement at ``statement_index``, as dotted text
    without their arguments (``overload``, ``x.setter``, ``functools.cached_property``)."""
    names = []
    index = statement_index - 1
    while index >= 0 and ctx.statements[index] and ctx.statements[index][0].string == "@":
        parts = []
        for token in ctx.statements[index][1:]:
            if token.string == "(":
                break
            parts.append(token.string)
        names.append("".join(parts))
        index -= 1
    return names[::-1]


def decorators_at(ctx: FileContext, line: int) -> list[str]:
    """The decorators of the def/class whose name is on (1-based) ``line``."""
    if not ctx.ok:
        return []
    for index, statement in enumerate(ctx.statements):
        spans = bool(statement) and statement[0].start[0] <= line <= statement[-1].end[0]
        if spans and any(t.string in ("def", "class") for t in statement[:3]):
            return decorator_names(ctx, index)
    return []


def is_property_decorator(decorator: str) -> bool:
    """``property``, ``cached_property``, ``functools.cached_property``, ``x.getter`` ..."""
    last = decorator.rsplit(".", 1)[-1]
    return last.endswith("property") or last == "getter"


def is_accessor_decorator(decorator: str) -> bool:
    """A property's getter, setter or deleter: ``property``, ``x.setter``, ``x.deleter`` ..."""
    last = decorator.rsplit(".", 1)[-1]
    return is_property_decorator(decorator) or ("." in decorator and last in ("setter", "deleter"))


def _decorated_definition(decorators: list[str]) -> str:
    """What a def's decorators make it: an overload signature, a property accessor, or
    OTHER_DEFINITION."""
    for decorator in decorators:
        if decorator.rsplit(".", 1)[-1] == "overload":
            return OVERLOAD_DEF
        if is_accessor_decorator(decorator):
            return ACCESSOR_DEF
    return OTHER_DEFINITION


def _definition_category(ctx: FileContext, statement_index: int) -> str:
    """Another def of the same name: an overload signature, an accessor, or a different one."""
    return _decorated_definition(decorator_names(ctx, statement_index))


def refine_definition(category: str, query_decorators: list[str]) -> str:
    """Another def of the same name, seen from the queried symbol: when the *query* is an
    overload signature or a property accessor, the other def is one of its siblings."""
    if category != OTHER_DEFINITION:
        return category
    return _decorated_definition(query_decorators)


def _name_category(
    ctx: FileContext, token: _Token, property_reads: bool = False, calls: bool = False
) -> str:
    """Category of a NAME token that is not the query's own definition."""
    statement = ctx.statements[token.statement]
    index = next(i for i, t in enumerate(statement) if t is token)
    first = statement[0].string
    prev = statement[index - 1].string if index else ""
    nxt = statement[index + 1].string if index + 1 < len(statement) else ""
    if first == "import":
        return IMPORT
    if first == "from":
        return FROM_IMPORT
    if prev in ("def", "class"):
        return _definition_category(ctx, token.statement)
    if first == "@" and _is_decorator_target(statement, index):
        accessor = index + 2 < len(statement) and statement[index + 2].string
        if index == 1 and nxt == "." and accessor in ("setter", "deleter", "getter"):
            return ACCESSOR_DECORATOR
        return DECORATOR
    if _in_base_list(statement, index):
        return BASE_CLASS
    depth = _paren_depth(statement, index)
    if (
        first in ("def", "async")
        and depth == 1
        and prev in ("(", ",", "*", "**")
        and nxt in (",", ")", ":", "=")
    ):
        return PARAMETER
    if prev == ".":
        assigned = depth == 0 and _is_assignment_target(statement, index, nxt)
        if property_reads and nxt != "(":
            return PROPERTY_WRITE if assigned else PROPERTY_READ
        if calls and nxt != "(" and not assigned:
            return VALUE_USE
        return _receiver_category(statement, index - 1, ctx)
    if nxt == "=" and depth > 0 and first not in ("def", "async", "lambda"):
        return KEYWORD_ARG
    if depth == 0 and (nxt == "=" or (index == 0 and nxt in _ASSIGN_OPS)):
        return ASSIGN_TARGET
    if calls and nxt != "(":
        return VALUE_USE
    return PLAIN_NAME


def _is_assignment_target(statement: list[_Token], index: int, nxt: str) -> bool:
    """True for the attribute of ``x.a = v``, ``x.a += v``, ``x.a: T = v`` (whose chain starts
    the statement); not for ``if x.a:``, ``lambda: x.a`` or ``{k: x.a}``."""
    if nxt == "=":
        return True
    if nxt not in _ASSIGN_OPS:
        return False
    start = index
    while (
        start >= 2
        and statement[start - 1].string == "."
        and statement[start - 2].type == tokenize.NAME
    ):
        start -= 2
    return start == 0


def _is_decorator_target(statement: list[_Token], index: int) -> bool:
    """True for ``@name`` / ``@pkg.name``, False for names inside the decorator's arguments."""
    return all(t.type == tokenize.NAME or t.string == "." for t in statement[1:index])


def _is_type_expression(literal: str) -> bool:
    """True when a string literal's value parses as a type expression (``Foo``, ``a.B``,
    ``list[Foo]``, ``Foo | None``), not as prose or a value."""
    try:
        value = ast.literal_eval(literal)
        tree = ast.parse(value.strip(), mode="eval") if isinstance(value, str) else None
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        return False
    if tree is None or not value.strip():
        return False
    for node in ast.walk(tree):
        if not isinstance(node, _TYPE_EXPR_NODES):
            return False
        if isinstance(node, ast.BinOp) and not isinstance(node.op, ast.BitOr):
            return False
        if isinstance(node, ast.Constant) and node.value not in (None, Ellipsis):
            return False
    return True


def _is_type_subscript(statement: list[_Token], opener: int) -> bool:
    """True for the ``[`` of ``Optional[``, ``typing.Union[``, ``dict[``, ``Foo[``."""
    if opener == 0 or statement[opener - 1].type != tokenize.NAME:
        return False
    name = statement[opener - 1].string
    if name in _NOT_TYPE_SUBSCRIPTS:
        return False
    return name in _GENERIC_BUILTINS or (name[:1].isupper() and name != name.upper())


def _is_string_annotation(ctx: FileContext, token: _Token) -> bool:
    """True for a string in annotation position whose value is a type expression: after
    ``->``, after the ``:`` of a parameter or variable annotation, inside a generic's brackets
    (``Optional["Foo"]``, ``Union["URL", str]``), ``cast("Foo", x)``, ``bound="Foo"``."""
    if not _is_type_expression(token.string):
        return False
    statement = ctx.statements[token.statement]
    index = next(i for i, t in enumerate(statement) if t is token)
    prev = statement[index - 1].string if index else ""
    if prev == "->":
        return True
    if prev == "=" and index >= 2 and statement[index - 2].string == "bound":
        return True
    depth = _paren_depth(statement, index)
    if prev == ":":
        if statement[0].string in ("def", "async"):
            return depth > 0
        if any(t.string == "lambda" for t in statement[:index]):
            return False
        return depth == 0 and statement[0].string not in _COMPOUND
    # enclosing brackets, innermost first
    close_depth = 0
    for at in range(index - 1, -1, -1):
        text = statement[at].string
        if text in (")", "]", "}"):
            close_depth += 1
        elif text in ("(", "[", "{"):
            if close_depth:
                close_depth -= 1
                continue
            if text == "[" and _is_type_subscript(statement, at):
                return True
            if text == "(" and at > 0 and statement[at - 1].string == "cast":
                return at == index - 1
    return False


def _is_dunder_all(ctx: FileContext, token: _Token) -> bool:
    statement = ctx.statements[token.statement]
    return len(statement) > 1 and statement[0].string == "__all__"


def split_plain_name(category: str, location_path: str, definition_path: str) -> str:
    """Split plain-name uses by file: in another file the name came in through an import.

    Plain names are the largest category; whether a miss is local or cross-file tells whether
    scoping or import resolution failed.
    """
    if category != PLAIN_NAME:
        return category
    return PLAIN_NAME_SAME_FILE if location_path == definition_path else PLAIN_NAME_OTHER_FILE


def categorize(
    ctx: FileContext,
    line: int,
    column: int,
    name: str,
    is_query_site: bool = False,
    property_reads: bool = False,
    calls: bool = False,
) -> str:
    """Category of the reference to ``name`` at (1-based line, 1-based code-point column).

    ``property_reads``: ``name`` is a property and the location an incoming call site, so an
    attribute read (written) without call parentheses is ``PROPERTY_READ`` (``PROPERTY_WRITE``)
    whatever its receiver.  ``calls``: the location is an incoming call site, so any other use
    without call parentheses is ``VALUE_USE``.
    """
    if is_query_site:
        return DEFINITION_SITE
    if not ctx.ok:
        return OTHER
    token = ctx.token_at(line, column - 1)
    if token is None:
        return OTHER
    if token.type == tokenize.COMMENT:
        return TYPE_COMMENT if _TYPE_COMMENT.match(token.string) else STRING
    if token.type == tokenize.STRING:
        if _is_dunder_all(ctx, token):
            return DUNDER_ALL
        prefix = _STRING_PREFIX.match(token.string)
        if prefix and "f" in prefix.group().lower():
            return FSTRING
        return STRING_ANNOTATION if _is_string_annotation(ctx, token) else STRING
    if token.type != tokenize.NAME or keyword.iskeyword(token.string):
        return OTHER
    if token.start != (line, column - 1):
        return OTHER
    if token.string != name:
        return ALIASED_NAME
    return _name_category(ctx, token, property_reads, calls)
