"""After an edit inside one function body, extract that function again instead of the file.

Typing happens in function bodies. The facts inside the body of a top-level function, or of a
method of a top-level class, depend only on its own text and on two things about the file: the
module-level names (a local name that shadows a builtin is a reference, a builtin is not) and
whether it has a star import. So that function alone is extracted again and spliced into the
previous facts: its symbols and references replaced, everything after it moved down by the
edit's rows, the enclosing class and the module re-measured.

Whenever a condition for that does not hold — several edits at once, the edit reaches a header
or changes where the function ends, a parse error outside the function (error recovery is not
local), the function holds imports, definitions or fields appear or vanish — None says
"extract the whole file". Property tests check that the splice and a
full extraction give identical facts.
"""

from __future__ import annotations

from collections.abc import Sequence

from tree_sitter import Node, Tree

from forge_lsp.parsing.facts import (
    CLASS,
    FIELD,
    FUNCTION,
    IMPORT,
    METHOD,
    NO_TARGET,
    FileFacts,
    RefFact,
    SymbolFact,
)
from forge_lsp.parsing.incremental import ByteEdit
from forge_lsp.parsing.python import _FileExtraction
from forge_lsp.parsing.python_syntax import SYMBOL, Scope
from forge_lsp.parsing.tree_positions import MAX_QUERY_DEPTH

_WRAPPERS = ("decorated_definition",)
_NESTING_ABOVE_A_DEF = 100  # levels of classes, defs and blocks a def may sit under


def reextract_body(
    path: str,
    source: bytes,
    tree: Tree,
    old: FileFacts,
    edits: Sequence[ByteEdit],
    old_errors: Sequence[tuple[int, int]],
    errors: Sequence[tuple[int, int]],
) -> FileFacts | None:
    """The facts of `source`, from `old` (the facts of the text before `edits`), or None."""
    if len(edits) != 1 or len(old.symbols) < 2:
        return None
    edit = edits[0]
    root = tree.root_node
    found = _function_around(root, edit.start_byte, edit.new_end_byte)
    if found is None:
        return None
    func, cls = found
    if func.descendant_count > MAX_QUERY_DEPTH - _NESTING_ABOVE_A_DEF:
        return None  # it could hold code nested past the query's depth: as a whole file does
    # Error recovery is not local: a parse error elsewhere may come out differently now.
    grown = edit.new_end_byte - edit.old_end_byte
    start, end = func.start_byte, func.end_byte
    if any(a < start or b > end for a, b in errors) or any(
        a < start or b > end - grown for a, b in old_errors
    ):
        return None
    x = _FileExtraction(path, source, tree)
    n = _old_index(x, old, func, METHOD if cls is not None else FUNCTION)
    if n is None:
        return None
    before = old.symbols[n]
    rows = edit.new_end_point[0] - edit.old_end_point[0]
    end_row, end_byte_col = func.end_point
    if end_row - rows != before.end_line:
        return None  # the function now ends elsewhere: it took in or let go of statements
    if edit.new_end_point[0] < end_row and x.col(end_row, end_byte_col) != before.end_col:
        return None
    if any(i.line >= before.line and i.line <= before.end_line for i in old.imports):
        return None  # imports inside: their references sit apart, at the front of the list

    block = [i for i, s in enumerate(old.symbols) if i and _within(s.line, s.col, before)]
    if not block or block[0] != n:
        return None
    c = before.parent
    mini = _extract_function(x, old, func, cls, c, block, before)
    if mini is None:
        return None
    first = 2 if cls is not None else 1
    added = mini.symbols[first:]
    if len(added) != len(block):
        return None
    mapping = {0: 0, 1: c} if cls is not None else {0: 0}
    for k, gi in enumerate(block, first):
        new, was = mini.symbols[k], old.symbols[gi]
        if (new.kind, new.qualname) != (was.kind, was.qualname):
            return None
        mapping[k] = gi

    symbols = list(old.symbols)
    for k, gi in enumerate(block, first):
        sym = mini.symbols[k]
        symbols[gi] = sym._replace(parent=mapping[sym.parent])
    last = before.end_line
    for i, sym in enumerate(old.symbols):
        if i in mapping.values():
            continue
        if sym.line == last and (sym.line, sym.col) > (before.line, before.col):
            return None  # something after the function on its last line
        if sym.line > last:
            symbols[i] = sym._replace(
                line=sym.line + rows, end_line=sym.end_line + rows, sel_line=sym.sel_line + rows
            )
    if cls is not None:
        cls_row, cls_col = cls.end_point
        symbols[c] = symbols[c]._replace(end_line=cls_row, end_col=x.col(cls_row, cls_col))
    symbols[0] = symbols[0]._replace(end_line=root.end_point[0])

    refs = _splice_refs(old.refs, mini.refs, before, rows, mapping)
    if refs is None:
        return None
    facts = FileFacts(
        path=path,
        language=old.language,
        symbols=symbols,
        refs=refs,
        imports=[i._replace(line=i.line + rows) if i.line > last else i for i in old.imports],
        exports=old.exports,
        parse_ok=not root.has_error,
        is_ascii=x.facts.is_ascii,
    )
    return facts


def _function_around(root: Node, start: int, end: int) -> tuple[Node, Node | None] | None:
    """The top-level function, or method of a top-level class, whose body holds [start, end);
    with its class."""
    node = root.descendant_for_byte_range(start, end)
    chain: list[Node] = []
    while node is not None:
        chain.append(node)
        node = node.parent
    functions = [n for n in chain if n.type == "function_definition"]
    if not functions:
        return None
    func = functions[-1]  # the outermost: nested functions are part of its body
    body = func.child_by_field_name("body")
    if body is None or not (body.start_byte <= start and end <= body.end_byte):
        return None
    parent = _unwrap(func.parent)
    if parent is not None and parent.type == "module":
        return func, None
    if parent is None or parent.type != "block":
        return None
    cls = parent.parent
    if cls is None or cls.type != "class_definition":
        return None
    outer = _unwrap(cls.parent)
    if outer is None or outer.type != "module":
        return None
    return func, cls


def _unwrap(node: Node | None) -> Node | None:
    while node is not None and node.type in _WRAPPERS:
        node = node.parent
    return node


def _within(line: int, col: int, sym: SymbolFact) -> bool:
    return (sym.line, sym.col) <= (line, col) <= (sym.end_line, sym.end_col)


def _old_index(x: _FileExtraction, old: FileFacts, func: Node, kind: str) -> int | None:
    """The function's index in the old facts, found by where its name is (before the edit)."""
    name = func.child_by_field_name("name")
    if name is None:
        return None
    row, col = name.start_point
    col = x.col(row, col)
    found = [
        i
        for i, s in enumerate(old.symbols)
        if s.kind == kind and s.sel_line == row and s.sel_col == col
    ]
    return found[0] if len(found) == 1 else None


def _extract_function(
    x: _FileExtraction,
    old: FileFacts,
    func: Node,
    cls: Node | None,
    c: int,
    block: list[int],
    before: SymbolFact,
) -> FileFacts | None:
    """Run the extractor over the function alone, its surroundings set up as the whole-file
    run would have them."""
    x.facts.symbols.append(old.symbols[0])
    for sym in old.symbols:
        if sym.parent == 0:
            x.module.bindings.setdefault(sym.name, (SYMBOL, -1))
    for imp in old.imports:
        if imp.module_level and imp.name != "*":
            bound = imp.alias or (imp.name if imp.name else imp.module.split(".", 1)[0])
            x.module.bindings.setdefault(bound, (SYMBOL, -1))
    x.has_star_import = any(imp.name == "*" for imp in old.imports)
    if cls is not None:
        if old.symbols[c].kind != CLASS:
            return None
        x.facts.symbols.append(old.symbols[c]._replace(parent=0))
        scope = Scope("class", cls, cls.start_byte, cls.end_byte)
        scope.parent = x.module
        scope.symbol = 1
        x.scopes.append(scope)
        x._starts.append(cls.start_byte)
        members = set(block)
        later: set[str] = set()
        for i, sym in enumerate(old.symbols):
            if sym.parent != c or i in members:
                continue
            if sym.kind == FIELD and (sym.sel_line, sym.sel_col) > (before.line, before.col):
                later.add(sym.name)  # declared by a method after this one
            else:
                x.declared.add((1, sym.name))
    try:
        facts = x.run(func)
    finally:
        x.release()
    if cls is not None and any(
        s.kind == FIELD and s.parent == 1 and s.name in later for s in facts.symbols[2:]
    ):
        return None  # this function now declares a field a later method used to
    return facts


def _splice_refs(
    old: list[RefFact],
    new: list[RefFact],
    func: SymbolFact,
    rows: int,
    mapping: dict[int, int],
) -> list[RefFact] | None:
    inside = [i for i, r in enumerate(old) if _within(r.line, r.col, func)]
    if any(old[i].role == IMPORT for i in inside):
        return None
    if inside:
        start, stop = inside[0], inside[-1] + 1
        if stop - start != len(inside):
            return None
    else:  # no references in it before: they go where document order puts them
        start = stop = next(
            (
                i
                for i, r in enumerate(old)
                if r.role != IMPORT and (r.line, r.col) > (func.line, func.col)
            ),
            len(old),
        )
    last = func.end_line
    out: list[RefFact] = []
    for r in old[:start]:
        if r.line == last and r.col > func.end_col:
            return None
        out.append(r._replace(line=r.line + rows) if r.line > last else r)
    for r in new:
        out.append(
            r._replace(
                scope=mapping[r.scope],
                target=mapping[r.target] if r.target != NO_TARGET else NO_TARGET,
            )
        )
    for r in old[stop:]:
        if r.line == last:
            return None
        out.append(r._replace(line=r.line + rows) if r.line > last else r)
    return out
