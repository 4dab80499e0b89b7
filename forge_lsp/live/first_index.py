"""A folder's cold first index, in committed batches, the files a question needs first.

A question asked while the first index runs (references, definition, calls) becomes a Demand:
the files at its paths and those whose bytes hold one of its names, with everything their
resolution consulted (indexing/staged.py). Between two batches the updater thread takes the
waiting demands, indexes what each needs, and only then the next background batch; the demand's
future is done once what it needs is committed, so the answer the question then reads equals
the one after the whole index. Open documents are applied from their buffers between batches
as well: a question is usually asked from one.

Each batch is one GraphUpdater update and one transaction: readers see the graph grow, and a
crash keeps what was committed; the next start is a warm sync that indexes the rest. That the
end equals a cold index is the updater's invariant (incremental == cold).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field

from forge_lsp.graph.model import Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.graph.store import checkpoint, wal_bytes
from forge_lsp.indexing.discovery import Discovery, SourceFile
from forge_lsp.indexing.report import IndexReport
from forge_lsp.indexing.resolution import consulted_for
from forge_lsp.indexing.staged import IndexPlan
from forge_lsp.indexing.updater import GraphUpdater, Progress
from forge_lsp.indexing.worker import Job, JobPool

UsesOf = Callable[[GraphQuery], Symbol | None]  # the symbol whose uses a question asks for

log = logging.getLogger(__name__)

_NEXT_QUESTION = 0.02  # seconds the background waits, after an answer, for the next question
_WAL_LIMIT = 64 << 20  # bytes of WAL folded back between batches (100,000 files: 2.4 GB)
_MOST_BATCHES = 32  # background batches of a large workspace
_SHARE = 0.5  # a background batch runs this share of the questions' time before giving way
_LEAST_SLICE = 0.05  # and this many seconds at least
_GIVE_WAY_AFTER = 8  # files a background batch reads, at least, before a question interrupts it


@dataclass(slots=True)
class Demand:
    paths: list[str]
    uses_of: UsesOf | None
    future: Future[None] = field(default_factory=Future)


class Demands:
    """Questions waiting for a first index, from any thread; the updater thread takes them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._waiting: list[Demand] = []
        self.open = True  # until the first index ends: a question asked before it starts waits
        self.answered = 0  # answered before the index ended

    def add(self, paths: Iterable[str], uses_of: UsesOf | None) -> Future[None]:
        demand = Demand(list(paths), uses_of)
        with self._lock:
            if self.open:
                self._waiting.append(demand)
                self._arrived.notify_all()
                return demand.future
        demand.future.set_result(None)  # no first index runs: the graph is as complete as it gets
        return demand.future

    def take(self, wait: float = 0.0) -> Demand | None:
        """The oldest waiting demand still wanted (not cancelled by a timeout or the client),
        waiting up to `wait` seconds for one."""
        with self._lock:
            if not self._waiting and wait > 0:
                self._arrived.wait(wait)
            while self._waiting:
                demand = self._waiting.pop(0)
                if demand.future.set_running_or_notify_cancel():
                    return demand
        return None

    def finish(self) -> None:
        """The index ended (or failed): whatever still waits has the graph as it stands."""
        with self._lock:
            self.open = False
            waiting, self._waiting = self._waiting, []
        for demand in waiting:
            if demand.future.set_running_or_notify_cancel():
                demand.future.set_result(None)

    def waiting(self) -> bool:
        with self._lock:
            return bool(self._waiting)

    def note(self) -> str:
        """What a progress report adds: the questions already answered completely."""
        return f", {self.answered} question(s) answered" if self.answered else ""

    def answered_one(self, demand: Demand) -> None:
        self.answered += 1
        demand.future.set_result(None)


class StagedFirstIndex:
    """One cold first index on the updater thread (see the module's docstring).

    `between` applies the editor's notices (open documents) and says whether there were any;
    its argument says whether a demand waits, so that debounced ones go too. `kept` are the
    open documents' paths, which come from the editor, never from the disk. `committed` is
    called after every batch; `stop` is asked before each (a server asked to exit leaves the
    rest to its next start)."""

    def __init__(
        self,
        updater: GraphUpdater,
        demands: Demands,
        *,
        workers: int,
        batch_files: int,
        between: Callable[[bool], bool],
        kept: Callable[[], set[str]],
        committed: Callable[[], None],
        progress: Progress,
        stop: Callable[[], bool],
    ) -> None:
        self.updater = updater
        self.demands = demands
        self.workers = workers
        self.batch_files = batch_files
        self.between = between
        self.kept = kept
        self.committed = committed
        self.progress = progress
        self.stop = stop
        self.report = IndexReport(cold=True, bulk=True)
        self.total = 0
        self.written = 0
        # what was indexed to its fixed point already: adding files cannot undo that, so a
        # question asked again (or one asked on the same names) costs no scan
        self._complete_paths: set[str] = set()
        self._complete_names: set[str] = set()
        self._reads = 0
        self._owed = 0.0  # seconds of questions since the last background batch
        self._batch_began = 0.0
        self._neighbourhoods: set[str] = set()  # open documents whose closure was indexed

    def _opened(self) -> list[str]:
        """Open documents in the graph (applied from their buffers) whose closure was not
        indexed yet: what the editor shows is what it asks about next."""
        states = self.updater.states
        opened = sorted(p for p in self.kept() - self._neighbourhoods if p in states)
        self._neighbourhoods.update(opened)
        return opened

    def run(self, discovery: Discovery) -> IndexReport:
        started = time.perf_counter()
        plan = IndexPlan(discovery, self.updater.settings.root.as_posix().rstrip("/") + "/")
        plan.drop(self.kept())  # indexed from their buffers
        self.total = len(plan.pending)
        # Background batches give way to questions, so their size only sets how often a
        # batch pays what is proportional to the graph (module names, the memo): 32 at most.
        batch = max(self.batch_files, self.total // _MOST_BATCHES)
        with JobPool(self.workers) as pool:
            worked = False
            while not plan.done and not self.stop():
                # Questions come in bursts (an editor asks several at once, a client asks the
                # next when it has the answer): after one that needed files, a moment for the
                # next before the background batch, which would only read a few files and give
                # way again. After one that needed nothing, none: a client that never stops
                # asking what is complete would starve the index.
                demand = self.demands.take(wait=_NEXT_QUESTION if worked else 0.0)
                if self.between(demand is not None):
                    # an open document changed: what its closure was may not be any more
                    self._complete_paths.clear()
                    self._complete_names.clear()
                    self._neighbourhoods.clear()
                worked = False
                if demand is not None:
                    began, written = time.perf_counter(), self.written
                    self._answer(demand, plan, pool)
                    self._owed += time.perf_counter() - began
                    worked = self.written > written
                elif opened := self._opened():
                    self._needed(opened, set(), plan, pool)  # open documents' neighbourhood
                else:
                    self._index(plan.take(batch), plan, pool, background=True)
        if plan.done:
            self.updater.finish_sync(discovery, self.report)
        else:  # stopped: the next start's sync indexes the rest
            self.report.files = len(self.updater.states)
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _answer(self, demand: Demand, plan: IndexPlan, pool: JobPool) -> None:
        """Index what the demand needs: its files; then, for a question about a symbol's uses,
        every file that can spell one of the symbol's names, asked of the graph again after
        each step (an alias found is spelled differently) until no new name appears."""
        self._needed(demand.paths, set(), plan, pool)
        asked: set[str] = set()
        while demand.uses_of is not None:
            query = GraphQuery(self.updater.conn)
            try:
                symbol = demand.uses_of(query)
                names = query.spellings(symbol) if symbol is not None else set()
            except Exception:
                # the question's own fault: it gets what is indexed, and the index goes on
                log.exception("finding the symbol a question asks about failed")
                break
            if names <= asked:
                break
            asked |= names
            self._needed(demand.paths, asked, plan, pool)
        self.demands.answered_one(demand)

    def _needed(self, paths: list[str], names: set[str], plan: IndexPlan, pool: JobPool) -> None:
        """Index the files at `paths` and those spelling `names`, to the fixed point of what
        resolving them consults: all of their references for the files at `paths`, only those
        spelled with `names` for the others (a common name is in a tenth of the files, and what
        their other references read is not the question's)."""
        if self._complete_paths.issuperset(paths) and self._complete_names >= names:
            return
        updater = self.updater
        writer, states = updater.writer, updater.states
        self._index(
            plan.wanted([*paths, *plan.mentioning(names - self._complete_names)]), plan, pool
        )
        whole = {states[p].id for p in paths if p in states}
        spelling = writer.files_spelling(names) - whole

        def consulted() -> set[str]:
            program = updater.load_program()
            return writer.consulted_modules(whole) | consulted_for(writer, program, spelling, names)

        while more := plan.wanted(plan.claiming(consulted())):
            self._index(more, plan, pool)
        self._complete_paths.update(paths)
        self._complete_names |= names

    def _read(self, at_least: int) -> bool:
        """Whether a background batch has read enough to give way to a waiting question: some
        files, for some time, and a share of the time the questions took since the last
        background batch (so that the index goes on however many questions come)."""
        self._reads += 1
        if self._reads < at_least or not self.demands.waiting():
            return False
        slice_ = max(_LEAST_SLICE, _SHARE * self._owed)
        return time.perf_counter() - self._batch_began >= slice_

    def _index(
        self, files: list[SourceFile], plan: IndexPlan, pool: JobPool, background: bool = False
    ) -> None:
        """One batch, one transaction; the first one, on the empty graph, is a cold index."""
        kept = self.kept()
        jobs = [Job(f.path, f.size) for f in files if f.path not in kept]
        if not jobs:
            return
        offset = self.written

        def progress(done: int, total: int) -> None:
            self.progress(offset + done, self.total)

        # A background batch gives way to a question: it commits what it has read so far.
        self._batch_began = time.perf_counter()
        batch = self.updater.apply(
            jobs=jobs,
            bulk=True,
            pool=pool,
            progress=progress,
            enough=(lambda: self._read(_GIVE_WAY_AFTER)) if background else None,
        )
        plan.requeue(batch.unread)
        self._reads = 0
        if background:
            self._owed = 0.0
        self.written += len(jobs) - len(batch.unread)
        self.report.parsed += batch.parsed
        self.report.reresolved_files += batch.reresolved_files
        self.report.warnings.extend(batch.warnings)
        if wal_bytes(self.updater.settings.db_path) > _WAL_LIMIT:  # no idle moment until the end
            checkpoint(self.updater.conn, passive=True)
        self.committed()
