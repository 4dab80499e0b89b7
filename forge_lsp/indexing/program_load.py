"""What the in-memory Program holds of a file: from its facts as it is stored, or from the graph
when an updater starts on a graph it did not build."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from forge_lsp.graph.program_rows import file_exports, module_imports, stored_bases, symbol_rows
from forge_lsp.graph.writer import FileState, GraphWriter
from forge_lsp.parsing.facts import CLASS, INHERIT, NO_TARGET, FileFacts
from forge_lsp.resolve.program import Program

_LOAD_CHUNK = 512  # files loaded into the program at once


class ProgramLoader:
    """The resolution model of every stored file, built a chunk of files at a time.

    A server builds it after its index, on the thread that applies changes; loading 100,000
    files takes seconds, and a change that needs no program (a document opened as it is on
    disk) must not wait behind it. So the load is resumable: `advance` stops between chunks
    when asked and goes on from there the next time. Invariant: the graph is not written while
    a load is under way (every writer finishes the load first, through `GraphUpdater.load_program`).
    """

    def __init__(
        self,
        writer: GraphWriter,
        states: dict[str, FileState],
        modules: Callable[[str], list[str]],
    ) -> None:
        """`modules` gives a file's dotted module names (GraphUpdater.names_of)."""
        self.program = Program(writer.names)  # its strings are the graph's names
        self._steps = self._load(writer, states, modules)
        self.done = False

    def advance(self, stop: Callable[[], bool] | None = None) -> bool:
        """Load until done (True) or until `stop` says so between chunks (False)."""
        while not self.done:
            if stop is not None and stop():
                return False
            self.done = next(self._steps, True) is True
        return True

    def _load(
        self,
        writer: GraphWriter,
        states: dict[str, FileState],
        modules: Callable[[str], list[str]],
    ) -> Iterator[None]:
        """One chunk of files per step: each step is short (a change waits for at most one),
        and the rows fetched at once stay a small part of the program they build."""
        program = self.program
        last = max((state.id for state in states.values()), default=0)
        for first in range(0, last + 1, _LOAD_CHUNK):
            end = first + _LOAD_CHUNK - 1
            writer.flush_names()  # the rows carry their names' texts
            conn = writer.conn
            for fid, path, exports in file_exports(conn, first, end):
                program.add_file(fid, modules(path), path, exports)
            program.add_symbols(symbol_rows(conn, first, end))
            for fid, module, name, alias, level in module_imports(conn, first, end):
                program.add_import(fid, module, name, alias, level)
            for class_id, fid, name, receiver, target in stored_bases(conn, first, end):
                program.add_base(class_id, fid, name, receiver, target)
            yield


def add_to_program(
    program: Program, fid: int, path: str, modules: list[str], facts: FileFacts, ids: list[int]
) -> None:
    """A parsed file's namespaces, imports and bases; `ids` are its symbols' graph ids."""
    program.add_file(fid, modules, path, facts.exports)
    program.add_symbols(
        (
            ids[i],
            fid,
            s.name,
            s.kind,
            ids[s.parent] if s.parent >= 0 else None,
            s.sel_line,
            s.sel_col,
            s.type,
        )
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


@contextmanager
def collector_paused() -> Iterator[None]:
    """No cyclic garbage collection during a full sync. The program it builds is millions of
    long-lived objects that every full collection walks again (13% of the main process's CPU
    in a cold index of Django), and a sync makes no cycles of its own that must go before it
    ends: an extraction frees its state by reference counting (python.py, `release`). Workers
    collect as usual."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
