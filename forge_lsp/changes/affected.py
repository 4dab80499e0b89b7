"""`affected`: the tests that can observe a change, from a diff to pytest node ids.

1. the diff: the work tree against a revision (git), or a unified diff given as text;
2. every changed file must be one forge indexes, else the change cannot be analysed and the
   only safe answer is "run everything" (`Unanalysable`);
3. the index is brought up to date with the work tree (a warm index: changed files parsed,
   re-resolved, stored);
4. changed lines map to the innermost changed symbols, each classified interface or body
   (changes/symbols.py);
5. each changed symbol's impact is walked (graph/impact.py) and its tests named as pytest
   names them (changes/pytest_ids.py).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from forge_lsp.changes.diff import FileDiff, old_text
from forge_lsp.changes.pytest_ids import PytestIds
from forge_lsp.changes.symbols import DELETED, INTERFACE, SymbolChange, changed_symbols
from forge_lsp.config import Settings
from forge_lsp.graph.impact import MAX_NODES, impact_of, roots_for
from forge_lsp.graph.model import Edge, ImpactResult, Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.indexing.discovery import PathFilter
from forge_lsp.indexing.updater import GraphUpdater

# Which uses on receivers of unknown type (`obj.save()`) the walk follows: none by default;
# with --probable those of names the workspace defines at most a few times, and never a name
# the builtin types define (`query.chain()` where two classes define `chain` is very likely one
# of them; `d.get(k)` is not), one such guess per chain.
EXACT_ONLY, RARE_NAMES = "exact", "rare"
RARE_NAME_DEFINITIONS = 4


class Unanalysable(Exception):
    """The change touches something forge cannot follow: every test may observe it."""


@dataclass(slots=True)
class AffectedSymbol:
    change: SymbolChange
    impact: ImpactResult | None  # None: the symbol is gone and its users were found by name
    tests: dict[str, list[Edge]] = field(default_factory=dict)  # node id -> the chain to it


@dataclass(slots=True)
class Affected:
    symbols: list[AffectedSymbol]
    files: list[str]  # the changed files, absolute

    @property
    def tests(self) -> list[str]:
        return sorted({t for s in self.symbols for t in s.tests})


def affected(
    settings: Settings,
    diffs: list[FileDiff],
    repo_root: Path,
    test_base: Path,
    *,
    probable: str = EXACT_ONLY,
) -> Affected:
    """The tests each changed symbol can reach. `repo_root`: what the diff's paths are
    relative to; `test_base`: what node ids are relative to (where pytest runs)."""
    root = settings.root
    path_filter = PathFilter(settings)
    texts: dict[str, tuple[str | None, str | None]] = {}
    for diff in diffs:
        for rel in {diff.old_path, diff.new_path} - {None}:
            assert rel is not None
            _check_indexed(root, repo_root / rel, path_filter, diff)
        new_abs = _absolute(repo_root, diff.new_path)
        new = _read(new_abs) if new_abs is not None else None
        old = old_text(new or "", diff) if diff.old_path is not None else None
        texts[diff.path] = (old, new)
    _update_index(settings)
    query = GraphQuery.open(settings.db_path)
    try:
        changes: list[SymbolChange] = []
        for diff in diffs:
            old, new = texts[diff.path]
            old_abs, new_abs = (
                _absolute(repo_root, diff.old_path),
                _absolute(repo_root, diff.new_path),
            )
            if old_abs is not None and new_abs is not None and old_abs != new_abs:
                # a renamed file: the old module is gone, the new one is new
                changes += changed_symbols(diff, old_abs, None, old, None)
                changes += changed_symbols(diff, None, new_abs, None, new)
            else:
                changes += changed_symbols(diff, old_abs, new_abs, old, new)
        ids = PytestIds(query, test_base.as_posix())
        out = [_walk(query, change, ids, probable) for change in changes]
        return Affected(out, sorted(texts))
    finally:
        query.close()


def _absolute(repo_root: Path, rel: str | None) -> str | None:
    return (repo_root / rel).resolve().as_posix() if rel is not None else None


def _read(path: str) -> str | None:
    try:
        return Path(path).read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise Unanalysable(f"{path}: {exc.strerror or exc}") from None


def _check_indexed(root: Path, path: Path, path_filter: PathFilter, diff: FileDiff) -> None:
    absolute = path.resolve()
    if not absolute.is_relative_to(root):
        raise Unanalysable(f"{path}: changed outside the indexed workspace {root}")
    rel = absolute.relative_to(root).as_posix()
    if (
        diff.binary
        or not path_filter.file_allowed(rel)
        or not path_filter.tree_allowed(rel.rpartition("/")[0] or ".")
    ):
        raise Unanalysable(f"{rel}: changed, and forge does not index it")


def _update_index(settings: Settings) -> None:
    """Bring the stored graph in line with the work tree: a warm index, which reads only the
    files whose size or mtime moved: the changed ones, and any changed and reverted since the
    last run (the diff alone would miss those: the graph would keep the edit)."""
    updater = GraphUpdater.open(settings)
    try:
        updater.index(workers=settings.jobs)
    finally:
        updater.close()


def _walk(query: GraphQuery, change: SymbolChange, ids: PytestIds, probable: str) -> AffectedSymbol:
    roots = _roots(query, change)
    result = impact_of(
        query,
        roots,
        max_nodes=MAX_NODES,
        include_probable=probable != EXACT_ONLY,
        probable_names=RARE_NAME_DEFINITIONS if probable == RARE_NAMES else 0,
    )
    if result.truncated:
        raise Unanalysable(
            f"{change.qualname or change.path}: more dependents than the walk follows"
        )
    found = AffectedSymbol(change, result)
    reached = [n.symbol for n in result.nodes if n.is_test]
    chains = {n.symbol.id: n.chain for n in result.nodes}
    for sid, names in ids.of([*roots, *reached]).items():
        for name in names:
            found.tests.setdefault(name, chains.get(sid, []))
    return found


def _roots(query: GraphQuery, change: SymbolChange) -> list[Symbol]:
    """What the walk starts from: the changed symbol as the graph has it now; a class whose
    interface changed stands for its members; a deleted symbol, for what held it and for the
    code that still names it."""
    if change.status == DELETED:
        return _deleted_roots(query, change)
    if change.qualname == "":
        module = query.module_symbol(change.path)
        return [module] if module is not None else []
    sym = _find(query, change.path, change.qualname)
    if sym is None:
        return []
    if sym.kind == "class" and change.change == INTERFACE:
        return roots_for(query, sym, None)
    return [sym]


def _find(query: GraphQuery, path: str, qualname: str) -> Symbol | None:
    fid = query.file_id(path)
    if fid is None:
        return None
    rows = query.conn.execute(
        "SELECT id FROM symbols WHERE file_id = ? AND qualname = ? ORDER BY line LIMIT 1",
        (fid, qualname),
    ).fetchall()
    return query.symbol(rows[0][0]) if rows else None


def _deleted_roots(query: GraphQuery, change: SymbolChange) -> list[Symbol]:
    roots: list[Symbol] = []
    owner = change.qualname.rpartition(".")[0]
    holder = _find(query, change.path, owner) if owner else query.module_symbol(change.path)
    if holder is not None:
        roots.append(holder)
    # the code that still names it: a deleted module is named by its file's stem
    names = [change.name if change.qualname else Path(change.path).stem]
    scopes = query.conn.execute(
        "SELECT DISTINCT r.scope_id FROM refs r JOIN names n ON n.id = r.name_id"
        " WHERE r.target_id IS NULL AND n.text IN (SELECT value FROM json_each(?))",
        (json.dumps(names),),
    ).fetchall()
    found = query.symbols(r[0] for r in scopes)
    roots.extend(found.values())
    return roots
