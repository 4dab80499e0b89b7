"""Classify a reference location by its syntactic context, to explain misses.

A recall or precision number says *that* forge is wrong; the category of each miss says *which
resolution case* is wrong (imports, ``self.x``, ``mod.x``, ``super()``, strings ...), which is
what the forge developer needs to act on.  Classification is purely lexical (``tokenize`` over
the file) so it works on any location any tool reports, even inside strings and comments.
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
MODULE_ATTR = "attribute on module alias (mod.x)"
CLASS_ATTR = "attribute on class name (Cls.x)"
OTHER_ATTR = "attribute on other receiver (obj.x)"
SUPER_CALL = "super() call"
DECORATOR = "decorator"
BASE_CLASS = "base class list"
KEYWORD_ARG = "keyword argument name"
STRING = "string/docstring/comment"
DUNDER_ALL = "__all__ entry"
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
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = node.module.split(".") if node.module else []
            if node.level:
                package = _package_of(relpath)
                package = package[: len(package) - (node.level - 1)] if node.level > 1 else package
                base = package + base
            for alias in node.names:
                if is_module(".".join([*base, alias.name])):
                    names.add(alias.asname or alias.name)
    return names


def build_context(text: str, relpath: str, is_module: Callable[[str], bool]) -> FileContext:
    """Prepare one file for classification; an untokenizable file gives ``ok=False``."""
    try:
        tokens, statements = _tokenize(text)
    except (tokenize.TokenError, SyntaxError):
        return FileContext(ok=False)
    aliases = module_alias_names(_imports_only(text, statements), relpath, is_module)
    return FileContext(tokens, statements, aliases)


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


def _receiver_category(statement: list[_Token], dot: int, aliases: set[str]) -> str:
    """Category of ``<receiver>.name`` from the tokens before the dot at index ``dot``."""
    if dot == 0:
        return OTHER_ATTR
    before = statement[dot - 1]
    if before.string == ")":
        opener = _matching_open(statement, dot - 1)
        if opener and statement[opener - 1].string == "super":
            return SUPER_CALL
        return OTHER_ATTR
    if before.type != tokenize.NAME:
        return OTHER_ATTR
    chain_start = dot - 1
    while chain_start >= 2 and statement[chain_start - 1].string == ".":
        if statement[chain_start - 2].type != tokenize.NAME:
            return OTHER_ATTR
        chain_start -= 2
    root = statement[chain_start].string
    single = chain_start == dot - 1
    if single and root in ("self", "cls"):
        return SELF_ATTR
    if root in aliases:
        return MODULE_ATTR
    if single and root[:1].isupper() and root != root.upper():
        return CLASS_ATTR
    return OTHER_ATTR


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


def _name_category(ctx: FileContext, token: _Token) -> str:
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
        return OTHER_DEFINITION
    if first == "@" and _is_decorator_target(statement, index):
        return DECORATOR
    if _in_base_list(statement, index):
        return BASE_CLASS
    if prev == ".":
        return _receiver_category(statement, index - 1, ctx.module_aliases)
    depth = _paren_depth(statement, index)
    if nxt == "=" and depth > 0 and first not in ("def", "async", "lambda"):
        return KEYWORD_ARG
    if depth == 0 and (nxt == "=" or (index == 0 and nxt in _ASSIGN_OPS)):
        return ASSIGN_TARGET
    return PLAIN_NAME


def _is_decorator_target(statement: list[_Token], index: int) -> bool:
    """True for ``@name`` / ``@pkg.name``, False for names inside the decorator's arguments."""
    return all(t.type == tokenize.NAME or t.string == "." for t in statement[1:index])


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
    ctx: FileContext, line: int, column: int, name: str, is_query_site: bool = False
) -> str:
    """Category of the reference to ``name`` at (1-based line, 1-based code-point column)."""
    if is_query_site:
        return DEFINITION_SITE
    if not ctx.ok:
        return OTHER
    token = ctx.token_at(line, column - 1)
    if token is None:
        return OTHER
    if token.type == tokenize.COMMENT:
        return STRING
    if token.type == tokenize.STRING:
        if _is_dunder_all(ctx, token):
            return DUNDER_ALL
        prefix = _STRING_PREFIX.match(token.string)
        return FSTRING if prefix and "f" in prefix.group().lower() else STRING
    if token.type != tokenize.NAME or keyword.iskeyword(token.string):
        return OTHER
    if token.string != name or token.start != (line, column - 1):
        return OTHER
    return _name_category(ctx, token)
