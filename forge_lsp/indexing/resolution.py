"""The resolve phase of an update: the references of parsed files get their targets, and the
files that consulted what changed are re-resolved, without reparsing.

Every answer records what it consulted (resolve/memo.py); those dependencies are written per
file and per reference name (graph/consulted.py), so the next change reaches exactly the files
that read it, and in them only the references that did. The GraphUpdater decides what to
resolve; this module does it, through the GraphWriter and the Program.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from forge_lsp.graph.consulted import IMPORTS
from forge_lsp.graph.writer import GraphWriter
from forge_lsp.indexing.report import FileDelta, IndexReport, ref_keys, retarget_keys
from forge_lsp.parsing.facts import LOCAL_RECEIVER, FileFacts
from forge_lsp.resolve.expressions import depends_on_scope
from forge_lsp.resolve.memo import Dep
from forge_lsp.resolve.program import Program


@dataclass(slots=True)
class Parsed:
    file_id: int
    path: str
    existed: bool
    facts: FileFacts
    symbol_ids: list[int]
    rows: list[list[Any]]  # reference rows, targets filled in by resolution
    delta: FileDelta
    # A cold index writes each file's rows as it is parsed, holding none of them: the ids of
    # its rows, whose missing targets resolution reads back and fills in.
    stored: tuple[int, int] | None = None
    imports: tuple[int, int] = (1, 0)  # and the ids of its import rows, the same way


class StoredFiles:
    """The files a cold index wrote as it parsed them, as its resolve phase needs them: five
    ids a file in one array (the file, its first and last reference rows, its first import row
    and how many) beside its delta. As a Parsed each, with their tuples and empty lists, they
    were about 57 MB of the peak at 100,000 files; iterating gives the Parsed records back."""

    __slots__ = ("_ids", "deltas")

    def __init__(self) -> None:
        self._ids = array("q")
        self.deltas: list[FileDelta] = []

    def append(
        self, file_id: int, refs: tuple[int, int], imports: tuple[int, int], delta: FileDelta
    ) -> None:
        self._ids.extend((file_id, *refs, *imports))
        self.deltas.append(delta)

    def __len__(self) -> int:
        return len(self.deltas)

    def __iter__(self) -> Iterator[Parsed]:
        """In path order: a package's files are resolved together, and the files they read
        are then among the last read, built (resolve/file_table.py)."""
        ids, deltas = self._ids, self.deltas
        for n in sorted(range(len(deltas)), key=lambda i: deltas[i].path):
            delta = deltas[n]
            fid, first, last, imports, count = ids[5 * n : 5 * n + 5]
            yield Parsed(
                fid, delta.path, False, NO_FACTS, [], [], delta, (first, last), (imports, count)
            )

    def file_ids(self) -> set[int]:
        return set(self._ids[::5])


# a reference to resolve: (row id or index, name id, receiver name id, scope id, target so far)
RefRow = tuple[int, int, int | None, int, int | None]


# per dependency (a file id or a dotted module name), the reference names whose answers read it
Consulted = dict[Dep, set[int]]


def resolve_rows(
    program: Program, fid: int, rows: Iterable[RefRow], texts: list[str], consulted: Consulted
) -> Iterator[tuple[int, int, int, int | None, int | None]]:
    """(row, name id, scope, target so far, resolved target) for references of file `fid`, in
    memory or read back from the graph, what each read filed under its name in `consulted`; a
    (name, receiver, scope where it matters) is resolved once per file: the same
    `self.assertEqual` recurs a hundred times."""
    seen: dict[tuple[int, int | None, int], int | None] = {}
    scoped_receivers: dict[int | None, bool] = {}  # receiver name id -> depends_on_scope
    recorder = program.deps
    for rid, name_id, receiver_id, scope, old in rows:
        receiver = texts[receiver_id] if receiver_id is not None else None
        scoped = scoped_receivers.get(receiver_id)
        if scoped is None:
            scoped = scoped_receivers[receiver_id] = depends_on_scope(receiver)
        key = (name_id, receiver_id, scope if scoped else 0)
        if key in seen:
            target = seen[key]
        else:
            target = seen[key] = recorder.consulted(
                consulted, name_id, _target, program, fid, texts[name_id], receiver, scope, scoped
            )
        yield rid, name_id, scope, old, target


def _target(
    program: Program, fid: int, name: str, receiver: str | None, scope: int, scoped: bool
) -> int | None:
    return program.target_symbol(program.resolve(fid, name, receiver, scope, scoped))


def _import_target(
    program: Program, consulted: Consulted, fid: int, module: str, name: str | None, level: int
) -> int | None:
    return program.deps.consulted(
        consulted, IMPORTS, import_target, program, fid, module, name, level
    )


NO_FACTS = FileFacts("", "")  # what a cold index keeps of a file's facts once written


def write_consulted(
    writer: GraphWriter,
    fid: int,
    consulted: Consulted,
    existing: bool,
    redone: set[int] | None = None,
) -> None:
    """Write what a file's resolution consulted: other files and module names, with names."""
    files = {d: n for d, n in consulted.items() if isinstance(d, int) and d != fid}
    modules = {d: n for d, n in consulted.items() if isinstance(d, str)}
    writer.write_deps(fid, files, modules, existing, redone)


# A cold index, or a batch of a first index, forgets its memoised answers every this many files
# it resolves: most reuse is among neighbours (a package's files ask of the same modules), and
# keeping every answer of 100,000 files was 105 MB at the peak of the index. A live update keeps
# them: the next keystroke starts warm. Answers recomputed record what they consulted again.
MEMO_FILES = 1024


def resolve_parsed(
    writer: GraphWriter, program: Program, parsed: Iterable[Parsed], bulk: bool, report: IndexReport
) -> None:
    """Resolve the references of the files an update parsed, and write them (as a delta unless
    the file is new) with their imports and what their resolution consulted."""
    touched = report.touched
    texts = writer.name_texts()
    for n, p in enumerate(parsed, 1):
        if (bulk or p.stored is not None) and n % MEMO_FILES == 0:
            program.reset_memo()
        if p.stored is not None:
            _resolve_stored(writer, program, p, texts, report)
            continue
        started = time.perf_counter()
        fid = p.file_id
        rows = p.rows  # insert_refs rows: name 4, scope 6, target 7 (None: not decided in-file)
        consulted: Consulted = {}
        with program.collecting():
            pending = [(i, r[4], r[8], r[6], None) for i, r in enumerate(rows) if r[7] is None]
            for i, *_, target in resolve_rows(program, fid, pending, texts, consulted):
                rows[i][7] = target
            # where each import leads (file dependency edges), its module names recorded too
            targets = [
                _import_target(program, consulted, fid, i.module, i.name, i.level)
                for i in p.facts.imports
            ]
        program.end_file()
        writer.replace_imports(fid, p.facts, targets, p.existed)
        added, removed = writer.write_refs(fid, p.rows, p.existed)
        write_consulted(writer, fid, consulted, p.existed)
        p.delta.refs_added, p.delta.refs_removed = len(added), len(removed)
        if not bulk:
            for changed_row in (*added, *removed):
                ref_keys(touched, changed_row)
        p.delta.seconds += time.perf_counter() - started
        report.deltas.append(p.delta)
        p.rows = []


def _resolve_stored(
    writer: GraphWriter, program: Program, p: Parsed, texts: list[str], report: IndexReport
) -> None:
    """Resolve a file whose rows are already written (a cold index): the same answers as
    the in-memory path, read back by row id and written as target updates."""
    assert p.stored is not None
    started = time.perf_counter()
    fid = p.file_id
    consulted: Consulted = {}
    with program.collecting():
        rows = writer.unresolved_refs(*p.stored)
        # every row, NULL too: PENDING must not stay
        changes = [
            (new, rid, old)
            for rid, _, _, old, new in resolve_rows(program, fid, rows, texts, consulted)
        ]
        imports = [
            (_import_target(program, consulted, fid, module, name, level), iid)
            for iid, module, name, level in writer.pending_imports(*p.imports)
        ]
    program.end_file()
    writer.set_targets(changes)
    writer.set_import_targets(imports)
    write_consulted(writer, fid, consulted, False)
    first, last = p.stored
    p.delta.refs_added = last - first + 1
    p.delta.seconds += time.perf_counter() - started
    report.deltas.append(p.delta)


def import_target(
    program: Program, fid: int, module: str, name: str | None, level: int
) -> int | None:
    """The file an import statement depends on: the submodule it names, else the module."""
    target = program.import_target(fid, module, level)
    if name is not None and name != "*" and target is not None:
        sub = program.import_target(fid, f"{module}.{name}" if module else name, level)
        target = sub if sub is not None else target
    return target


def reresolve(
    writer: GraphWriter,
    program: Program,
    dependents: dict[int, set[int] | None],
    report: IndexReport,
) -> None:
    """Re-resolve, without reparsing, the references that consulted what changed: per file,
    those spelled with the names given (None: every one; IMPORTS: its import statements)."""
    touched = report.touched
    changes: list[tuple[int | None, int, int | None]] = []
    import_changes: list[tuple[int | None, int]] = []
    texts = writer.name_texts()
    local = writer.known_name_id(LOCAL_RECEIVER)
    for fid, names, rows in _dependents_refs(writer, dependents, local):
        consulted: Consulted = {}
        with program.collecting():
            for iid, _fid, module, name, level, current in (
                writer.import_rows(fid) if names is None or IMPORTS in names else ()
            ):
                target = _import_target(program, consulted, fid, module, name, level)
                if target != current:
                    import_changes.append((target, iid))
            for rid, name_id, scope, old, target in resolve_rows(
                program, fid, rows, texts, consulted
            ):
                if target != old:
                    changes.append((target, rid, old))
                    retarget_keys(touched, old, target, name_id, scope)
            report.reresolved_refs += len(rows)
        program.end_file()
        write_consulted(writer, fid, consulted, True, names)
    writer.set_targets(changes)  # after the last file: _dependents_refs reads ahead
    writer.set_import_targets(import_changes)
    report.reresolved_files += len(dependents)
    report.retargeted += len(changes)


def consulted_for(
    writer: GraphWriter, program: Program, file_ids: Iterable[int], names: Iterable[str]
) -> set[str]:
    """The dotted module names that resolving, now, these files' references spelled with one of
    `names` consults (found or not); nothing is written. A question about a name's uses needs
    these, not everything its files' other references read."""
    name_ids = {nid for n in names if (nid := writer.known_name_id(n)) is not None}
    local = writer.known_name_id(LOCAL_RECEIVER)
    texts = writer.name_texts()
    consulted: set[str] = set()
    for fid in file_ids:
        read: Consulted = {}
        with program.collecting():
            for _ in resolve_rows(
                program, fid, _decided_outside(writer, fid, local, name_ids), texts, read
            ):
                pass
        program.end_file()
        consulted.update(d for d in read if isinstance(d, str))
    return consulted


def _decided_outside(
    writer: GraphWriter, fid: int, local: int | None, names: Collection[int] | None = None
) -> list[RefRow]:
    """A stored file's references whose targets resolution decides, all or those spelled with
    `names`; those decided inside the file itself (receiver `local`, the interned
    LOCAL_RECEIVER) stay as the file gave them."""
    return _outside(writer.file_refs(fid, names), local)


def _outside(rows: Iterable[RefRow], local: int | None) -> list[RefRow]:
    return [r for r in rows if r[2] is None or r[2] != local]


_REFS_BATCH = 512  # dependents whose references are read in one query


def _dependents_refs(
    writer: GraphWriter, dependents: dict[int, set[int] | None], local: int | None
) -> Iterator[tuple[int, set[int] | None, list[RefRow]]]:
    """(file, names, the references to re-resolve) of each dependent, in id order: as
    _decided_outside gives them, read a batch of files at a time rather than a query each.
    Reading ahead is safe: re-resolution writes the targets it changes after the last file."""
    order = sorted(dependents)
    for start in range(0, len(order), _REFS_BATCH):
        batch = {fid: dependents[fid] for fid in order[start : start + _REFS_BATCH]}
        refs = writer.files_refs(batch)
        for fid, names in batch.items():
            yield fid, names, _outside(refs.pop(fid), local)
