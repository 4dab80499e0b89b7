"""What the in-memory Program holds of a file: from its facts as it is stored, or from the graph
when an updater starts on a graph it did not build."""

from __future__ import annotations

from collections.abc import Callable

from forge_lsp.graph.writer import FileState, GraphWriter
from forge_lsp.parsing.facts import CLASS, INHERIT, NO_TARGET, FileFacts
from forge_lsp.resolve.program import Program

_LOAD_CHUNK = 2048  # files whose symbols are loaded into the program at once


def build_program(
    writer: GraphWriter,
    states: dict[str, FileState],
    modules: dict[str, list[str]],
    stop: Callable[[], bool] | None = None,
) -> Program | None:
    """The resolution model of every stored file; None when `stop` says so, checked between
    chunks: loading a 100,000-file program takes seconds, and a server asked to exit must not
    wait."""
    program = Program()
    for fid, path, exports in writer.file_exports():
        program.add_file(fid, modules.get(path, []), path, exports)
    # A few thousand files at a time: the rows of a large workspace, fetched at once, would
    # briefly need more memory than the program they build.
    last = max((state.id for state in states.values()), default=0)
    for first in range(0, last + 1, _LOAD_CHUNK):
        if stop is not None and stop():
            return None
        program.add_symbols(writer.program_rows(first, first + _LOAD_CHUNK - 1))
    for _id, fid, module, name, alias, level, module_level in writer.module_imports():
        if module_level:
            program.add_import(fid, module, name, alias, level)
    for class_id, fid, name, receiver, target in writer.stored_bases():
        program.add_base(class_id, fid, name, receiver, target)
    return program


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
