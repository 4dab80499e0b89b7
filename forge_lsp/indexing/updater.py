"""The one writer of a workspace graph: every change, cold index or keystroke, goes through here.

A GraphUpdater owns the write connection and the in-memory Program that resolution needs, and
keeps both across updates. Each update is one transaction that
  1. removes deleted files and writes each changed file's rows as a delta against the graph
     (a symbol that keeps its qualified name and kind keeps its id);
  2. resolves the changed files' references, recording what each file's resolution consulted;
  3. propagates, without reparsing: only when a file's interface hash changed (or the module
     map did) are the files whose resolution consulted it re-resolved. A body-only edit touches
     no other file.
The report (indexing/report.py) says what changed, down to the cache keys whose answers may
differ. On any error the transaction rolls back and the in-memory state is reloaded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, nullcontext

import apsw

from forge_lsp.config import Settings
from forge_lsp.graph.store import (
    TOTALS,
    StoreError,
    checkpoint,
    create_bulk_indexes,
    drop_bulk_indexes,
    graph_totals,
    open_writer,
)
from forge_lsp.graph.writer import FileState, GraphWriter
from forge_lsp.indexing.discovery import Discovery, discover, unsafe_root
from forge_lsp.indexing.modules import ModuleNames, is_test_file
from forge_lsp.indexing.program_load import ProgramLoader, add_to_program, collector_paused
from forge_lsp.indexing.report import FileDelta, IndexReport, ref_keys, symbol_keys
from forge_lsp.indexing.resolution import Parsed, StoredFiles, reresolve, resolve_parsed
from forge_lsp.indexing.worker import Job, JobPool, Result, run_jobs
from forge_lsp.resolve.program import Program

Progress = Callable[[int, int], None]


class RootRefused(StoreError):
    """An index of a directory that is surely no project (`/`, `~`): refused, one line."""


class GraphUpdater:
    def __init__(self, conn: apsw.Connection, settings: Settings) -> None:
        self.conn = conn
        self.settings = settings
        self._prefix = settings.root.as_posix().rstrip("/") + "/"
        self._reload()

    @classmethod
    def open(cls, settings: Settings, *, force: bool = False) -> GraphUpdater:
        """The updater of the graph at `settings.db_path`, created if need be. The file system's
        root, the home directory or a system directory is refused (RootRefused) unless `force`,
        before anything is written there: opening one is a mistake, not a project."""
        refused = None if force else unsafe_root(settings.root)
        if refused is not None:
            raise RootRefused(f"not indexing {refused}: open a project directory")
        return cls(open_writer(settings.db_path), settings)

    def close(self) -> None:
        self.conn.close()

    def _reload(self) -> None:
        """In-memory state from the graph as committed (at start, and after a failed update)."""
        self.writer = GraphWriter(self.conn)
        self.states: dict[str, FileState] = self.writer.file_states()
        self.module_names = ModuleNames(self._prefix, self.states)
        self.names_of = self.module_names.names_of
        self.writer.rank_modules(
            lambda: {state.id: self.names_of(p) for p, state in self.states.items()}
        )
        self.program: Program | None = None
        self._loader: ProgramLoader | None = None  # a load under way (preload_program)

    def rel(self, path: str) -> str:
        """The path relative to the workspace root (as ModuleNames spells it)."""
        return self.module_names.rel(path)

    def stored_hash(self, path: str) -> bytes | None:
        """The content hash of the file as stored (None: not in the graph)."""
        state = self.states.get(path)
        return self.writer.hashes(state.id)[0] if state is not None else None

    def _with_hashes(self, jobs: Iterable[Job]) -> list[Job]:
        """The jobs, each of a stored file with its stored hash: unchanged bytes are not
        parsed again (a checkout that only moved mtimes)."""
        return [
            job._replace(old_hash=self.stored_hash(job.path)) if job.path in self.states else job
            for job in jobs
        ]

    def load_program(self) -> Program:
        """The resolution model of every stored file, built on first need and kept."""
        program = self.preload_program()
        assert program is not None
        return program

    def preload_program(self, stop: Callable[[], bool] | None = None) -> Program | None:
        """load_program, pausing (None) when `stop` says so, checked between chunks; the next
        call goes on where this one stopped. A server asked to exit, or given a change, must
        not wait for a 100,000-file load."""
        if self.program is None:
            if self._loader is None:
                self._loader = ProgramLoader(self.writer, self.states, self.names_of)
            if not self._loader.advance(stop):
                return None
            self.program, self._loader = self._loader.program, None
        return self.program

    # ----- entry points ----------------------------------------------------------------------

    def sync(
        self,
        discovery: Discovery,
        *,
        workers: int,
        progress: Progress | None = None,
        keep: Iterable[str] = (),
    ) -> IndexReport:
        """Bring the graph in line with the files on disk: a cold index, or a warm one that
        reads only files whose size or mtime changed. Paths in `keep` (open documents, indexed
        from the editor's buffer) are left as they are."""
        kept = set(keep)
        files = discovery.files
        states = self.states
        on_disk = {f.path for f in files}
        removed = [p for p in states if p not in on_disk and p not in kept]
        jobs = [
            Job(f.path, f.size)
            for f in files
            if (state := states.get(f.path)) is None
            or (state.size, state.mtime_ns) != (f.size, f.mtime_ns)
        ]
        if kept:
            jobs = [job for job in jobs if job.path not in kept]
        added = on_disk - states.keys()
        report = IndexReport(files=len(states) - len(removed) + len(added))
        report.unchanged = len(files) - len(jobs)
        with self._transaction(), collector_paused():
            if jobs or removed:
                total, stream = len(jobs), run_jobs(self._with_hashes(jobs), workers)
                # the stream holds the jobs until it has run them: none stay for resolution
                del jobs, on_disk
                self._update(stream, total, removed, added, progress, report)
            self._finish(discovery, report)
        return report

    def finish_sync(self, discovery: Discovery, report: IndexReport) -> None:
        """What ends a sync done as several updates (a first index in batches): the skipped
        files, the totals, the time of the index."""
        report.files = len(self.states)
        with self._transaction():
            self._finish(discovery, report)

    def _finish(self, discovery: Discovery, report: IndexReport) -> None:
        self.writer.replace_skipped(discovery.skipped)
        report.skipped = dict(discovery.skip_counts())
        self._count(report)
        self.writer.set_meta(
            {
                "root": self.settings.root.as_posix(),
                "last_index_time": time.time(),
                "files_skipped": len(discovery.skipped),
            }
        )

    def discover(self, git: bool | None) -> Discovery:
        """The workspace's files (`git`: as discovery found before, or None)."""
        known = {path: (state.size, state.mtime_ns) for path, state in self.states.items()}
        return discover(self.settings, git=git, known=known)

    def index(
        self,
        *,
        workers: int,
        progress: Progress | None = None,
        keep: Iterable[str] = (),
        git: bool | None = None,
        staged: Callable[[Discovery], IndexReport] | None = None,
    ) -> tuple[IndexReport, bool]:
        """One index run: discover the workspace (`git`: as discovery found before, or None),
        sync (in one transaction, or as `staged` does it), record how long it took, fold the
        WAL back. Returns the report and whether the file list was git's."""
        started = time.perf_counter()
        discovery = self.discover(git)
        discovered = time.perf_counter() - started
        if staged is not None:
            report = staged(discovery)
        else:
            report = self.sync(discovery, workers=workers, progress=progress, keep=keep)
        report.phases["discover"] = discovered
        report.seconds = time.perf_counter() - started
        with self.conn:
            self.writer.set_meta({"last_index_seconds": round(report.seconds, 3)})
        checkpoint(self.conn)
        return report, discovery.git

    def apply(
        self,
        *,
        parsed: Sequence[Result] = (),
        jobs: Sequence[Job] = (),
        removed: Iterable[str] = (),
        workers: int = 1,
        progress: Progress | None = None,
        bulk: bool = False,
        pool: JobPool | None = None,
        enough: Callable[[], bool] | None = None,
    ) -> IndexReport:
        """A live update in one transaction: files already parsed (open documents), files to
        read and parse (`jobs`, in `pool` if given), and paths that are gone. `bulk` (a batch
        of a first index): no cache keys are collected, any answer may have changed; its rows
        are resolved before they are written (as in any update, unlike a cold index: updating
        targets afterwards would pay for every index). `enough`, asked after each file read:
        commit what was read; the jobs not read are in `report.unread` (new files among them
        are treated as if they had vanished since discovery, as they have for this update)."""
        states = self.states
        gone = [p for p in removed if p in states]
        added = {r.path for r in parsed if r.path not in states}
        added.update(j.path for j in jobs if j.path not in states)
        added.difference_update(gone)
        report = IndexReport(files=len(states) - len(gone) + len(added))
        read: set[str] = set()

        def results() -> Iterator[Result]:
            yield from parsed
            hashed = self._with_hashes(jobs)
            stream = pool.run(hashed) if pool is not None else run_jobs(hashed, workers)
            try:
                for result in stream:
                    read.add(result.path)
                    yield result
                    if enough is not None and enough():
                        break
            finally:
                stream.close()  # a pool's run cancels what it has not started

        report.bulk = bulk
        with self._transaction(), collector_paused() if bulk else nullcontext():
            self._update(results(), len(parsed) + len(jobs), gone, added, progress, report)
            self.writer.store_totals()
        if enough is not None:
            report.unread = [j.path for j in jobs if j.path not in read]
        return report

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        """One write transaction; if it fails, the in-memory state follows the rollback. A full
        disk is a StoreError (one line for the user): nothing of the update was written."""
        try:
            with self.conn:
                yield
        except BaseException as exc:
            self._reload()
            # SQLite rolls back on a full disk by itself; the rollback after it then fails
            # and hides the FullError behind "no transaction is active"
            if isinstance(exc, apsw.FullError) or isinstance(exc.__context__, apsw.FullError):
                raise StoreError(
                    f"{self.settings.db_path}: the disk is full; the update was not written"
                ) from exc
            raise

    # ----- one update ------------------------------------------------------------------------

    def _update(
        self,
        results: Iterator[Result],
        total: int,
        removed: list[str],
        added: set[str],
        progress: Progress | None,
        report: IndexReport,
    ) -> None:
        """Apply one batch; `removed` and `added` change the set of paths (the rest of the
        results are files already in the graph)."""
        started = time.perf_counter()
        writer = self.writer
        states = self.states
        cold = report.cold = not states
        report.bulk = report.bulk or cold
        if cold:
            drop_bulk_indexes(self.conn)
        # Loaded when needed: a sync whose files all come back unchanged (only mtimes moved: a
        # checkout) needs none, and loading 100,000 files' would be most of a restart.
        program = self.load_program() if added or removed else None

        renamed, candidates = self.module_names.rename(added, removed, states)
        before = {m: program.module_state(m) for m in candidates} if program is not None else {}

        changed: set[int] = set()  # files whose interface changed: their users re-resolve
        touched = report.touched
        for path in removed:
            fid = states.pop(path).id
            symbols, refs = writer.clear_file(fid)
            assert program is not None  # loaded: there are removed files
            program.remove_file(fid)
            changed.add(fid)
            for sid, parent, name_id in symbols:
                symbol_keys(touched, sid, parent, name_id, moved=True)
            for row in refs:
                ref_keys(touched, row)
        report.removed = len(removed)

        parsed = self._store_files(results, total, progress, report, changed)
        if program is None and not parsed and not cold:  # every file came back unchanged
            report.seconds = time.perf_counter() - started
            return
        program = self.load_program()
        parsed_ids = (
            parsed.file_ids() if isinstance(parsed, StoredFiles) else {p.file_id for p in parsed}
        )
        lost = {p for p in added if p not in states}  # gone (or unreadable) since discovery
        unknown_before: set[str] = set()
        if lost:
            # Names were given as if they existed: an __init__ file that vanished made its
            # directory a package for every file below it. Take them back before anything
            # is resolved, or the graph keeps names that no later run would revisit.
            added = added - lost
            corrected, moved_names = self.module_names.rename(set(), sorted(lost), states)
            for path in corrected:
                program.rename_file(states[path].id, self.names_of(path))
            renamed |= corrected
            unknown_before = moved_names - candidates  # counted as moved
        stale_names: set[int] = set()  # files whose own module names changed
        for path in renamed | added:
            state = states.get(path)
            if state is None:
                continue  # added, but unreadable: not in the graph
            writer.set_modules(state.id, self.names_of(path), path not in added)
            if path in renamed:
                if state.id not in parsed_ids:
                    program.rename_file(state.id, self.names_of(path))
                stale_names.add(state.id)
        changed |= stale_names
        moved = {m for m in candidates if program.module_state(m) != before[m]} | unknown_before
        if cold:
            program.reset_memo()
        elif changed or moved:
            # Memoised answers read namespaces, members, bases and types, which only an
            # interface change or a module name that moved can change (a new file's names
            # are among the moved ones), and each records what it read: only those that read
            # the change go; after body-only edits (typing) all still hold.
            program.forget({*changed, *moved})
        report.phases["parse"] = time.perf_counter() - started

        phase = time.perf_counter()
        resolve_parsed(self.writer, program, parsed, report.bulk, report)
        report.phases["resolve"] = time.perf_counter() - phase

        if not cold:
            phase = time.perf_counter()
            # files whose own names moved re-resolve every reference (None)
            dependents = writer.dependents(changed, moved) | dict.fromkeys(stale_names)
            unparsed = {f: names for f, names in dependents.items() if f not in parsed_ids}
            reresolve(self.writer, program, unparsed, report)
            report.phases["propagate"] = time.perf_counter() - phase
        writer.flush_names()
        if cold:
            phase = time.perf_counter()
            create_bulk_indexes(self.conn)
            report.phases["indexes"] = time.perf_counter() - phase
        report.interface_changed = len(changed)
        report.seconds = time.perf_counter() - started

    def _store_files(
        self,
        results: Iterator[Result],
        total: int,
        progress: Progress | None,
        report: IndexReport,
        changed: set[int],
    ) -> list[Parsed] | StoredFiles:
        """Write each parsed file's rows (as a delta) and put it into the program."""
        writer = self.writer
        states = self.states
        touched = report.touched
        parsed: list[Parsed] = []
        stored = StoredFiles()  # a cold index's, instead
        for done, result in enumerate(results, 1):
            if progress is not None:
                progress(done, total)
            started = time.perf_counter()
            old = states.get(result.path)
            rel = self.rel(result.path)
            if result.error is not None or result.facts is None:
                if result.error is not None:
                    report.warnings.append(f"{rel}: {result.error}")
                elif old is not None:  # same content as the graph has: nothing to do
                    writer.touch_file(old.id, result.size, result.mtime_ns)
                    states[result.path] = old._replace(size=result.size, mtime_ns=result.mtime_ns)
                    report.unchanged += 1
                continue
            facts = result.facts
            if facts.error:
                report.warnings.append(f"{rel}: {facts.error}")
            old_interface = writer.hashes(old.id)[1] if old is not None else None
            fid = writer.upsert_file(
                old.id if old else None,
                result.path,
                facts,
                result.size,
                result.mtime_ns,
                result.content_hash,
                is_test_file(rel),
            )
            states[result.path] = FileState(fid, result.size, result.mtime_ns)
            symbols = writer.write_symbols(fid, facts, old is not None)
            interface_changed = old_interface != facts.interface
            if interface_changed:
                changed.add(fid)
            if not report.bulk:  # after a cold index or a first-index batch: no keys to keep
                for kind, moved in (
                    (symbols.added, True),
                    (symbols.removed, True),
                    (symbols.changed, False),
                ):
                    for sid, parent, name_id in kind:
                        symbol_keys(touched, sid, parent, name_id, moved=moved)
            add_to_program(
                self.load_program(),
                fid,
                result.path,
                self.names_of(result.path),
                facts,
                symbols.ids,
            )
            delta = FileDelta(
                result.path,
                interface_changed,
                len(symbols.added),
                len(symbols.removed),
                len(symbols.changed),
                seconds=time.perf_counter() - started,
            )
            rows = writer.ref_rows(fid, facts, symbols.ids)
            if report.cold:
                # Memory stays flat however large the workspace: nothing of the file is kept.
                stored.append(
                    fid, writer.append_refs(rows), writer.append_imports(fid, facts), delta
                )
                continue
            parsed.append(
                Parsed(fid, result.path, old is not None, facts, symbols.ids, rows, delta)
            )
        if report.cold:
            report.parsed = len(stored)
            return stored
        report.parsed = len(parsed)
        return parsed

    def _count(self, report: IndexReport) -> None:
        """Graph totals: those stored, which every update keeps exact (graph/totals.py), or
        counted where none are (a first index, a first-index batch)."""
        totals = graph_totals(self.conn)
        report.symbols, report.references, report.resolved = totals
        self.writer.set_meta(dict(zip(TOTALS, totals, strict=True)))
