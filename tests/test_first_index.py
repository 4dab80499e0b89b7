"""A first index in batches, questions first: an answer given before the index ends equals the
answer after it, position by position, and the end equals a cold index (live/first_index.py,
indexing/staged.py)."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
from helpers import graph_differences

from forge_lsp.config import load_settings
from forge_lsp.graph.model import Symbol
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.indexing.discovery import discover
from forge_lsp.indexing.indexer import index_workspace
from forge_lsp.indexing.staged import IndexPlan
from forge_lsp.indexing.updater import GraphUpdater
from forge_lsp.indexing.worker import Job
from forge_lsp.live.interface import LiveOptions
from forge_lsp.live.service import LiveGraph

# Every way a use can be spelled, or found, other than by its own name in a file that imports
# the definition directly: aliases and re-exports (an alias of an alias), star imports, a stub
# beside its module, a `src/` layout, submodules reached as attributes, constructors of
# subclasses, fixtures from conftest files up the tree, relative imports, and types through
# annotations of another module.
WORKSPACE = {
    "app/__init__.py": "from .models import Model as BaseModel\nfrom . import util\n",
    "app/models.py": """
        class Model:
            def __init__(self, name):
                self.name = name

            def save(self):
                return self.name


        class Manager:
            def get(self) -> "Model":
                return Model("x")
    """,
    "app/util.py": """
        def helper(x):
            return x

        __all__ = ["helper"]
    """,
    "app/sub/__init__.py": "",
    "app/sub/deep.py": """
        from ..models import Manager
        from app import BaseModel as Renamed


        class Child(Renamed):
            pass


        def run(manager: Manager):
            manager.get().save()
            return Child("c")
    """,
    "app/star.py": "from app.util import *\n\nvalue = helper(1)\n",
    "app/typed.py": "def typed(x):\n    return x\n",
    "app/typed.pyi": "def typed(x: int) -> int: ...\n",
    "src/lib/__init__.py": "",
    "src/lib/core.py": "import app.sub.deep\n\n\ndef go():\n    return app.sub.deep.run(None)\n",
    "uses/__init__.py": "",
    "uses/far.py": """
        from app import BaseModel, util
        from app.typed import typed


        def far():
            util.helper(typed(2))
            return BaseModel("m").save()
    """,
    "tests/conftest.py": """
        import pytest
from helpers import graph_differences


        @pytest.fixture
        def model():
            from app.models import Model
            return Model("t")
    """,
    "tests/unit/test_model.py": "def test_save(model):\n    assert model.save()\n",
}
FILLER = 40  # files nobody's answer needs: the background has work, the questions go first


def _workspace(root: Path) -> None:
    for rel, text in WORKSPACE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    for i in range(FILLER):
        path = root / "filler" / f"f{i:02}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"def filler_{i}():\n    return {i}\n", encoding="utf-8")


def _answer(query: GraphQuery, symbol: Symbol) -> list[tuple[str, int, int, str]]:
    refs = query.references(symbol, include_probable=True)
    return sorted((r.location.path, r.location.line, r.location.col, r.confidence) for r in refs)


@pytest.fixture()
def workspace(tmp_path: Path) -> Path:
    root = (tmp_path / "ws").resolve()
    _workspace(root)
    return root


class Recorder:
    """Asks a question in the graph exactly as it stands when the first index answers the
    demand: the last call of a demand's `uses_of` is made after what it needs is indexed."""

    def __init__(self) -> None:
        self.answers: dict[object, object] = {}
        self.files: dict[object, int] = {}

    def uses_of(self, key: object, path: str, line: int, col: int, answer: object) -> object:
        def find(query: GraphQuery) -> Symbol | None:
            self.answers[key] = answer(query)  # type: ignore[operator]
            self.files[key] = query.conn.execute("SELECT count(*) FROM files").fetchone()[0]
            symbol = query.symbol_at(path, line, col)
            return symbol if symbol is not None and key[0] == "uses" else None  # type: ignore[index]

        return find


def _staged(workspace: Path, db: Path, ask: list[tuple[str, object]]) -> None:
    """A first index with every question queued before it starts (so each is answered in a
    graph that holds only what the questions before it needed), run to its end."""
    live = LiveGraph(
        load_settings(workspace, db=db), options=LiveOptions(watch=False, first_index_batch=2)
    )
    futures = [live.demand([path], uses_of) for path, uses_of in ask]  # type: ignore[arg-type]
    live.start()
    try:
        for future in futures:
            future.result(timeout=60)
        deadline = time.monotonic() + 60
        while live.indexing_first and time.monotonic() < deadline:
            time.sleep(0.01)  # to the end: closing stops a first index between batches
        assert live.state == "ready"
        assert live.report is not None and live.report.files == len(WORKSPACE) + FILLER
        assert live.report.references > 0
    finally:
        assert live.close(60)
    assert live.demands.answered == len(ask)


def _cold(workspace: Path, tmp_path: Path) -> tuple[GraphQuery, Path]:
    cold_db = tmp_path / "cold.db"
    index_workspace(load_settings(workspace, db=cold_db), jobs=1)
    return GraphQuery.open(cold_db), cold_db


def test_every_answer_before_the_index_ends_equals_the_one_after(
    workspace: Path, tmp_path: Path
) -> None:
    cold, cold_db = _cold(workspace, tmp_path)
    paths = [p for (p,) in cold.conn.execute("SELECT path FROM files ORDER BY path")]
    symbols = [
        s
        for path in paths
        if "/filler/" not in path
        for s in cold.file_symbols(path)
        if s.kind != "module"
    ]
    assert len(symbols) > 15
    recorder = Recorder()
    ask = []
    for s in symbols:
        line, col = s.selection.line, s.selection.col

        def answer(query: GraphQuery, s: Symbol = s) -> object:
            found = query.symbol_at(s.path, s.selection.line, s.selection.col)
            return (found.qualname, _answer(query, found)) if found is not None else None

        key = ("uses", s.path, s.qualname)
        ask.append((s.path, recorder.uses_of(key, s.path, line, col, answer)))
    live_db = tmp_path / "live.db"
    _staged(workspace, live_db, ask)
    for s in symbols:
        key = ("uses", s.path, s.qualname)
        assert recorder.answers[key] == (s.qualname, _answer(cold, s)), key
    # answered in part of the graph, not after the whole index
    total = len(WORKSPACE) + FILLER
    assert sum(1 for n in recorder.files.values() if n < total) == len(symbols)
    assert min(recorder.files.values()) < total // 4
    assert graph_differences(live_db, cold_db) == []
    cold.close()


def test_a_definition_before_the_index_ends_is_the_one_after(
    workspace: Path, tmp_path: Path
) -> None:
    cold, _cold_db = _cold(workspace, tmp_path)
    rows = cold.conn.execute(
        "SELECT f.path, r.line, r.col FROM refs r JOIN files f ON f.id = r.file_id"
        " WHERE f.path NOT LIKE '%/filler/%' ORDER BY f.path, r.line, r.col"
    ).fetchall()
    expected = {("def", *row): [d.qualname for d in cold.definition(*row)] for row in rows}
    assert sum(1 for found in expected.values() if found) > 20
    recorder = Recorder()
    ask = []
    for path, line, col in rows:

        def answer(query: GraphQuery, at: tuple[str, int, int] = (path, line, col)) -> object:
            return [d.qualname for d in query.definition(*at)]

        ask.append((path, recorder.uses_of(("def", path, line, col), path, line, col, answer)))
    _staged(workspace, tmp_path / "live.db", ask)
    assert recorder.answers == expected
    assert sum(1 for n in recorder.files.values() if n < len(WORKSPACE) + FILLER) == len(rows)
    cold.close()


def test_the_plan_brings_packages_along_and_names_every_claimant(workspace: Path) -> None:
    settings = load_settings(workspace)
    prefix = workspace.as_posix() + "/"
    plan = IndexPlan(discover(settings), prefix)
    taken = [f.path[len(prefix) :] for f in plan.wanted([prefix + "app/sub/deep.py"])]
    assert taken == ["app/sub/deep.py", "app/sub/__init__.py", "app/__init__.py"]
    assert sorted(p[len(prefix) :] for p in plan.claiming(["app.typed"])) == [
        "app/typed.py",
        "app/typed.pyi",
    ]
    assert [p[len(prefix) :] for p in plan.claiming(["lib.core"])] == ["src/lib/core.py"]
    # a word, not a part of one; comments and strings count
    assert sorted(p[len(prefix) :] for p in plan.mentioning(["helper"])) == [
        "app/star.py",
        "app/util.py",
        "uses/far.py",
    ]
    assert plan.mentioning(["elpe"]) == []
    plan.requeue([prefix + "app/sub/deep.py"])
    assert next(iter(plan.pending)) == prefix + "app/sub/deep.py"


def test_an_open_document_and_what_it_reads_come_first(workspace: Path, tmp_path: Path) -> None:
    live_db = tmp_path / "live.db"
    live = LiveGraph(
        load_settings(workspace, db=live_db), options=LiveOptions(watch=False, first_index_batch=2)
    )
    opened = workspace / "app/sub/deep.py"
    edited = opened.read_bytes() + b"\n\ndef added_in_the_editor():\n    return run(None)\n"
    assert live.open_document(opened.as_posix(), edited) is not None
    live.start()
    try:
        deadline = time.monotonic() + 60
        while live.indexing_first and time.monotonic() < deadline:
            time.sleep(0.01)
        assert live.state == "ready"
    finally:
        assert live.close(60)
    query = GraphQuery.open(live_db)
    try:
        order = [p for (p,) in query.conn.execute("SELECT path FROM files ORDER BY id")]
        # the buffer first, then the files its resolution consults; the rest after
        assert order[0] == opened.as_posix()
        assert set(order[1:4]) == {
            (workspace / rel).as_posix()
            for rel in ("app/__init__.py", "app/models.py", "app/sub/__init__.py")
        }
        assert len(order) == len(WORKSPACE) + FILLER
        assert [s.name for s in query.file_symbols(opened.as_posix())][-1] == "added_in_the_editor"
    finally:
        query.close()


def test_a_batch_that_gives_way_commits_what_it_read_and_the_rest_follows(
    workspace: Path, tmp_path: Path
) -> None:
    """The update a question interrupts (`enough`) keeps what it read; the files it did not
    read, packages among them, come in a later update, and the end equals a cold index."""
    _cold_query, cold_db = _cold(workspace, tmp_path)
    _cold_query.close()
    settings = load_settings(workspace, db=tmp_path / "live.db")
    files = sorted(discover(settings).files, key=lambda f: f.path)
    updater = GraphUpdater.open(settings)
    try:
        jobs = [Job(f.path, f.size, None) for f in files]
        read = [0]

        def enough() -> bool:
            read[0] += 1
            return read[0] >= 5

        first = updater.apply(jobs=jobs, bulk=True, enough=enough)
        assert len(first.unread) == len(jobs) - 5
        assert len(updater.states) == 5
        rest = updater.apply(jobs=[j for j in jobs if j.path in set(first.unread)], bulk=True)
        assert rest.unread == [] and len(updater.states) == len(jobs)
    finally:
        updater.close()
    assert graph_differences(tmp_path / "live.db", cold_db) == []
