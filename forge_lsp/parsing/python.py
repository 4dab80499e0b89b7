"""Python extraction: tree-sitter syntax to symbols, references and imports.

One tree-sitter query finds every node of interest in C; Python then does a two-pass scope
analysis (bindings first, uses second, as CPython's compiler does), so that a local `x` never
becomes a reference to the module's `x` and only names that can be seen from other files are kept.
Cross-file meaning (what `foo` or `mod.bar` refers to) is left to the resolver: a reference leaves
here with its name and a *receiver* expression that resolution can evaluate without reparsing.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from tree_sitter import Node, Parser, QueryCursor, Tree

from forge_lsp.parsing.facts import (
    ATTRIBUTE,
    CALL,
    CLASS,
    DECORATE,
    FUNCTION,
    IMPORT,
    INHERIT,
    LOCAL_RECEIVER,
    METHOD,
    MODULE,
    NO_TARGET,
    READ,
    WRITE,
    FileFacts,
    RefFact,
    SymbolFact,
)

if TYPE_CHECKING:
    from forge_lsp.parsing.incremental import ByteEdit
from forge_lsp.parsing import python_bindings, python_declared, python_imports
from forge_lsp.parsing.python_bindings import (
    Assignment,
)
from forge_lsp.parsing.python_syntax import (
    BUILTINS,
    IMPORTED,
    LANGUAGE,
    QUERY,
    SYMBOL,
    Scope,
    head_identifier,
    identifiers_in,
    start_byte,
)
from forge_lsp.parsing.python_types import ExpressionEncoder
from forge_lsp.parsing.tree_positions import MAX_QUERY_DEPTH, ByteColumns, identifiers_below

_SIGNATURE_LIMIT = 240


class PythonExtractor:
    language = "python"
    suffixes: tuple[str, ...] = (".py", ".pyi")

    def __init__(self) -> None:
        self._local = threading.local()  # a Parser is not thread-safe: one per thread

    def _parser(self) -> Parser:
        parser: Parser | None = getattr(self._local, "parser", None)
        if parser is None:
            parser = self._local.parser = Parser(LANGUAGE)
        return parser

    def parse(self, source: bytes, old_tree: Tree | None = None) -> Tree:
        parser = self._parser()
        return parser.parse(source, old_tree) if old_tree else parser.parse(source)

    def extract(self, path: str, source: bytes, tree: Tree | None = None) -> FileFacts:
        if tree is None:
            tree = self.parse(source)
        extraction = _FileExtraction(path, source, tree)
        try:
            return extraction.run()
        finally:
            extraction.release()

    def reextract(
        self,
        path: str,
        source: bytes,
        tree: Tree,
        old: FileFacts,
        edits: Sequence[ByteEdit],
        old_errors: Sequence[tuple[int, int]],
        errors: Sequence[tuple[int, int]],
    ) -> FileFacts | None:
        from forge_lsp.parsing.python_body import reextract_body

        return reextract_body(path, source, tree, old, edits, old_errors, errors)


class _FileExtraction:
    """State for extracting one file; discarded afterwards."""

    def __init__(self, path: str, source: bytes, tree: Tree) -> None:
        self.src = source
        self.tree = tree
        self.facts = FileFacts(path=path, language="python", parse_ok=not tree.root_node.has_error)
        self.facts.is_ascii = source.isascii()
        # For ASCII sources byte offsets are string offsets: slice one str, skip a decode per name.
        self.ascii_text = source.decode("ascii") if self.facts.is_ascii else None
        self._lines: list[bytes] | None = None
        self._line_columns: dict[int, ByteColumns] = {}
        self.module = Scope("module", None, 0, len(source) + 1)
        self.scopes: list[Scope] = [self.module]
        self._starts: list[int] = [0]
        self.skip: set[int] = set()  # identifiers that are not references (names of defs, params…)
        self.writes: set[int] = set()
        self.calls: set[int] = set()
        self.decorates: set[int] = set()
        self.inherits: set[int] = set()
        self.attributes: dict[int, Node] = {}  # attribute-name start byte -> receiver node
        self.import_refs: list[tuple[Node, str, str]] = []  # (identifier, name, receiver)
        self.has_star_import = False
        self.encoder = ExpressionEncoder(self)
        # what gives symbols their types, read once every binding is known (_emit_types)
        self.typed_symbols: list[tuple[int, Scope]] = []  # (symbol index, its scope)
        self.symbol_values: dict[int, list[Assignment]] = {}  # module/class-level bindings
        self.attribute_values: dict[tuple[int, int], Assignment] = {}  # `self.x = ...` by position
        self.function_scopes: dict[int, Scope] = {}  # symbol index -> its def's scope
        self.returns: dict[int, list[Node]] = {}  # def start byte -> values it returns
        self.generators: dict[int, list[Node]] = {}  # def start byte -> the values it yields
        self.overloads: set[int] = set()  # symbols declared by an @overload
        self.redeclarations: list[tuple[Node, int, Scope]] = []  # (def name, symbol, scope)
        self.exports: list[Node] = []  # the values assigned to a module-level __all__
        self.implicit_fields: set[int] = set()  # fields declared by `self.x = ...` only
        self.alias_values: list[Node] = []  # values of module- and class-level type aliases
        self.fixture_params: list[tuple[Node, Scope]] = []  # a test's parameters: fixtures
        self.declared: set[tuple[int, str]] = set()  # (class index, field): declared elsewhere

    def release(self) -> None:
        """Break the extraction <-> encoder cycle, so that reference counting frees this file's
        state at once: left to the cyclic collector, every file's state is garbage that waits
        for a collection (and a paused collector never comes)."""
        self.encoder.__dict__.clear()

    # ----- positions -------------------------------------------------------------------------

    def col(self, row: int, byte_col: int) -> int:
        """A byte column of `row` as a code-point column (what the graph stores)."""
        if self.facts.is_ascii:
            return byte_col
        columns = self._line_columns.get(row)
        if columns is None:
            if self._lines is None:
                self._lines = self.src.split(b"\n")
            line = self._lines[row] if row < len(self._lines) else b""
            columns = self._line_columns[row] = ByteColumns(line, bom=row == 0)
        return columns.code_points(byte_col)

    def text(self, node: Node) -> str:
        if self.ascii_text is not None:
            return self.ascii_text[node.start_byte : node.end_byte]
        return self.src[node.start_byte : node.end_byte].decode("utf-8", "replace")

    # ----- scopes ----------------------------------------------------------------------------

    def scope_at(self, byte: int) -> Scope:
        scope = self.scopes[bisect_right(self._starts, byte) - 1]
        while scope.end <= byte and scope.parent is not None:
            scope = scope.parent
        return scope

    def _build_scopes(self, caps: dict[str, list[Node]]) -> None:
        nodes: list[tuple[int, str, Node]] = []
        for key, kind in (
            ("scope.function", "function"),
            ("scope.class", "class"),
            ("scope.lambda", "lambda"),
            ("scope.comp", "comp"),
        ):
            nodes.extend((n.start_byte, kind, n) for n in caps.get(key, ()))
        nodes.sort(key=lambda item: item[0])
        for start, kind, node in nodes:
            scope = Scope(kind, node, start, node.end_byte)
            parent = self.scope_at(start)
            scope.parent = parent
            scope.symbol = parent.symbol
            self.scopes.append(scope)
            self._starts.append(start)

    # ----- symbols ---------------------------------------------------------------------------

    def add_symbol(self, name: str, kind: str, parent: int, node: Node, name_node: Node) -> int:
        sr, sc = node.start_point
        er, ec = node.end_point
        nr, nc = name_node.start_point
        _, nec = name_node.end_point
        parent_sym = self.facts.symbols[parent] if parent >= 0 else None
        qualname = f"{parent_sym.qualname}.{name}" if parent_sym and parent_sym.qualname else name
        self.facts.symbols.append(
            SymbolFact(
                name=name,
                qualname=qualname,
                kind=kind,
                parent=parent,
                line=sr,
                col=self.col(sr, sc),
                end_line=er,
                end_col=self.col(er, ec),
                sel_line=nr,
                sel_col=self.col(nr, nc),
                sel_end_col=self.col(nr, nec),
                signature=self._signature(kind, node),
            )
        )
        return len(self.facts.symbols) - 1

    def _signature(self, kind: str, node: Node) -> str:
        if kind in (FUNCTION, METHOD):
            params = node.child_by_field_name("parameters")
            ret = node.child_by_field_name("return_type")
            sig = self.text(params) if params is not None else "()"
            if ret is not None:
                sig += " -> " + self.text(ret)
            prefix = "async def" if node.children and node.children[0].type == "async" else "def"
            sig = f"{prefix} {self.text(node.child_by_field_name('name') or node)}{sig}"
        elif kind == CLASS:
            bases = node.child_by_field_name("superclasses")
            name = node.child_by_field_name("name")
            sig = "class " + (self.text(name) if name else "") + (self.text(bases) if bases else "")
        elif node.type == "assignment":
            annotation = node.child_by_field_name("type")
            sig = ": " + self.text(annotation) if annotation is not None else ""
        else:
            sig = ""
        sig = " ".join(sig.split())
        return sig[:_SIGNATURE_LIMIT]

    # ----- the run ---------------------------------------------------------------------------

    def run(self, node: Node | None = None) -> FileFacts:
        """Extract the whole file; or, with `node`, one function whose surroundings (enclosing
        scopes, their symbols, `declared`) the caller has set up (see python_body)."""
        root = self.tree.root_node
        cursor = QueryCursor(QUERY)
        cursor.set_max_start_depth(MAX_QUERY_DEPTH)
        caps = cursor.captures(node if node is not None else root)
        if node is None and root.descendant_count > MAX_QUERY_DEPTH:
            below = identifiers_below(root, MAX_QUERY_DEPTH)
            if below:
                self.facts.error = (
                    f"code nested deeper than {MAX_QUERY_DEPTH} levels (which CPython cannot"
                    f" compile): {below} names below that depth are not indexed"
                )
        for nodes in caps.values():
            # Capture order is not document order; bindings ("the first assignment declares")
            # and the scope sweep over identifiers both need it.
            nodes.sort(key=start_byte)
        if node is None:
            self.facts.symbols.append(
                SymbolFact("", "", MODULE, -1, 0, 0, root.end_point[0], 0, 0, 0, 0, "")
            )
        self._build_scopes(caps)
        self._collect_definitions(caps)
        python_bindings.collect_parameters(self, caps.get("params", []))
        for node in caps.get("global", []):
            self.scope_at(node.start_byte).globals.add(self.text(node))
        python_bindings.collect_targets(self, caps)
        python_imports.collect_imports(self, caps.get("import", []))
        for node in caps.get("future", []):
            self.skip.update(n.start_byte for n in identifiers_in(node))
        for node in caps.get("skip", []):
            self.skip.add(node.start_byte)
        for node in caps.get("call", []):
            self.calls.add(node.start_byte)
            # (the length first: this runs for every call in the file)
            if (
                node.end_byte - node.start_byte == 10
                and self.text(node) == "isinstance"
                and node.parent
            ):
                python_bindings.narrow(self, node.parent)
        for node in caps.get("attribute", []):
            attr = node.child_by_field_name("attribute")
            obj = node.child_by_field_name("object")
            if attr is not None and obj is not None:
                self.attributes[attr.start_byte] = obj
        self._collect_decorators(caps.get("decorator", []))
        self._collect_bases(caps.get("bases", []))
        python_declared.collect_returns(self, caps)
        self._emit_references(caps.get("id", []))
        in_order = len(self.facts.refs)
        annotations = caps.get("annotation", [])
        annotations += python_declared.annotation_values(self, caps.get("call", []))
        python_declared.annotation_refs(self, annotations)
        python_declared.type_comment_refs(self, caps.get("type_comment", []))
        python_declared.export_refs(self, self.exports)
        python_declared.redeclaration_refs(self)
        python_declared.fixture_refs(self)
        python_declared.usefixtures_refs(self, caps.get("call", []))
        python_declared.getattr_refs(self, caps.get("call", []))
        if len(self.facts.refs) > in_order:  # references from beside the code: put in place
            python_declared.sort_refs(self.facts.refs)
        python_declared.instance_fields(self)
        python_declared.symbol_types(self)
        return self.facts

    def _collect_definitions(self, caps: dict[str, list[Node]]) -> None:
        for name_node in sorted(caps.get("def", []), key=lambda n: n.start_byte):
            scope = self.scope_at(name_node.start_byte)  # the def's own scope
            node = scope.node
            if node is None or scope.parent is None:
                continue
            parent = scope.parent
            name = self.text(name_node)
            if scope.kind == "class":
                kind = CLASS
            else:
                kind = METHOD if parent.kind == "class" else FUNCTION
            self.skip.add(name_node.start_byte)
            earlier = (
                python_declared.redeclared(self, parent, name, node) if kind != CLASS else None
            )
            if earlier is not None:  # an overload or a setter: more of the same symbol
                scope.symbol = earlier
                self.redeclarations.append((name_node, earlier, parent))
                continue
            idx = self.add_symbol(name, kind, parent.symbol, node, name_node)
            scope.symbol = idx
            parent.bindings.setdefault(name, (SYMBOL, idx))
            if kind != CLASS:
                self.function_scopes[idx] = scope
                self.typed_symbols.append((idx, scope))
                if any(d.rpartition(".")[2] == "overload" for d in self.encoder.decorators(node)):
                    self.overloads.add(idx)
        # Children created before their parents' symbol ids were known inherit them now.
        for scope in self.scopes[1:]:
            if scope.kind in ("lambda", "comp") and scope.parent is not None:
                scope.symbol = scope.parent.symbol

    def _collect_decorators(self, nodes: list[Node]) -> None:
        for node in nodes:
            expr = node.named_children[0] if node.named_children else None
            if expr is not None and expr.type == "call":
                expr = expr.child_by_field_name("function")
            head = head_identifier(expr)
            if head is not None:
                self.decorates.add(head.start_byte)

    def _collect_bases(self, nodes: list[Node]) -> None:
        for node in nodes:
            for child in node.named_children:
                expr: Node | None = child
                if child.type == "subscript":
                    expr = child.child_by_field_name("value")
                head = head_identifier(expr)
                if head is not None:
                    self.inherits.add(head.start_byte)

    # ----- references ------------------------------------------------------------------------

    def is_builtin(self, name: str) -> bool:
        """A builtin that the module does not shadow (and no star import might)."""
        return name in BUILTINS and name not in self.module.bindings and not self.has_star_import

    def free_name(self, name: str, scope: Scope) -> tuple[str, int, str | None] | None:
        """What a use of the bare name `name` in `scope` refers to, as (name, target,
        receiver) of its reference; None when it is no reference (a local, a builtin).
        `_emit_references` inlines the same rule: it runs for every identifier."""
        binding = self.binding_scope(name, scope)[0]
        if binding is None:
            return None if self.is_builtin(name) else (name, NO_TARGET, None)
        if binding[0] == SYMBOL:
            return name, binding[1], LOCAL_RECEIVER
        if binding[0] == IMPORTED:
            return binding[2], NO_TARGET, binding[1]
        return None

    def binding_scope(self, name: str, scope: Scope) -> tuple[tuple[Any, ...] | None, Scope | None]:
        """The binding a free name has in `scope` and the scope that holds it; (None, None)
        when it is a module-level name."""
        s: Scope | None = scope
        innermost = True
        while s is not None and s is not self.module:
            if s.kind == "class" and not innermost:
                s = s.parent
                continue
            if name in s.globals:
                return None, None
            binding = s.bindings.get(name)
            if binding is not None:
                return binding, s
            innermost = False
            s = s.parent
        return None, None

    def _emit_references(self, identifiers: list[Node]) -> None:
        refs = self.facts.refs
        module_names = self.module.bindings
        skip = self.skip
        attributes = self.attributes
        src = self.src
        ascii_src = self.facts.is_ascii
        starts = self._starts
        scopes = self.scopes
        roles = self._roles()
        ascii_text = self.ascii_text
        encode = self.encoder.receiver
        binding_scope = self.binding_scope
        scope = self.module
        scope_idx = 0
        for ident, name, import_receiver in self.import_refs:
            row, c0 = ident.start_point
            c1 = ident.end_point[1]
            refs.append(
                RefFact(
                    name,
                    row,
                    self.col(row, c0),
                    self.col(row, c1),
                    IMPORT,
                    self.scope_at(ident.start_byte).symbol,
                    NO_TARGET,
                    import_receiver,
                )
            )
        receiver: str | None
        for ident in identifiers:
            start = ident.start_byte
            if start in skip:
                continue
            idx = bisect_right(starts, start) - 1
            if idx != scope_idx or start >= scope.end:
                scope_idx = idx
                scope = scopes[idx]
                while scope.end <= start and scope.parent is not None:
                    scope = scope.parent
            end = ident.end_byte
            name = (
                ascii_text[start:end]
                if ascii_text is not None
                else src[start:end].decode("utf-8", "replace")
            )
            role = roles.get(start, READ)
            target = NO_TARGET
            recv_node = attributes.get(start)
            if recv_node is not None:
                receiver = encode(recv_node, scope)
                if role == READ:
                    role = ATTRIBUTE
            else:  # free_name(name, scope), inlined
                binding = binding_scope(name, scope)[0]
                receiver = None
                if binding is not None:
                    kind = binding[0]
                    if kind == SYMBOL:
                        target = binding[1]
                        receiver = LOCAL_RECEIVER
                    elif kind == IMPORTED:
                        receiver, name = binding[1], binding[2]
                    else:
                        continue  # a local variable or parameter
                elif name in BUILTINS and name not in module_names and not self.has_star_import:
                    continue
            row, c0 = ident.start_point
            c1 = c0 + (end - start)
            if not ascii_src:
                c0, c1 = self.col(row, c0), self.col(row, c1)
            refs.append(RefFact(name, row, c0, c1, role, scope.symbol, target, receiver))

    def _roles(self) -> dict[int, str]:
        """Role by identifier start byte; a call that is also a decorator is a call."""
        roles = dict.fromkeys(self.writes, WRITE)
        roles.update(dict.fromkeys(self.inherits, INHERIT))
        roles.update(dict.fromkeys(self.decorates, DECORATE))
        roles.update(dict.fromkeys(self.calls, CALL))
        return roles
