"""Who depends on a symbol: the reverse edges an impact walk follows, as Python runs code.

`user` depends on `used` where `used`'s value flows into what `user` does (docs/impact.md,
"What counts as a dependency"):

- a reference from `user`'s code to `used`: a call, a read, a write, an attribute, a decorator,
  a base class, a test's fixture parameter. Not an import and not an `__all__` entry: they only
  bind or list a name, and each use of the name is a reference of its own, resolved to the
  definition (so `pkg.unrelated()` depends on `unrelated`, never on `pkg.helper`);
- a module- or class-level reference belongs to the statement's own symbol: `X = f()` makes `X`
  depend on `f`, `@dec def g` makes `g` depend on `dec`; any other statement, to the module (or
  class) itself;
- `C(...)` runs `C.__init__` (`__new__`, `__post_init__`): constructing C, or a subclass that
  does not define its own, depends on them, and so does passing the class on as a value
  (`cls=Group`: the receiver constructs it); the other dunder methods run by syntax (`with`,
  `for`, `in`, `==`), so a use of the class or a subclass depends on them;
- a call of `Base.m` (on `self`, on a `Base`) may run `Sub.m`: the uses of what a method or
  attribute overrides are uses of it;
- a module's module-level code binds every name in it: everything defined in the file depends
  on it, and so does each use, in a file that imports the module, of a name it re-exports;
- pytest and unittest: a test depends on its fixtures (parameters and `usefixtures`, by the
  references above), on the autouse fixtures above it (its class, its module, the conftest.py
  files of its directory and those above), on its class's `setUp`/`setup_method`/... and
  its module's `setup_module`/..., and on its class's own code.

Every edge is found by an indexed lookup per frontier batch; nothing here walks.
"""

from __future__ import annotations

import json
from bisect import bisect_right
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import apsw

from forge_lsp.graph.hierarchy import closures
from forge_lsp.graph.schema import ROLE_CODES, ROLE_NAMES
from forge_lsp.parsing.facts import AUTOUSE_MARK, FIXTURE_RECEIVER

CONSTRUCTORS = frozenset({"__init__", "__new__", "__post_init__"})
# The methods of the builtin types: `", ".join(...)`, `d.get(k)` on values of unknown type are
# far more often these than a workspace method of the same name.
BUILTIN_METHODS = frozenset(
    name
    for kind in (str, bytes, list, dict, set, frozenset, tuple, int, float, object)
    for name in dir(kind)
)
CLASS_SETUP = frozenset(
    {
        "setUp",
        "tearDown",
        "setUpClass",
        "tearDownClass",
        "asyncSetUp",
        "asyncTearDown",
        "setup_method",
        "teardown_method",
        "setup_class",
        "teardown_class",
    }
)
MODULE_SETUP = frozenset(
    {
        "setUpModule",
        "tearDownModule",
        "setup_module",
        "teardown_module",
        "setup_function",
        "teardown_function",
    }
)
# Edge kinds beside the reference roles (graph.schema.ROLE_CODES).
FIXTURE = "fixture"  # a test's parameter (or `usefixtures`) names the fixture
CONSTRUCT = "construct"  # C(...) runs C.__init__
PROTOCOL = "protocol"  # syntax on a C runs C.__enter__, C.__iter__, ...
OVERRIDE = "override"  # a use of Base.m may run Sub.m, which overrides it
MODULE_CODE = "module"  # the module-level code of its file binds it
REEXPORT = "re-export"  # a name its module's code re-exports
AUTOUSE = "autouse"  # an autouse fixture above the test
SETUP = "setup"  # the setUp / setup_method of the test's class or module
MEMBER = "member"  # a test of a class whose own code is reached

_IMPORT, _EXPORT = ROLE_CODES["import"], ROLE_CODES["export"]
_CALL, _INHERIT = ROLE_CODES["call"], ROLE_CODES["inherit"]
_DECORATE, _READ = ROLE_CODES["decorate"], ROLE_CODES["read"]
_IDS = "(SELECT value FROM json_each(?))"
_REF_COLUMNS = "r.target_id, r.scope_id, r.role, r.file_id, r.line, r.col, r.end_col, rn.text"
_REFS_TO = (
    f"SELECT {_REF_COLUMNS} FROM refs r LEFT JOIN names rn ON rn.id = r.receiver_id"
    f" WHERE r.target_id IN {_IDS} AND r.role NOT IN ({_IMPORT}, {_EXPORT})"
)
_PROBABLE_REFS_TO = (
    f"SELECT s.id, {_REF_COLUMNS.partition(', ')[2]} FROM symbols s"
    " JOIN refs r ON r.name_id = s.name_id AND r.target_id IS NULL"
    " JOIN names rn ON rn.id = r.receiver_id AND rn.text NOT LIKE '<%'"
    f" AND rn.text != '{FIXTURE_RECEIVER}'"  # a fixture parameter is no probable use
    f" WHERE s.id IN {_IDS} AND s.kind IN ('method', 'field', 'function')"
    # not on a module from outside the workspace (`re.escape(...)`: its own function)
    " AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.file_id = r.file_id"
    " AND i.target_file_id IS NULL AND i.module_level AND (CASE WHEN i.name IS NULL"
    " AND i.alias IS NULL THEN substr(i.module, 1, instr(i.module || '.', '.') - 1)"
    " ELSE coalesce(i.alias, i.name) END) IN (rn.text,"
    " substr(rn.text, 1, instr(rn.text || '.', '.') - 1)))"
    # a name defined at most this many times (a rare name is likely the one meant)
    " AND (SELECT count(*) FROM symbols d WHERE d.name_id = s.name_id"
    " AND d.kind IN ('method', 'field', 'function')) <= ?"
)
_FRONTIER = (
    "SELECT s.id, s.kind, n.text, s.parent_id, s.file_id, f.path, tn.text FROM symbols s"
    " JOIN names n ON n.id = s.name_id JOIN files f ON f.id = s.file_id"
    f" LEFT JOIN names tn ON tn.id = s.type_id WHERE s.id IN {_IDS}"
)
_SUBCLASSES = (
    "WITH RECURSIVE below(id) AS (SELECT value FROM json_each(?) UNION"
    f" SELECT r.scope_id FROM refs r JOIN below ON r.target_id = below.id WHERE r.role = {_INHERIT})"
    " SELECT id FROM below"
)
# The uses, in the files that import module F, of the names F's module-level code re-exports
# (`from pkg import unrelated` then `unrelated()`; `import pkg` then `pkg.unrelated()`). The
# parameters: F's module symbol (twice) and F's file id, twice over.
_REEXPORTED = (  # by file first: the position index, not a scan of every reference
    "SELECT target_id FROM refs WHERE file_id = (SELECT file_id FROM symbols WHERE id = ?)"
    f" AND scope_id = ? AND role = {_IMPORT} AND target_id IS NOT NULL"
)
_REEXPORT_USES = (
    f"SELECT {_REF_COLUMNS} FROM imports i"
    " JOIN names ir ON ir.text = '<' || i.level || '|' || i.module || '>'"
    f" JOIN refs imp ON imp.file_id = i.file_id AND imp.receiver_id = ir.id AND imp.role = {_IMPORT}"
    f" JOIN refs r ON r.file_id = i.file_id AND r.target_id = imp.target_id"
    " LEFT JOIN names rn ON rn.id = r.receiver_id"
    f" WHERE imp.target_id IN ({_REEXPORTED}) AND i.target_file_id = ? AND i.name IS NOT NULL"
    f" AND r.role NOT IN ({_IMPORT}, {_EXPORT})"
    f" UNION SELECT {_REF_COLUMNS} FROM imports i JOIN refs r ON r.file_id = i.file_id"
    " JOIN names rn ON rn.id = r.receiver_id AND rn.text = coalesce(i.alias, i.name, i.module)"
    f" WHERE r.target_id IN ({_REEXPORTED}) AND i.target_file_id = ?"
)
_NAMED_TEST = "substr(n.text, 1, 4) = 'test'"  # pytest's default, case-sensitive
_TEST_SYMBOL = (
    "SELECT s.id, s.file_id, s.sel_line, s.sel_col, s.sel_end_col FROM symbols s"
    " JOIN names n ON n.id = s.name_id"
)


class EdgeRow(NamedTuple):
    """One reverse edge: `source` depends on `target` through `kind`, seen at a location."""

    probable: bool
    file_id: int
    line: int
    col: int
    end_col: int
    source: int
    target: int
    kind: str


class _Frontier(NamedTuple):
    id: int
    kind: str
    name: str
    parent_id: int | None
    file_id: int
    path: str
    type: str | None


class Dependencies:
    """The reverse edges of the graph behind one read connection (caches per walk)."""

    def __init__(
        self, conn: apsw.Connection, include_probable: bool = False, probable_names: int = 0
    ) -> None:
        self.conn = conn
        self.include_probable = include_probable
        # with include_probable: only the probable uses of names the workspace defines at most
        # this many times (0: of every name)
        self.probable_names = probable_names
        self._kinds: dict[int, str] = {}
        self._bases_cache: dict[int, list[int]] = {}
        self._direct_bases: dict[int, list[int]] = {}
        self._inheriting_cache: dict[tuple[int, str], list[int]] = {}
        # symbols whose references were read beyond the frontier's own (re-exported names,
        # the classes a constructor builds): an answer depends on their users too
        self.consulted: set[int] = set()
        self._children: dict[int, tuple[list[tuple[int, int]], list[tuple[int, int, int]]]] = {}

    def of(self, frontier: Iterable[int], certain: Iterable[int] | None = None) -> list[EdgeRow]:
        """Every reverse edge into the frontier, exact ones first, then by position; probable
        ones only into the `certain` nodes (default: all), those reached by exact edges alone."""
        ids = json.dumps(sorted(set(frontier)))
        nodes = [_Frontier(*row) for row in self.conn.execute(_FRONTIER, (ids,))]
        rows = self._uses(self.conn.execute(_REFS_TO, (ids,)).fetchall(), False)
        if self.include_probable:
            limit = self.probable_names or 1 << 62
            allowed = set(certain) if certain is not None else {n.id for n in nodes}
            # rare names only: never one that str, list, dict... define
            named = json.dumps(
                sorted(
                    n.id
                    for n in nodes
                    if n.id in allowed and not (self.probable_names and n.name in BUILTIN_METHODS)
                )
            )
            rows += self._uses(
                self.conn.execute(_PROBABLE_REFS_TO, (named, limit)).fetchall(), True
            )
        rows += self._constructors(nodes)
        rows += self._overrides(nodes)
        rows += self._modules(nodes)
        rows += self._pytest(nodes)
        rows.sort()
        return rows

    # ----- references --------------------------------------------------------------------

    def _uses(self, refs: Sequence[Sequence[Any]], probable: bool, kind: str = "") -> list[EdgeRow]:
        self._learn_kinds(r[1] for r in refs)
        out = []
        for target, scope, role, file_id, line, col, end_col, receiver in refs:
            source = self._statement_owner(scope, role, line, col)
            edge_kind = kind or (FIXTURE if receiver == FIXTURE_RECEIVER else ROLE_NAMES[role])
            out.append(EdgeRow(probable, file_id, line, col, end_col, source, target, edge_kind))
        return out

    def _statement_owner(self, scope: int, role: int, line: int, col: int) -> int:
        """The symbol a module- or class-level reference belongs to: the variable or field its
        statement binds, the def its decorator decorates, else the module (class) itself."""
        if self._kinds.get(scope) not in ("module", "class"):
            return scope
        starts, spans = self._children_of(scope)
        i = bisect_right(starts, (line, col)) - 1
        while i >= 0:
            end_line, end_col, child = spans[i]
            if (end_line, end_col) >= (line, col):
                return child
            if starts[i][0] < line - 200:  # children are short; nothing further back holds it
                break
            i -= 1
        if role == _DECORATE:  # a decorator stands just before the def it decorates
            j = bisect_right(starts, (line, col))
            if j < len(starts):
                return spans[j][2]
        return scope

    def _children_of(self, scope: int) -> tuple[list[tuple[int, int]], list[tuple[int, int, int]]]:
        found = self._children.get(scope)
        if found is None:
            rows = self.conn.execute(
                "SELECT line, col, end_line, end_col, id FROM symbols WHERE parent_id = ?"
                " ORDER BY line, col",
                (scope,),
            ).fetchall()
            found = ([(r[0], r[1]) for r in rows], [(r[2], r[3], r[4]) for r in rows])
            self._children[scope] = found
        return found

    def _learn_kinds(self, ids: Iterable[int]) -> None:
        unknown = {i for i in ids if i not in self._kinds}
        if unknown:
            for sid, kind in self.conn.execute(
                f"SELECT id, kind FROM symbols WHERE id IN {_IDS}", (json.dumps(sorted(unknown)),)
            ):
                self._kinds[sid] = kind

    # ----- classes: constructors and protocols ---------------------------------------------

    def _constructors(self, nodes: list[_Frontier]) -> list[EdgeRow]:
        """Constructors and protocol methods, the whole frontier at once: the classes whose
        uses reach each one, then one lookup of the uses of all of them."""
        dunders = [
            node
            for node in nodes
            if node.kind == "method"
            and node.name.startswith("__")
            and node.name.endswith("__")
            and node.parent_id is not None
        ]
        inheriting = self._inheriting({(n.parent_id, n.name) for n in dunders if n.parent_id})
        reach: dict[int, list[tuple[int, str]]] = {}  # class -> (dunder method, edge kind)
        for node in dunders:
            kind = CONSTRUCT if node.name in CONSTRUCTORS else PROTOCOL
            for cls in inheriting[(node.parent_id or 0, node.name)]:
                reach.setdefault(cls, []).append((node.id, kind))
        if not reach:
            return []
        self.consulted.update(reach)
        refs = self.conn.execute(_REFS_TO, (json.dumps(sorted(reach)),)).fetchall()
        self._learn_kinds(r[1] for r in refs)
        out: list[EdgeRow] = []
        for target, scope, role, file_id, line, col, end_col, _receiver in refs:
            source = self._statement_owner(scope, role, line, col)
            for method, kind in reach[target]:
                # `C(...)`, and `C` passed on as a value (`cls=Group`, `factory = C`): whoever
                # receives it may construct it; any use of C may run its protocol methods
                if kind == PROTOCOL or role in (_CALL, _READ):
                    out.append(EdgeRow(False, file_id, line, col, end_col, source, method, kind))
        return out

    def _inheriting(self, pairs: set[tuple[int, str]]) -> dict[tuple[int, str], list[int]]:
        """classes_inheriting for many (class, member) pairs at once, a lookup per level of
        subclasses rather than per class; answers kept for the rest of the walk."""

        def subclasses(classes: list[int]) -> Callable[[tuple[int, str], int], Iterable[int]]:
            children: dict[int, list[int]] = {}
            for sub, base in self.conn.execute(
                f"SELECT DISTINCT scope_id, target_id FROM refs WHERE role = {_INHERIT}"
                f" AND target_id IN {_IDS}",
                (json.dumps(classes),),
            ):
                children.setdefault(base, []).append(sub)
            subs = sorted({s for kids in children.values() for s in kids})
            defines = {
                (parent, name)
                for parent, name in self.conn.execute(
                    "SELECT m.parent_id, n.text FROM symbols m JOIN names n ON n.id = m.name_id"
                    f" WHERE m.parent_id IN {_IDS}",
                    (json.dumps(subs),),
                )
            }
            return lambda pair, c: [s for s in children.get(c, ()) if (s, pair[1]) not in defines]

        cache = self._inheriting_cache
        cache.update(closures({p: [p[0]] for p in pairs if p not in cache}, subclasses))
        return {pair: cache[pair] for pair in pairs}

    def _overrides(self, nodes: list[_Frontier]) -> list[EdgeRow]:
        """A call of `Base.m` on `self` or on a `Base` may run `Sub.m`: the uses of what a
        member overrides are uses of it (not constructors: `C(...)` names its class)."""
        wanted: dict[tuple[int, str], list[int]] = {}  # (ancestor, name) -> overriding members
        self._ancestors_of(
            sorted({n.parent_id for n in nodes if n.kind in ("method", "field") and n.parent_id})
        )
        for node in nodes:
            if node.kind not in ("method", "field") or node.parent_id is None:
                continue
            if node.name not in CONSTRUCTORS:
                for ancestor in self._ancestors(node.parent_id):
                    wanted.setdefault((ancestor, node.name), []).append(node.id)
        if not wanted:
            return []
        overridden: dict[int, list[int]] = {}
        for sid, parent, name in self.conn.execute(
            "SELECT s.id, s.parent_id, n.text FROM symbols s JOIN names n ON n.id = s.name_id"
            f" WHERE s.parent_id IN {_IDS}",
            (json.dumps(sorted({a for a, _name in wanted})),),
        ):
            members = wanted.get((parent, name))
            if members:
                overridden[sid] = members
        if not overridden:
            return []
        self.consulted.update(overridden)
        refs = self.conn.execute(_REFS_TO, (json.dumps(sorted(overridden)),)).fetchall()
        return [
            edge._replace(target=member)
            for edge in self._uses(refs, False, OVERRIDE)
            for member in overridden[edge.target]
        ]

    def _ancestors(self, class_id: int) -> list[int]:
        """The class's bases, however far up (not the class itself)."""
        found = self._bases_cache.get(class_id)
        if found is None:
            found = self._ancestors_of([class_id])[class_id]
        return found

    def _ancestors_of(self, classes: list[int]) -> dict[int, list[int]]:
        """_ancestors for many classes, a lookup per level of bases."""
        direct = self._direct_bases

        def bases(wanted: list[int]) -> Callable[[int, int], Iterable[int]]:
            unknown = [c for c in wanted if c not in direct]
            for c in unknown:
                direct[c] = []
            if unknown:  # a class's bases are references on its own lines
                for cls, base in self.conn.execute(
                    "SELECT c.id, r.target_id FROM symbols c JOIN refs r ON r.file_id = c.file_id"
                    " AND r.line BETWEEN c.line AND c.end_line AND r.scope_id = c.id"
                    f" WHERE c.id IN {_IDS} AND r.role = {_INHERIT} AND r.target_id IS NOT NULL",
                    (json.dumps(unknown),),
                ):
                    direct[cls].append(base)
            return lambda _cls, c: direct[c]

        cache = self._bases_cache
        found = closures({c: [c] for c in classes if c not in cache}, bases)
        cache.update((c, up[1:]) for c, up in found.items())  # not the class itself
        return {c: cache[c] for c in classes}

    # ----- module-level code ---------------------------------------------------------------

    def _modules(self, nodes: list[_Frontier]) -> list[EdgeRow]:
        out: list[EdgeRow] = []
        for node in nodes:
            if node.kind != "module":
                continue
            for sid, line, col, end_col in self.conn.execute(
                "SELECT id, sel_line, sel_col, sel_end_col FROM symbols"
                " WHERE file_id = ? AND kind != 'module'",
                (node.file_id,),
            ):
                out.append(
                    EdgeRow(False, node.file_id, line, col, end_col, sid, node.id, MODULE_CODE)
                )
            self.consulted.update(
                r[0] for r in self.conn.execute(_REEXPORTED, (node.id, node.id)).fetchall()
            )
            params = (node.id, node.id, node.file_id)
            refs = self.conn.execute(_REEXPORT_USES, params * 2).fetchall()
            out += [e._replace(target=node.id) for e in self._uses(refs, False, REEXPORT)]
        return out

    # ----- pytest and unittest -------------------------------------------------------------

    def _pytest(self, nodes: list[_Frontier]) -> list[EdgeRow]:
        out: list[EdgeRow] = []
        for node in nodes:
            parent = node.parent_id
            if node.type is not None and node.type.startswith(AUTOUSE_MARK) and parent is not None:
                out += self._tests_under(node, parent, AUTOUSE)
            elif node.kind == "method" and node.name in CLASS_SETUP and parent is not None:
                out += self._tests_of_classes(node.id, self._subclasses([parent]), SETUP)
            elif node.kind == "function" and node.name in MODULE_SETUP:
                out += self._tests_in_files(node.id, node.path, SETUP)
        classes = [node.id for node in nodes if node.kind == "class"]
        if classes:  # a class's own code reaches its tests: all the frontier's classes at once
            rows = self.conn.execute(
                f"SELECT s.id, s.file_id, s.sel_line, s.sel_col, s.sel_end_col, s.parent_id"
                f" FROM symbols s JOIN names n ON n.id = s.name_id WHERE s.parent_id IN {_IDS}"
                f" AND s.kind = 'method' AND {_NAMED_TEST}",
                (json.dumps(classes),),
            ).fetchall()
            out += [
                EdgeRow(False, f, ln, c0, c1, sid, cls, MEMBER) for sid, f, ln, c0, c1, cls in rows
            ]
        return out

    def _tests_under(self, node: _Frontier, parent: int, kind: str) -> list[EdgeRow]:
        """The tests an autouse fixture applies to: its class's, its module's, or (in a
        conftest.py) those of every file in its directory and below."""
        self._learn_kinds([parent])
        if self._kinds.get(parent) == "class":
            return self._tests_of_classes(node.id, self._subclasses([parent]), kind)
        directory, _, name = node.path.rpartition("/")
        if name != "conftest.py":
            return self._tests_in_files(node.id, node.path, kind)
        return self._tests_in_files(node.id, f"{directory}/", kind)

    def _tests_of_classes(self, target: int, classes: list[int], kind: str) -> list[EdgeRow]:
        rows = self.conn.execute(
            f"{_TEST_SYMBOL} WHERE s.parent_id IN {_IDS} AND s.kind = 'method' AND {_NAMED_TEST}",
            (json.dumps(classes),),
        ).fetchall()
        return [EdgeRow(False, f, line, c0, c1, sid, target, kind) for sid, f, line, c0, c1 in rows]

    def _tests_in_files(self, target: int, path: str, kind: str) -> list[EdgeRow]:
        """Every test function and test method of a test file, or (`path` ending in "/") of
        the test files below a directory."""
        rows = self.conn.execute(
            f"{_TEST_SYMBOL} JOIN files f ON f.id = s.file_id JOIN symbols p ON p.id = s.parent_id"
            " WHERE (f.path = ? OR substr(f.path, 1, length(?)) = ?) AND f.is_test"
            f" AND {_NAMED_TEST} AND (s.kind = 'function' AND p.kind = 'module'"
            " OR s.kind = 'method' AND p.kind = 'class')",
            (path, path, path if path.endswith("/") else None),
        ).fetchall()
        return [EdgeRow(False, f, ln, c0, c1, sid, target, kind) for sid, f, ln, c0, c1 in rows]

    def _subclasses(self, classes: list[int]) -> list[int]:
        return [r[0] for r in self.conn.execute(_SUBCLASSES, (json.dumps(classes),))]
