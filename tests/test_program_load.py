"""The resolution model loaded from the graph in steps (issue 15): a load paused and resumed
any number of times builds the same Program as one load, and an update that arrives
mid-load finishes it first, so the graph it writes equals a cold index."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from helpers import graph_differences, index_tree

from forge_lsp.config import load_settings
from forge_lsp.indexing.indexer import index_workspace
from forge_lsp.indexing.program_load import _LOAD_CHUNK
from forge_lsp.indexing.updater import GraphUpdater
from forge_lsp.indexing.worker import Result, content_hash
from forge_lsp.parsing.base import extract_facts
from forge_lsp.resolve.program import Program

# More files than one load step takes, with what the program holds of each: top-level names,
# class members and bases across files, imports, __all__, a type.
_PACKAGES = (_LOAD_CHUNK + 100) // 20


def _workspace() -> dict[str, str | bytes]:
    files: dict[str, str | bytes] = {}
    for p in range(_PACKAGES):
        files[f"pkg{p}/__init__.py"] = f"from .m0 import Base{p}\n__all__ = ['Base{p}']\n"
        for m in range(19):
            base = f"from pkg{p - 1} import Base{p - 1}\n" if p and m == 0 else ""
            parent = f"Base{p - 1}" if p and m == 0 else "object"
            files[f"pkg{p}/m{m}.py"] = (
                f"{base}from . import m{max(m - 1, 0)}\n\n\n"
                f"class Base{p}({parent}):\n    size: int = {m}\n\n"
                f"    def run(self) -> 'Base{p}':\n        return self\n\n\n"
                f"def make_{m}() -> Base{p}:\n    return Base{p}()\n"
            )
    return files


def _contents(program: Program) -> dict[str, Any]:
    files = {
        fid: (f.path, f.names, f.is_package, f.exports, f.imports, f.module_symbol)
        for fid, f in program.files.items()
    }
    symbols = {fid: sorted(f.symbols) for fid, f in program.files.items()}
    # bindings and types in resolution order: the order a lookup meets them
    bindings = {
        fid: list(zip(f.bound, f.symbols[: len(f.bound)], strict=True))
        for fid, f in program.files.items()
    }
    types = {fid: list(zip(f.typed_ids, f.types, strict=True)) for fid, f in program.files.items()}
    return {
        "files": files,
        "symbols": symbols,
        "bindings": bindings,
        "bases": program.bases,
        "types": types,
        "modules": dict(program.modules),
    }


def test_a_load_paused_at_every_step_builds_the_same_program(tmp_path: Path) -> None:
    ws = index_tree(tmp_path, _workspace())
    settings = load_settings(ws.root, db=ws.db)
    whole = GraphUpdater.open(settings)
    stepped = GraphUpdater.open(settings)
    try:
        asked = [0]

        def every_other_step() -> bool:
            asked[0] += 1
            return asked[0] % 2 == 1

        pauses = 0
        while stepped.preload_program(stop=every_other_step) is None:
            pauses += 1
            assert pauses < 100, "a resumed load must go on where it stopped"
        assert pauses >= 2  # more than one step of files: it really paused in the middle
        assert _contents(stepped.load_program()) == _contents(whole.load_program())
    finally:
        whole.close()
        stepped.close()


def test_an_update_in_the_middle_of_a_load_finishes_it_first(tmp_path: Path) -> None:
    ws = index_tree(tmp_path, _workspace())
    settings = load_settings(ws.root, db=ws.db)
    updater = GraphUpdater.open(settings)
    try:
        calls = [0]

        def after_one_step() -> bool:
            calls[0] += 1
            return calls[0] > 1

        assert updater.preload_program(stop=after_one_step) is None
        # The base class every package's m0 builds on is renamed: an interface change whose
        # dependents must be re-resolved against the whole program, not the part loaded.
        path = ws.root / "pkg0/m0.py"
        source = path.read_text().replace("Base0", "Root0")
        path.write_text(source)
        (ws.root / "pkg0/__init__.py").write_text("from .m0 import Root0\n__all__ = ['Root0']\n")
        for rel in ("pkg0/m0.py", "pkg0/__init__.py"):
            data = (ws.root / rel).read_bytes()
            absolute = (ws.root / rel).as_posix()
            facts = extract_facts(absolute, data)
            result = Result(absolute, len(data), 0, content_hash(data), facts, None)
            report = updater.apply(parsed=[result])
        assert updater.program is not None and report.reresolved_files > 0
    finally:
        updater.close()
    cold = tmp_path / "cold.db"
    index_workspace(load_settings(ws.root, db=cold), jobs=1)
    assert graph_differences(ws.db, cold) == []


def test_a_sync_that_finds_every_file_unchanged_loads_no_program(tmp_path: Path) -> None:
    # A checkout that rewrites a file with the same bytes moves only its mtime: a restart
    # must not load 100,000 files' program to learn that nothing changed.
    ws = index_tree(tmp_path, {"a.py": "def f():\n    return 1\n", "b.py": "from a import f\n"})
    ws.query.close()
    path = ws.root / "a.py"
    moved = path.stat().st_mtime_ns + 5 * 10**9
    os.utime(path, ns=(moved, moved))
    updater = GraphUpdater.open(load_settings(ws.root, db=ws.db))
    try:
        report, _ = updater.index(workers=1)
        assert report.parsed == 0 and report.unchanged >= 1 and updater.program is None
        assert updater.states[path.as_posix()].mtime_ns == moved
        path.write_text("def g():\n    return 1\n")  # a real change still resolves across files
        report, _ = updater.index(workers=1)
        assert report.parsed == 1 and updater.program is not None
        assert report.reresolved_files == 1  # b.py, which imported the f that went
    finally:
        updater.close()
    cold = tmp_path / "cold.db"
    index_workspace(load_settings(ws.root, db=cold), jobs=1)
    assert graph_differences(ws.db, cold) == []
