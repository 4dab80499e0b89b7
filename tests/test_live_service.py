"""The live graph of a folder as the server runs it, driven directly: disk events for files and
directories, what discovery would skip, open documents winning over the disk, metrics."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from forge_lsp.config import load_settings
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.indexing.freshness import SERVING_SUFFIX, serving_pid
from forge_lsp.indexing.report import IndexReport
from forge_lsp.live.metrics import LiveMetrics
from forge_lsp.live.scheduler import UpdateScheduler
from forge_lsp.live.service import LiveGraph, LiveOptions
from forge_lsp.parsing.incremental import SourceText


def _wait(condition: Callable[[], bool], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(what)
        time.sleep(0.01)


class Folder:
    def __init__(self, root: Path, **options: object) -> None:
        self.root = root.resolve()
        self.settings = load_settings(self.root, db=root.parent / f"{root.name}.db")
        self.live = LiveGraph(self.settings, options=LiveOptions(watch=False, **options))  # type: ignore[arg-type]
        self.live.start()
        _wait(lambda: self.live.state == "ready", "the first index")
        self.query = GraphQuery.open(self.settings.db_path)

    def path(self, rel: str) -> str:
        return (self.root / rel).as_posix()

    def changed(self, *rels: str) -> None:
        """Report paths as the watcher would, and wait until the batch is applied."""
        before = self.live.metrics.updates
        self.live.files_changed([self.path(r) for r in rels])
        _wait(lambda: self.live.metrics.updates > before, f"an update for {rels}")

    def files(self) -> list[str]:
        prefix = self.root.as_posix() + "/"
        rows = self.query.conn.execute("SELECT path FROM files ORDER BY path").fetchall()
        return [path.removeprefix(prefix) for (path,) in rows]

    def close(self) -> None:
        self.query.close()
        self.live.close(10)


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Folder]:
    root = _tree(
        tmp_path / "ws",
        {
            "app/__init__.py": "",
            "app/core.py": "def helper():\n    return 1\n",
            "app/sub/__init__.py": "",
            "app/sub/deep.py": "from app.core import helper\n\nhelper()\n",
            "main.py": "from app.sub.deep import helper\n",
        },
    )
    live = Folder(root)
    yield live
    live.close()


def test_a_directory_moved_away_and_back(folder: Folder) -> None:
    shutil.move(folder.root / "app" / "sub", folder.root.parent / "parked")
    folder.changed("app/sub")  # one event for the directory, as inotify reports a move
    assert folder.files() == ["app/__init__.py", "app/core.py", "main.py"]
    shutil.move(folder.root.parent / "parked", folder.root / "app" / "sub")
    folder.changed("app/sub")
    assert folder.files() == [
        "app/__init__.py",
        "app/core.py",
        "app/sub/__init__.py",
        "app/sub/deep.py",
        "main.py",
    ]
    assert folder.live.metrics.last is not None
    assert folder.live.metrics.last["files"] == 2


def test_files_discovery_would_skip_leave_the_graph(folder: Folder) -> None:
    (folder.root / "app" / "core.py").write_text("x = 1\n" * 500_000)  # over the 2 MiB limit
    folder.changed("app/core.py")
    assert "app/core.py" not in folder.files()
    (folder.root / "main.py").write_bytes(b"\x00\x01binary")
    folder.changed("main.py")
    assert "main.py" not in folder.files()
    (folder.root / "notes.txt").write_text("not python")
    (folder.root / "node_modules").mkdir()
    (folder.root / "node_modules" / "x.py").write_text("y = 1\n")
    before = folder.live.metrics.updates
    folder.live.files_changed([folder.path("notes.txt"), folder.path("node_modules/x.py")])
    time.sleep(0.2)
    assert folder.live.metrics.updates == before  # filtered out: no work, no transaction
    assert folder.files() == ["app/__init__.py", "app/sub/__init__.py", "app/sub/deep.py"]


def test_open_documents_win_over_the_disk_until_closed(folder: Folder) -> None:
    path = folder.path("app/core.py")
    text = SourceText(b"def helper():\n    return 1\n\n\ndef extra():\n    pass\n")
    seq = folder.live.open_document(path, text.data)
    assert seq is not None and folder.live.wait_fresh(seq, 5)
    names = {s.name for s in folder.query.file_symbols(path)}
    assert "extra" in names
    (folder.root / "app" / "core.py").write_text("def other():\n    pass\n")
    folder.live.files_changed([path])  # ignored: the buffer is the truth
    time.sleep(0.2)
    assert "extra" in {s.name for s in folder.query.file_symbols(path)}
    seq = folder.live.close_document(path)
    assert seq is not None and folder.live.wait_fresh(seq, 5)
    assert {s.name for s in folder.query.file_symbols(path)} == {"", "other"}


def test_a_rebuild_keeps_open_documents_as_their_buffers(folder: Folder) -> None:
    new = folder.path("app/new.py")  # open in the editor, never saved
    core = folder.path("app/core.py")  # open with unsaved edits
    for path, data in ((new, b"def unsaved():\n    pass\n"), (core, b"def edited():\n    pass\n")):
        seq = folder.live.open_document(path, data)
        assert seq is not None and folder.live.wait_fresh(seq, 5)
    folder.live.rebuild().result(timeout=30)
    folder.query.close()
    folder.query = GraphQuery.open(folder.settings.db_path)  # the rebuild made a new file
    assert "app/new.py" in folder.files()
    assert {s.name for s in folder.query.file_symbols(new)} == {"", "unsaved"}
    assert {s.name for s in folder.query.file_symbols(core)} == {"", "edited"}


def test_new_files_that_git_ignores_stay_out(tmp_path: Path) -> None:
    root = _tree(tmp_path / "repo", {"kept.py": "x = 1\n", ".gitignore": "generated/\n"})
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    live = Folder(root)
    try:
        _tree(root, {"generated/out.py": "y = 2\n", "fresh.py": "z = 3\n"})
        live.changed("generated/out.py", "fresh.py")
        assert live.files() == ["fresh.py", "kept.py"]
        # a buffer opened for an ignored file is not indexed either
        seq = live.live.open_document(live.path("generated/out.py"), b"y = 2\n")
        assert seq is not None and live.live.wait_fresh(seq, 5)
        assert live.files() == ["fresh.py", "kept.py"]
    finally:
        live.close()


def test_a_path_changed_while_its_batch_is_applied_is_taken_again() -> None:
    s = UpdateScheduler()
    s.disk(["/a.py"])
    first = s.take(timeout=0)
    assert first is not None and first.paths == ["/a.py"]
    s.disk(["/a.py"])  # changed again while the first batch is in hand
    s.done(first)
    again = s.take(timeout=0)
    assert again is not None and again.paths == ["/a.py"]


def test_metrics_log_one_json_line_per_update(caplog: pytest.LogCaptureFixture) -> None:
    metrics = LiveMetrics(log_json=True)
    report = IndexReport(parsed=2, reresolved_files=3, interface_changed=1)
    with caplog.at_level(logging.INFO, logger="forge_lsp.metrics"):
        metrics.record(
            report, kind="edit", latencies=[1.5, 2.5], parse_ms={}, invalidated=4, seconds=0.01
        )
    [record] = caplog.records
    line = json.loads(record.getMessage())
    assert line["event"] == "update" and line["reresolvedFiles"] == 3
    assert line["latencyMs"] == [1.5, 2.5] and line["invalidatedAnswers"] == 4
    summary = metrics.summary()
    assert summary["updates"] == 1 and summary["interfaceChanges"] == 1
    assert summary["updateLatencyMs"]["p95"] == 2.5


def _answers(live: LiveGraph, query: GraphQuery, root: Path, cached: bool) -> list[object]:
    """Every question about every symbol of the workspace, cached or asked of the graph."""
    from forge_lsp.graph.impact import impact

    out: list[object] = []
    paths = [p for (p,) in query.conn.execute("SELECT path FROM files ORDER BY path")]
    for path in paths:
        out.append(
            live.queries.document_symbols(query, path) if cached else query.document_symbols(path)
        )
        out.append(
            live.queries.impact(
                query, symbol=None, path=path, depth=2, max_nodes=100, probable=False
            )
            if cached
            else impact(query, path=path, depth=2, max_nodes=100)
        )
        for sym in query.file_symbols(path):
            if cached:
                q = live.queries
                out.append(q.references(query, sym, include_declaration=True, probable=True))
                out.append(q.calls(query, sym, incoming=True, probable=False))
                out.append(q.calls(query, sym, incoming=False, probable=True))
                out.append(q.calls(query, sym, incoming=False, probable=False))
                out.append(
                    q.impact(query, symbol=sym, path=None, depth=3, max_nodes=100, probable=False)
                )
            else:
                out.append(query.references(sym, include_declaration=True, include_probable=True))
                out.append(query.incoming_calls(sym))
                out.append(query.outgoing_calls(sym, include_probable=True))
                out.append(query.outgoing_calls(sym))
                out.append(impact(query, symbol=sym, depth=3, max_nodes=100))
    out.append(
        live.queries.workspace_symbols(query, "e", 50)
        if cached
        else query.workspace_symbols("e", limit=50)
    )
    return out


def test_cached_answers_always_equal_the_graphs(tmp_path: Path) -> None:
    """Precise invalidation, checked: after each kind of edit, every cached answer equals the
    answer the graph gives now. Each edit moves one kind of dependency without moving rows
    around it (rows moving would invalidate enough to hide a missing key)."""
    lib_text = (
        "class Base:\n"
        "    other = 1\n"
        "\n"
        "    def run(self):\n"
        "        value = helper()\n"
        "        return value\n"
        "\n"
        "\n"
        "def helper():\n"
        "    return 1\n"
    )
    root = _tree(
        tmp_path / "ws",
        {
            "lib.py": lib_text,
            "app.py": "from lib import *\nfrom lib import Base\n\n\nclass App(Base):\n"
            "    def go(self, o):\n        self.run()\n        o.run()\n        fresh()\n"
            "        return helper()\n",
            "use.py": "from app import App\n\nApp().go(None)\n",
        },
    )
    folder = Folder(root)
    lib = folder.path("lib.py")
    text = SourceText(lib_text.encode())

    def edit(start: tuple[int, int], end: tuple[int, int], new: bytes) -> int | None:
        change = text.edit(start, end, new)  # before reading text.data: it changes the text
        return folder.live.change_document(lib, text.data, [change])

    steps: list[Callable[[], int | None]] = [
        lambda: folder.live.open_document(lib, text.data),
        # references inside run() move; run's row does not (its last line is untouched)
        lambda: edit((4, 16), (4, 16), b"0 or "),
        # a field appears on an existing line: Base gains a child, no row moves
        lambda: edit((1, 13), (1, 13), b"; more = 2"),
        # `fresh` appears: app.py's unresolved call now has a target (a retarget elsewhere)
        lambda: edit((9, 12), (9, 12), b"\n\n\ndef fresh():\n    return 2"),
        # a new line in a body shifts every row below it
        lambda: edit((4, 0), (4, 0), b"        x = 1\n"),
        # a rename: references move from one symbol to another
        lambda: edit((0, 6), (0, 10), b"Root"),
        lambda: folder.live.close_document(lib),
    ]
    try:
        for step in steps:
            _answers(folder.live, folder.query, root, cached=True)  # fill the cache
            updates = folder.live.metrics.updates
            seq = step()
            assert seq is not None and folder.live.wait_fresh(seq, 5)
            assert folder.live.metrics.updates == updates + (step is not steps[0])
            cached = _answers(folder.live, folder.query, root, cached=True)
            assert cached == _answers(folder.live, folder.query, root, cached=False)
        stats = folder.live.cache.stats()
        assert stats["hits"] > 0 and stats["invalidated"] > 0
    finally:
        folder.close()


def _failing(folder: Folder, times: int) -> list[int]:
    """Make the folder's next `times` updates fail (rolled back, as a real failure is)."""
    updater = folder.live._updater
    assert updater is not None
    real = updater.apply
    calls = [0]

    def apply(**kwargs: object) -> IndexReport:
        calls[0] += 1
        if calls[0] <= times:
            raise OSError("disk I/O error (injected)")
        return real(**kwargs)  # type: ignore[arg-type]

    updater.apply = apply  # type: ignore[method-assign]
    return calls


def test_a_failed_live_update_is_retried_until_it_lands(folder: Folder) -> None:
    calls = _failing(folder, 2)
    (folder.root / "app/core.py").write_text(
        "def helper():\n    return 1\n\ndef added():\n    return 2\n"
    )
    folder.live.files_changed([folder.path("app/core.py")])
    # not fresh while the update is unsettled (it is, from its first failure to its landing)
    _wait(lambda: not folder.live.wait_fresh(0, 0.01), "unsettled after the first failure")
    _wait(lambda: folder.query.workspace_symbols("added") != [], "the retried update", timeout=15)
    assert calls[0] == 3
    _wait(lambda: folder.live.wait_fresh(0, 0.01), "fresh again")
    assert folder.live.status()["stale"] == []


def test_an_update_that_always_fails_is_shown_stale(folder: Folder) -> None:
    calls = _failing(folder, 1000)
    (folder.root / "main.py").write_text("x = 1\n")
    folder.live.files_changed([folder.path("main.py")])
    _wait(lambda: folder.live.status()["stale"] == [folder.path("main.py")], "stale", timeout=15)
    assert calls[0] == 3  # the attempts, then no more
    assert not folder.live.wait_fresh(0, 0.01)


def test_a_graph_locked_at_start_is_waited_for_not_left_queued(tmp_path: Path) -> None:
    # Another process holding the database for a moment (one recovering the log of a server
    # that was killed mid-write) must not leave the folder "queued" for ever.
    import threading

    import apsw

    from forge_lsp.indexing.indexer import index_workspace

    root = (tmp_path / "ws").resolve()
    root.mkdir()
    (root / "a.py").write_text("def f():\n    return 1\n")
    settings = load_settings(root, db=tmp_path / "ws.db")
    index_workspace(settings, jobs=1)
    holder = apsw.Connection(str(settings.db_path))
    holder.execute("PRAGMA locking_mode=EXCLUSIVE").fetchall()
    holder.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.5, lambda: (holder.execute("COMMIT"), holder.close()))
    live = LiveGraph(settings, options=LiveOptions(watch=False))
    try:
        live.start()
        release.start()
        _wait(lambda: live.state in ("ready", "failed"), "the first index")
        assert (live.state, live.error) == ("ready", None)
    finally:
        release.join()
        live.close(10)


def test_a_running_folder_marks_its_graph_as_kept_until_it_closes(tmp_path: Path) -> None:
    """`<db>.serving` names the live process, so that the command line does not write the
    graph under it (indexing/freshness.py); it goes when the folder closes."""
    live = Folder(_tree(tmp_path / "ws", {"a.py": "x = 1\n"}))
    db = live.settings.db_path
    try:
        assert serving_pid(db) == os.getpid()
    finally:
        live.close()
    assert serving_pid(db) is None and not Path(f"{db}{SERVING_SUFFIX}").exists()
