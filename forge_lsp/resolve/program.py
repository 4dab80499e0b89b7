"""An in-memory model of the workspace's namespaces, enough to resolve any reference.

Built from graph rows (files, modules, symbols, imports, base-class references) and kept up to
date file by file (`remove_file`, then the `add_*` calls again), then asked "what does name N
mean at this place?" many times. Answers are memoised until `reset_memo`, which the writer calls
once per update. It knows Python's rules, nothing of SQL: the indexer feeds it rows.

Every answer also records what it *consulted*: the files whose namespaces, classes or module
names it read, and the dotted module names it looked up (found or not). The writer stores these
per file; when a file's interface changes, exactly the files whose resolution read it are
re-resolved (see ARCHITECTURE.md, "Propagation"). A memoised answer carries its dependencies with
it, so a memo hit records the same files as the first computation did.

Answers never depend on the order in which files were added: module names are owned as
resolve/module_map.py elects them, and a namespace's or a class's names are ordered by position.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any

from forge_lsp.parsing.facts import (
    CLASS,
    FIXTURE_RECEIVER,
    FUNCTION,
    LOCAL_RECEIVER,
    METHOD,
    UNKNOWN_RECEIVER,
)
from forge_lsp.resolve.evaluator import TypeEvaluator
from forge_lsp.resolve.expressions import depends_on_scope
from forge_lsp.resolve.file_info import FileInfo, SymbolRow, symbol_order
from forge_lsp.resolve.file_table import FileTable, Interner
from forge_lsp.resolve.memo import Dep, DependencyRecorder, Deps
from forge_lsp.resolve.module_map import ModuleMap
from forge_lsp.resolve.symbol_table import SymbolTable

# An entity is what an expression evaluates to during resolution:
#   ("mod", file_id)   a module backed by a file
#   ("pkg", dotted)    a namespace package (a directory without __init__.py), or "" for the root
#   ("sym", symbol_id) a symbol: class, function, variable…
#   ("inst", class_id) an instance of a class
#   ("super", class_id) the bases of a class, as `super()` sees them
#   ("union", entities) any of several (resolve/evaluator.py)
#   ("elem", (iterated, item)) a container: what iterating it gives, what indexing it gives
#   ("returns", entity) a container's method that gives its elements back (`d.values`, `l.pop`,
#                       a context manager generator's `__enter__`): calling it gives the entity
Entity = tuple[str, Any]

ROOT: Entity = ("pkg", "")
_MEMO_LIMIT = 150_000  # memoised answers kept across files (about 50 MB)


class Program:
    def __init__(self, interner: Interner | None = None) -> None:
        """`interner`: the ids the files not read lately keep their strings as (the graph's
        name table, which holds them already); else the program interns its own."""
        self.files = FileTable(interner)
        self.module_map = ModuleMap()
        self.modules = self.module_map.owners  # dotted name -> file id
        self.packages = self.module_map.packages
        self.symbols = SymbolTable()
        # class -> (file, name, receiver, target decided in-file)
        self.bases: dict[int, list[tuple[int, str, str | None, int | None]]] = {}
        self.deps = DependencyRecorder()  # what the answer being computed consulted
        self.types = TypeEvaluator(self)
        self.reset_memo()

    def reset_memo(self) -> None:
        """Forget every memoised answer: the next update sees the program as it is now."""
        self._ns_memo: dict[tuple[int, str], tuple[Entity | None, Deps]] = {}
        self._base_memo: dict[int, tuple[list[int], Deps]] = {}
        self._member_memo: dict[tuple[int, str], tuple[int | None, Deps]] = {}
        self.types.reset()

    def forget(self, stale: set[Dep]) -> None:
        """Forget the memoised answers that consulted a changed file or a dotted module name
        whose meaning moved; the rest still hold, and the next update starts warm."""
        for memo in (self._ns_memo, self._base_memo, self._member_memo, self.types.types):
            self.deps.forget(memo, stale)

    def end_file(self) -> None:
        """One file's references are resolved. Its receivers (memoised per file) will not be
        asked again, and the shared memos are kept bounded: at 100,000 files they would
        otherwise outgrow the program itself. Dropping an answer costs time, never
        correctness: recomputing it records the same dependencies."""
        self.types.receivers.clear()
        kept = len(self._ns_memo) + len(self._member_memo) + len(self._base_memo)
        if kept + len(self.types.types) > _MEMO_LIMIT:
            self.reset_memo()

    def collecting(self) -> AbstractContextManager[set[Dep]]:
        """Collect what every resolution inside the block consulted into the yielded set, but
        for those asked through `deps.consulted`, which file theirs per reference name (as
        indexing/resolution.py does for every answer it writes). Around those the block still
        matters: it keeps what anything else records from piling up between files."""
        return self.deps.collecting()

    # ----- loading ---------------------------------------------------------------------------

    def add_file(
        self, file_id: int, module_names: list[str], path: str, exports: list[str] | None
    ) -> None:
        """Add (or replace) a file; its symbols, imports and bases follow with the add_* calls."""
        if file_id in self.files:
            self.remove_file(file_id)
        name = path.rsplit("/", 1)[-1]
        self.files.add(
            FileInfo(file_id, path, [], name in ("__init__.py", "__init__.pyi"), exports)
        )
        self.rename_file(file_id, module_names)

    def rename_file(self, file_id: int, module_names: list[str]) -> None:
        """Give a file new module names (a package appeared or went above it)."""
        info = self.files.mutable(file_id)
        self.module_map.release(file_id, info.names)
        info.names = list(module_names)
        self.module_map.claim(file_id, info.path, info.names)

    def remove_file(self, file_id: int) -> None:
        """Forget everything a file contributed (its module names, symbols, members, bases)."""
        if file_id not in self.files:
            return
        self.rename_file(file_id, [])
        info = self.files.pop(file_id)
        for sid in info.symbols if info is not None else ():
            self.symbols.pop(sid)
            self.bases.pop(sid, None)

    def module_state(self, module: str) -> tuple[int | None, bool]:
        """What a dotted name means now: its file, and whether it is a package prefix."""
        return self.module_map.state(module)

    def add_symbols(self, rows: Iterable[SymbolRow]) -> None:
        """Rows of (id, file_id, name, kind, parent_id, name line, name column, type), whole
        files (a file's bindings are built once, from all its rows)."""
        symbols = self.symbols
        files = self.files
        ordered = sorted(rows, key=symbol_order)
        for sid, file_id, _name, kind, parent, *_ in ordered:
            symbols.add(sid, file_id, kind, parent)
        by_file: dict[int, list[SymbolRow]] = {}
        for row in ordered:
            by_file.setdefault(row[1], []).append(row)
        for file_id, file_rows in by_file.items():
            if file_id in files:
                files.mutable(file_id).add_symbols(file_rows, symbols)

    def _bound(self, file_id: int, scope: int | None, name: str) -> Sequence[int]:
        """The symbols `name` is bound to in `scope` (a module's symbol or a class) of a file,
        first binding first."""
        info = self.files.get(file_id)
        if info is None or scope is None:
            return ()
        return info.bound_to(name, scope, self.symbols)

    def symbol_type(self, symbol_id: int) -> str:
        """A symbol's type expression (resolve/expressions.py), "" when it has none."""
        if symbol_id not in self.symbols:
            return ""
        info = self.files.get(self.symbols.file_id(symbol_id))
        return info.symbol_type(symbol_id) if info is not None else ""

    def add_import(
        self, file_id: int, module: str, name: str | None, alias: str | None, level: int
    ) -> None:
        if file_id in self.files:
            statement = self.files.statement(module, name, alias, level)
            self.files.mutable(file_id).imports.append(statement)

    def add_base(
        self, class_id: int, file_id: int, name: str, receiver: str | None, target: int | None
    ) -> None:
        self.bases.setdefault(class_id, []).append((file_id, name, receiver, target))

    # ----- modules ---------------------------------------------------------------------------

    def absolute_module(self, file_id: int, module: str, level: int) -> str | None:
        if level == 0:
            return module
        self.deps.add(file_id)
        info = self.files.get(file_id)
        if info is None:
            return None
        parts = info.module.split(".") if info.module else []
        if not info.is_package:
            parts = parts[:-1]
        drop = level - 1
        if drop > len(parts) or 0 < drop == len(parts):
            return None  # beyond the top-level package (`from . import x` in a script is let be)
        base = parts[: len(parts) - drop]
        if module:
            base.append(module)
        return ".".join(base)

    def module_entity(self, dotted: str) -> Entity | None:
        if not dotted:
            return ROOT
        self.deps.add(dotted)
        file_id = self.modules.get(dotted)
        if file_id is not None:
            return ("mod", file_id)
        if dotted in self.packages:
            return ("pkg", dotted)
        return None

    def import_target(self, file_id: int, module: str, level: int) -> int | None:
        """The file an import statement depends on, for the file-dependency edges."""
        dotted = self.absolute_module(file_id, module, level)
        if dotted is None:
            return None
        self.deps.add(dotted)
        return self.modules.get(dotted)

    # ----- names -----------------------------------------------------------------------------

    def lookup(self, file_id: int, name: str) -> Entity | None:
        """What a module-level name of a file means, following imports and re-exports."""
        key = (file_id, name)
        hit = self._ns_memo.get(key)
        if hit is not None:
            self.deps.current.update(hit[1])
            return hit[0]
        # an import cycle answers None rather than looping
        return self.deps.memoised(self._ns_memo, key, (file_id,), None, self._lookup, file_id, name)

    def _lookup(self, file_id: int, name: str) -> Entity | None:
        info = self.files.get(file_id)
        if info is None:
            return None
        defined = self._bound(file_id, info.module_symbol, name)
        for sid in defined:
            if self.symbols.kind(sid) in (CLASS, FUNCTION):
                return ("sym", sid)
        for module, imported, alias, level in info.imports:
            if imported == "*":
                continue
            if imported is None:
                if alias == name:
                    dotted = self.absolute_module(file_id, module, level)
                    return self.module_entity(dotted) if dotted is not None else None
                if alias is None and module.split(".", 1)[0] == name:
                    return self.module_entity(name)
            elif (alias or imported) == name:
                dotted = self.absolute_module(file_id, module, level)
                base = self.module_entity(dotted) if dotted is not None else None
                if base is None:
                    return None
                return self.member(base, imported)
        if defined:
            return ("sym", defined[0])
        for module, imported, _alias, level in info.imports:
            if imported != "*":
                continue
            dotted = self.absolute_module(file_id, module, level)
            base = self.module_entity(dotted) if dotted is not None else None
            if base is None or base[0] != "mod":
                continue
            self.deps.add(base[1])
            target = self.files.get(base[1])
            if target is None:
                continue
            public = (
                name in target.exports if target.exports is not None else not name.startswith("_")
            )
            if public:
                found = self.lookup(base[1], name)
                if found is not None:
                    return found
        return None

    def member(self, entity: Entity, name: str) -> Entity | None:
        kind, value = entity
        if kind == "mod":
            found = self.lookup(value, name)
            if found is not None:
                return found
            info = self.files.get(value)
            if info is not None and info.is_package:
                return self.module_entity(f"{info.module}.{name}" if info.module else name)
            return None
        if kind == "pkg":
            return self.module_entity(f"{value}.{name}" if value else name)
        if kind in ("sym", "inst"):
            sid = value
            if kind == "sym" and self.symbol_kind(sid) != CLASS:
                return None
            found_id = self.class_member(sid, name)
            return ("sym", found_id) if found_id is not None else None
        if kind == "super":
            for base in self.class_bases(value):
                found_id = self.class_member(base, name)
                if found_id is not None:
                    return ("sym", found_id)
        return None

    def symbol_kind(self, symbol_id: int) -> str:
        """A symbol's kind, read from its file (a dependency on it)."""
        symbols = self.symbols
        self.deps.add(symbols.file_id(symbol_id))
        return symbols.kind(symbol_id)

    def class_bases(self, class_id: int) -> list[int]:
        seed = (self.symbols.file_id(class_id),)
        # a class that is its own base (through a cycle) has no bases
        return self.deps.memoised(self._base_memo, class_id, seed, [], self._class_bases, class_id)

    def _class_bases(self, class_id: int) -> list[int]:
        found: list[int] = []
        for file_id, name, receiver, target in self.bases.get(class_id, ()):
            if receiver == LOCAL_RECEIVER:
                entity: Entity | None = ("sym", target) if target in self.symbols else None
            else:
                entity = self.types.value(self.resolve(file_id, name, receiver, class_id))
            if entity is not None and entity[0] == "sym" and self.symbol_kind(entity[1]) == CLASS:
                found.append(entity[1])
        return found

    def class_member(self, class_id: int, name: str) -> int | None:
        """The member `name` of a class or the first base that has it (breadth-first MRO)."""
        key = (class_id, name)
        hit = self._member_memo.get(key)
        if hit is not None:
            self.deps.current.update(hit[1])
            return hit[0]
        memo = self._member_memo
        return self.deps.memoised(memo, key, (), None, self._class_member, class_id, name)

    def _class_member(self, class_id: int, name: str) -> int | None:
        seen = {class_id}
        queue = [class_id]
        implicit: int | None = None  # the first `self.x = ...` attribute met, if nothing better
        while queue:
            current = queue.pop(0)
            owner = self.symbols.file_id(current)
            self.deps.add(owner)
            bound = self._bound(owner, current, name)
            if bound:
                found = bound[0]
                if not self.types.is_implicit(found):
                    return found
                if implicit is None:
                    implicit = found
            for base in self.class_bases(current):
                if base not in seen:
                    seen.add(base)
                    queue.append(base)
        return implicit

    def enclosing_class(self, scope_id: int) -> int | None:
        """The class whose method (or a closure inside it) is `scope_id`."""
        current: int | None = scope_id
        symbols = self.symbols
        while current is not None:
            if current not in symbols:
                return None
            kind = symbols.kind(current)
            if kind == METHOD:
                parent = symbols.parent(current)
                return parent if parent is not None and symbols.kind(parent) == CLASS else None
            if kind == CLASS:
                return current
            current = symbols.parent(current)
        return None

    # ----- receivers and references ----------------------------------------------------------

    def resolve(
        self,
        file_id: int,
        name: str,
        receiver: str | None,
        scope_id: int,
        scoped: bool | None = None,
    ) -> Entity | None:
        """What the name `name` of file `file_id` means: a module-level name when `receiver`
        is None, else the attribute `name` of the value the receiver evaluates to. `scoped`:
        depends_on_scope(receiver), when the caller knows it already."""
        if receiver is None:
            return self.lookup(file_id, name)
        if receiver in (UNKNOWN_RECEIVER, LOCAL_RECEIVER):
            return None
        if receiver == FIXTURE_RECEIVER:
            fixture = self.fixture(file_id, name, scope_id)
            return ("sym", fixture) if fixture is not None else None
        types = self.types
        if scoped is None:
            scoped = depends_on_scope(receiver)
        base = types.receiver(file_id, receiver, scope_id, scoped)
        return types.member(types.value(base), name) if base is not None else None

    def fixture(self, file_id: int, name: str, scope_id: int | None = None) -> int | None:
        """The pytest fixture a test of file `file_id` (inside `scope_id`) receives as
        parameter `name`: a member of the classes around it (and their bases), else one of the
        module's names (defined or imported), else of the `conftest.py` of its directory and
        of each directory above. Each conftest is looked up by its path's dotted name, so that
        one appearing later re-resolves the tests below it."""
        owner = scope_id if scope_id is not None and scope_id in self.symbols else None
        while owner is not None:  # the test itself, its classes, the module
            if self.symbol_kind(owner) == CLASS:
                member = self.class_member(owner, name)
                if member is not None and self.types.is_fixture(member):
                    return member
            owner = self.symbols.parent(owner)
        found = self._fixture_in(file_id, name)
        info = self.files.get(file_id)
        if found is not None or info is None or not info.names:
            return found
        dotted = max(info.names, key=lambda n: n.count("."))  # the one from the root
        parts = dotted.split(".")[:-1]
        for i in range(len(parts), -1, -1):
            entity = self.module_entity(".".join([*parts[:i], "conftest"]))
            if entity is not None and entity[0] == "mod" and entity[1] != file_id:
                found = self._fixture_in(entity[1], name)
                if found is not None:
                    return found
        return None

    def _fixture_in(self, file_id: int, name: str) -> int | None:
        entity = self.lookup(file_id, name)
        if entity is not None and entity[0] == "sym" and self.types.is_fixture(entity[1]):
            return int(entity[1])
        return None

    def target_symbol(self, entity: Entity | None) -> int | None:
        """The symbol id a reference to `entity` points at (a module's own symbol for modules)."""
        if entity is None:
            return None
        kind, value = entity
        if kind == "sym":
            return value
        if kind == "mod":
            self.deps.add(value)
            info = self.files.get(value)
            return info.module_symbol if info is not None else None
        return None
