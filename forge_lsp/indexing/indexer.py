"""Cold and warm indexing of a workspace into the graph.

Worker processes read, hash, parse and extract (tree-sitter holds the GIL, so threads would not
help); the main process is the one writer. Everything from the first delete to the last index is
one transaction: a crash or an error leaves the previous graph as it was.

A re-run is incremental: files whose size and mtime match are not read; files whose content hash
matches are not parsed; only references that could have changed meaning are re-resolved.
"""

from __future__ import annotations

import logging
import multiprocessing
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import apsw

from forge_lsp.config import Settings
from forge_lsp.graph.store import checkpoint, create_bulk_indexes, drop_bulk_indexes, open_writer
from forge_lsp.graph.writer import FileState, GraphWriter
from forge_lsp.indexing.discovery import SourceFile, discover
from forge_lsp.indexing.modules import is_test_file, module_names
from forge_lsp.indexing.worker import Job, Result, process, process_batch
from forge_lsp.parsing.facts import CLASS, INHERIT, LOCAL_RECEIVER, NO_TARGET, FileFacts
from forge_lsp.resolve.program import Program, depends_on_scope

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_INLINE_LIMIT = 64  # fewer changed files than this are parsed in-process: no pool start-up cost
_CHUNK = 8
_PER_FILE_LOAD_LIMIT = 64  # up to this many files, load from the graph by indexed lookups


@dataclass(slots=True)
class IndexReport:
    files: int = 0
    parsed: int = 0
    unchanged: int = 0
    removed: int = 0
    reresolved_files: int = 0
    symbols: int = 0
    references: int = 0
    resolved: int = 0
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)  # where the seconds went
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def resolved_percent(self) -> float:
        return 100.0 * self.resolved / self.references if self.references else 100.0


@dataclass(slots=True)
class _Parsed:
    file_id: int
    facts: FileFacts
    symbol_ids: list[int]
    rows: list[list[Any]]  # reference rows, targets filled in by resolution


def _run_jobs(jobs: list[Job], workers: int) -> Iterator[Result]:
    if workers <= 1 or len(jobs) < _INLINE_LIMIT:
        for job in jobs:
            yield process(job)
        return
    # Largest first in small chunks: the pool stays balanced to the end.
    jobs = sorted(jobs, key=lambda j: -j.size)
    chunks = [jobs[i : i + _CHUNK] for i in range(0, len(jobs), _CHUNK)]
    context = multiprocessing.get_context("forkserver" if _threads_running() else "fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        for batch in pool.map(process_batch, chunks):
            yield from batch


def _threads_running() -> bool:
    import threading

    return threading.active_count() > 1


def index_workspace(
    settings: Settings, *, jobs: int | None = None, progress: Progress | None = None
) -> IndexReport:
    started = time.perf_counter()
    discovery = discover(settings)
    discovered = time.perf_counter()
    conn = open_writer(settings.db_path)
    try:
        with conn:
            report = _Indexer(conn, settings, progress).run(discovery.files, jobs or settings.jobs)
            report.phases["discover"] = discovered - started
            writer = GraphWriter(conn)
            writer.replace_skipped(discovery.skipped)
            report.skipped = dict(discovery.skip_counts())
            report.seconds = time.perf_counter() - started
            writer.set_meta(
                {
                    "root": str(settings.root),
                    "last_index_seconds": round(report.seconds, 3),
                    "last_index_time": time.time(),
                    "files_skipped": len(discovery.skipped),
                }
            )
        checkpoint(conn)
    finally:
        conn.close()
    return report


class _Indexer:
    def __init__(
        self, conn: apsw.Connection, settings: Settings, progress: Progress | None
    ) -> None:
        self.conn = conn
        self.settings = settings
        self.progress = progress
        self.writer = GraphWriter(conn)
        self.report = IndexReport()

    def run(self, files: list[SourceFile], workers: int) -> IndexReport:
        writer = self.writer
        states = writer.file_states()
        cold = not states
        if cold:
            drop_bulk_indexes(self.conn)
        by_path = {f.path: f for f in files}
        removed_paths = [p for p in states if p not in by_path]
        jobs = [
            Job(f.path, f.size, states[f.path].content_hash if f.path in states else None)
            for f in files
            if f.path not in states
            or states[f.path].size != f.size
            or states[f.path].mtime_ns != f.mtime_ns
        ]
        self.report.files = len(files)
        self.report.unchanged = len(files) - len(jobs)
        if not jobs and not removed_paths:
            self._count()
            return self.report

        removed_symbols: set[int] = set()
        interface_changed: set[int] = set()
        for path in removed_paths:
            fid = states[path].id
            removed_symbols.update(sid for sid, _, _ in writer.clear_file(fid, remove=True))
            interface_changed.add(fid)
        self.report.removed = len(removed_paths)
        # Old import edges, read before they are recomputed: dependents of what changed.
        importers = writer.importers_of(interface_changed)

        # The program is filled while workers parse: unchanged files from the graph now,
        # parsed files as they arrive. Module names come from the full file list.
        self.modules = module_names([f.rel for f in files])
        program = Program()
        pending = {j.path for j in jobs}
        self._load_stored(
            program,
            {states[f.path].id: f for f in files if f.path in states and f.path not in pending},
        )
        phase_start = time.perf_counter()
        parsed = self._parse_and_store(
            jobs, states, by_path, workers, program, removed_symbols, interface_changed
        )
        importers |= writer.importers_of(interface_changed)

        ids = {path: state.id for path, state in writer.file_states().items()}
        modules_changed = writer.replace_modules(
            (name, ids[f.path]) for f in files if f.path in ids for name in self.modules[f.rel]
        )
        self.report.phases["parse"] = time.perf_counter() - phase_start
        phase_start = time.perf_counter()
        self._store_references(parsed, program)
        self.report.phases["resolve"] = time.perf_counter() - phase_start
        retargeted = self._retarget_imports(program)
        if cold:
            writer.flush_names()
            create_bulk_indexes(self.conn)
            self._count()
            return self.report
        changed_ids = {p.file_id for p in parsed}
        dependents = writer.files_referencing(removed_symbols)
        if interface_changed or modules_changed:
            new_names = {
                s.name for p in parsed if p.file_id in interface_changed for s in p.facts.symbols
            }
            dependents |= importers | retargeted | writer.files_with_unresolved(new_names)
        self._reresolve(dependents - changed_ids, program, changed_ids)
        writer.flush_names()
        self._count()
        return self.report

    # ----- parse -----------------------------------------------------------------------------

    def _load_stored(self, program: Program, files: dict[int, SourceFile]) -> None:
        """Put files whose graph rows stay as they are into the program.

        Many files: one scan per table. A few (contents found unchanged after parsing was
        scheduled): indexed lookups per file, so a one-file update never scans the graph.
        """
        if not files:
            return
        writer = self.writer
        scans: list[int | None] = [None] if len(files) > _PER_FILE_LOAD_LIMIT else list(files)
        for scan in scans:
            for fid, path, exports in writer.file_exports(scan):
                if fid in files:
                    program.add_file(fid, self.modules[files[fid].rel], path, exports)
            program.add_symbols(row for row in writer.program_rows(scan) if row[1] in files)
            for _id, fid, module, name, alias, level, module_level in writer.module_imports(scan):
                if module_level and fid in files:
                    program.add_import(fid, module, name, alias, level)
            for class_id, fid, name, receiver, target in writer.stored_bases(scan):
                if fid in files:
                    program.add_base(class_id, fid, name, receiver, target)

    def _parse_and_store(
        self,
        jobs: list[Job],
        states: dict[str, FileState],
        by_path: dict[str, SourceFile],
        workers: int,
        program: Program,
        removed_symbols: set[int],
        interface_changed: set[int],
    ) -> list[_Parsed]:
        writer = self.writer
        parsed: list[_Parsed] = []
        total = len(jobs)
        for done, result in enumerate(_run_jobs(jobs, workers), 1):
            if self.progress is not None:
                self.progress(done, total)
            old = states.get(result.path)
            source = by_path[result.path]
            if result.error is not None or result.facts is None:
                if result.error is not None:
                    self.report.warnings.append(f"{source.rel}: {result.error}")
                if old is not None:  # unchanged content, or unreadable now: the old facts stay
                    if result.error is None:
                        writer.touch_file(old.id, result.size, result.mtime_ns)
                        self.report.unchanged += 1
                    self._load_stored(program, {old.id: source})
                continue
            facts = result.facts
            if facts.error:
                self.report.warnings.append(f"{source.rel}: {facts.error}")
            old_symbols = writer.clear_file(old.id, remove=False) if old is not None else []
            fid = writer.upsert_file(
                old.id if old else None,
                result.path,
                facts,
                result.size,
                result.mtime_ns,
                result.content_hash,
                is_test_file(source.rel),
            )
            symbol_ids = writer.insert_symbols(fid, facts, old_symbols)
            writer.insert_imports(fid, facts)
            kept = set(symbol_ids)
            removed_symbols.update(sid for sid, _, _ in old_symbols if sid not in kept)
            if old is None or old.interface_hash != facts.interface:
                interface_changed.add(fid)
            self._add_parsed(program, fid, source, facts, symbol_ids)
            parsed.append(_Parsed(fid, facts, symbol_ids, writer.ref_rows(fid, facts, symbol_ids)))
        self.report.parsed = len(parsed)
        return parsed

    def _add_parsed(
        self, program: Program, fid: int, source: SourceFile, facts: FileFacts, ids: list[int]
    ) -> None:
        program.add_file(fid, self.modules[source.rel], source.path, facts.exports)
        program.add_symbols(
            (ids[i], fid, s.name, s.kind, ids[s.parent] if s.parent >= 0 else None)
            for i, s in enumerate(facts.symbols)
        )
        for imp in facts.imports:
            if imp.module_level:
                program.add_import(fid, imp.module, imp.name, imp.alias, imp.level)
        symbols = facts.symbols
        for ref in facts.refs:
            if ref.role == INHERIT and symbols[ref.scope].kind == CLASS:
                local = ids[ref.target] if ref.target != NO_TARGET else None
                program.add_base(ids[ref.scope], fid, ref.name, ref.receiver, local)

    # ----- resolve ---------------------------------------------------------------------------

    def _store_references(self, parsed: list[_Parsed], program: Program) -> None:
        resolve = program.resolve
        target_symbol = program.target_symbol
        for p in parsed:
            ids = p.symbol_ids
            fid = p.file_id
            # Within a file the same (name, receiver) recurs often: `self.assertEqual` a hundred times.
            seen: dict[tuple[str, str | None, int], int | None] = {}
            for row, ref in zip(p.rows, p.facts.refs, strict=True):
                if ref.target != NO_TARGET:
                    continue
                receiver = ref.receiver
                scope = ids[ref.scope] if depends_on_scope(receiver) else 0
                key = (ref.name, receiver, scope)
                if key in seen:
                    row[7] = seen[key]
                else:
                    row[7] = seen[key] = target_symbol(
                        resolve(fid, ref.name, receiver, ids[ref.scope])
                    )
            self.writer.insert_refs(p.rows)
            p.rows = []

    def _retarget_imports(self, program: Program) -> set[int]:
        """Recompute file-dependency edges; return the files whose edges changed."""
        changes: list[tuple[int | None, int]] = []
        files: set[int] = set()
        for iid, fid, module, name, current, level in self.conn.execute(
            "SELECT id, file_id, module, name, target_file_id, level FROM imports"
        ):
            target = program.import_target(fid, module, level)
            if name is not None and name != "*" and target is not None:
                sub = program.import_target(fid, f"{module}.{name}" if module else name, level)
                target = sub if sub is not None else target
            if target != current:
                changes.append((target, iid))
                files.add(fid)
        self.writer.set_import_targets(changes)
        return files

    def _reresolve(self, dependents: Iterable[int], program: Program, done: set[int]) -> None:
        """Re-resolve, without reparsing, the references of files that depend on what changed.

        Repeats for the importers of files whose own import references changed target (a
        re-export moved), until nothing changes; `done` keeps it cycle-safe.
        """
        frontier = set(dependents)
        visited = set(done)
        while frontier:
            visited |= frontier
            self.report.reresolved_files += len(frontier)
            changes: list[tuple[int | None, int]] = []
            moved: set[int] = set()
            for ref in self.writer.refs_of_files(sorted(frontier)):
                if ref.receiver == LOCAL_RECEIVER:
                    continue  # decided inside its own file, which did not change
                target = program.target_symbol(
                    program.resolve(ref.file_id, ref.name, ref.receiver, ref.scope_id)
                )
                if target != ref.target_id:
                    changes.append((target, ref.id))
                    if ref.role == "import":
                        moved.add(ref.file_id)
            self.writer.set_targets(changes)
            frontier = self.writer.importers_of(moved) - visited if moved else set()

    def _count(self) -> None:
        conn = self.conn
        self.report.symbols = conn.execute("SELECT count(*) FROM symbols").fetchall()[0][0]
        total, resolved = conn.execute("SELECT count(*), count(target_id) FROM refs").fetchall()[0]
        self.report.references = total
        self.report.resolved = resolved
