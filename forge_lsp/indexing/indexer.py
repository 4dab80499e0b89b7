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

import apsw

from forge_lsp.config import Settings
from forge_lsp.graph.store import checkpoint, create_bulk_indexes, drop_bulk_indexes, open_writer
from forge_lsp.graph.writer import FileState, GraphWriter
from forge_lsp.indexing.discovery import SourceFile, discover
from forge_lsp.indexing.modules import is_test_file, module_names
from forge_lsp.indexing.worker import Job, Result, process, process_batch
from forge_lsp.parsing.facts import CLASS, INHERIT, LOCAL_RECEIVER, NO_TARGET, FileFacts
from forge_lsp.resolve.program import Program

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
_INLINE_LIMIT = 64  # fewer changed files than this are parsed in-process: no pool start-up cost
_CHUNK = 8


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
    conn = open_writer(settings.db_path)
    try:
        with conn:
            report = _Indexer(conn, settings, progress).run(discovery.files, jobs or settings.jobs)
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

        removed_symbols: set[int] = set()
        interface_changed: set[int] = set()
        for path in removed_paths:
            fid = states[path].id
            removed_symbols.update(sid for sid, _, _ in writer.clear_file(fid, remove=True))
            interface_changed.add(fid)
        self.report.removed = len(removed_paths)

        parsed = self._parse_and_store(
            jobs, states, by_path, workers, removed_symbols, interface_changed
        )
        if not parsed and not removed_paths and not cold:
            self._count()
            return self.report

        rels = {f.rel: f.path for f in files}
        ids = {path: fid for path, (fid, *_rest) in writer.file_states().items()}
        names = module_names(list(rels))
        modules_changed = writer.replace_modules(
            (name, ids[path]) for rel, path in rels.items() if path in ids for name in names[rel]
        )
        # Old import edges, read before they are recomputed: dependents of what changed.
        importers = writer.importers_of(interface_changed) if interface_changed else set()
        program = self._program(parsed)
        self._store_references(parsed, program)
        retargeted = self._retarget_imports(program)
        if cold:
            create_bulk_indexes(self.conn)
            self._count()
            return self.report
        changed_ids = {p.file_id for p in parsed}
        dependents: set[int] = (
            writer.files_referencing(removed_symbols) if removed_symbols else set()
        )
        if interface_changed or modules_changed:
            new_names = {
                s.name for p in parsed if p.file_id in interface_changed for s in p.facts.symbols
            }
            dependents |= importers | retargeted | writer.files_with_unresolved(new_names)
        self._reresolve(dependents - changed_ids, program, changed_ids)
        self._count()
        return self.report

    # ----- parse -----------------------------------------------------------------------------

    def _parse_and_store(
        self,
        jobs: list[Job],
        states: dict[str, FileState],
        by_path: dict[str, SourceFile],
        workers: int,
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
            if result.error is not None:
                self.report.warnings.append(f"{by_path[result.path].rel}: {result.error}")
                continue  # the previous facts, if any, stay: nothing is lost
            if result.facts is None:
                if old is not None:
                    writer.touch_file(old.id, result.size, result.mtime_ns)
                    self.report.unchanged += 1
                continue
            facts = result.facts
            if facts.error:
                self.report.warnings.append(f"{by_path[result.path].rel}: {facts.error}")
            old_symbols = writer.clear_file(old.id, remove=False) if old is not None else []
            rel = by_path[result.path].rel
            fid = writer.upsert_file(
                old.id if old else None,
                result.path,
                facts,
                result.size,
                result.mtime_ns,
                result.content_hash,
                is_test_file(rel),
            )
            symbol_ids = writer.insert_symbols(fid, facts, old_symbols)
            writer.insert_imports(fid, facts)
            kept = set(symbol_ids)
            removed_symbols.update(sid for sid, _, _ in old_symbols if sid not in kept)
            if old is None or old.interface_hash != facts.interface_hash():
                interface_changed.add(fid)
            parsed.append(_Parsed(fid, facts, symbol_ids))
        self.report.parsed = len(parsed)
        return parsed

    # ----- resolve ---------------------------------------------------------------------------

    def _program(self, parsed: list[_Parsed]) -> Program:
        writer = self.writer
        program = Program()
        for fid, path, exports, modules in writer.files_and_modules():
            program.add_file(fid, modules, path, exports.split("\n") if exports else None)
        program.add_symbols(writer.program_rows())
        for _id, fid, module, name, alias, level, module_level in writer.module_imports():
            if module_level:
                program.add_import(fid, module, name, alias, level)
        fresh = {p.file_id for p in parsed}
        for class_id, fid, name, receiver, target in writer.stored_bases(fresh):
            program.add_base(class_id, fid, name, receiver, target)
        for p in parsed:
            symbols, ids = p.facts.symbols, p.symbol_ids
            for ref in p.facts.refs:
                if ref.role == INHERIT and symbols[ref.scope].kind == CLASS:
                    local = ids[ref.target] if ref.target != NO_TARGET else None
                    program.add_base(ids[ref.scope], p.file_id, ref.name, ref.receiver, local)
        return program

    def _store_references(self, parsed: list[_Parsed], program: Program) -> None:
        writer = self.writer
        for p in parsed:
            ids = p.symbol_ids
            fid = p.file_id
            targets = [
                program.target_symbol(program.resolve(fid, r.name, r.receiver, ids[r.scope]))
                if r.target == NO_TARGET
                else None
                for r in p.facts.refs
            ]
            writer.insert_refs(writer.ref_rows(fid, p.facts, ids, targets))

    def _retarget_imports(self, program: Program) -> set[int]:
        """Recompute file-dependency edges; return the files whose edges changed."""
        changes: list[tuple[int | None, int]] = []
        files: set[int] = set()
        for iid, fid, module, name, _alias, level, _ml in self.writer.module_imports():
            target = program.import_target(fid, module, level)
            if name is not None and name != "*" and target is not None:
                sub = program.import_target(fid, f"{module}.{name}" if module else name, level)
                target = sub if sub is not None else target
            changes.append((target, iid))
        current = dict(self.conn.execute("SELECT id, target_file_id FROM imports"))
        diff = [(t, i) for t, i in changes if current.get(i) != t]
        for _t, iid in diff:
            files.add(
                self.conn.execute("SELECT file_id FROM imports WHERE id=?", (iid,)).fetchall()[0][0]
            )
        self.writer.set_import_targets(diff)
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
