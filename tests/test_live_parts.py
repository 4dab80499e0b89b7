"""The live pipeline's parts on their own: scheduler, byte edits, incremental parsing, query cache."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from live_support import LiveTree

from forge_lsp.graph.queries import GraphQuery
from forge_lsp.live.cache import CachedQueries, QueryCache
from forge_lsp.live.metrics import Distribution, percentile
from forge_lsp.live.scheduler import BUFFER, CLOSED, DISK, UpdateScheduler
from forge_lsp.parsing.incremental import DocumentTree, SourceText


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


# ----- scheduler -------------------------------------------------------------------------------


def test_notices_coalesce_per_path_and_edits_concatenate() -> None:
    text = SourceText(b"abc\n")
    first = text.edit((0, 1), (0, 1), b"X")
    second = text.edit((0, 2), (0, 2), b"Y")
    s = UpdateScheduler()
    s.buffer("/a.py", b"aXbc\n", [first])
    s.buffer("/a.py", text.data, [second])
    s.disk(["/b.py", "/b.py", "/a.py"])  # a disk notice never replaces an editor one
    batch = s.take(timeout=0)
    assert batch is not None and [n.kind for n in batch.notices] == [BUFFER]
    [notice] = batch.notices
    assert notice.data == b"aXYbc\n" and notice.edits == [first, second]
    assert notice.first_seq == 1 and notice.seq == 2
    s.done(batch)
    batch = s.take(timeout=0)
    assert batch is not None and [(n.path, n.kind) for n in batch.notices] == [("/b.py", DISK)]


def test_a_full_text_or_a_close_drops_the_edit_chain() -> None:
    s = UpdateScheduler()
    text = SourceText(b"x = 1\n")
    edit = text.edit((0, 4), (0, 5), b"2")
    s.buffer("/a.py", b"x = 1\n", None)  # opened: parsed afresh
    s.buffer("/a.py", text.data, [edit])
    batch = s.take(timeout=0)
    assert batch is not None and batch.notices[0].edits is None
    s.done(batch)
    s.buffer("/a.py", text.data, [edit])
    s.document_closed("/a.py")
    batch = s.take(timeout=0)
    assert batch is not None and [n.kind for n in batch.notices] == [CLOSED]


def test_open_documents_go_first_and_disk_batches_are_bounded() -> None:
    s = UpdateScheduler(batch_limit=3)
    s.disk([f"/d{i}.py" for i in range(5)])
    s.buffer("/open.py", b"", None)
    first = s.take(timeout=0)
    assert first is not None and first.paths == ["/open.py"]
    s.done(first)
    second = s.take(timeout=0)
    assert second is not None and second.paths == ["/d0.py", "/d1.py", "/d2.py"]
    s.done(second)
    third = s.take(timeout=0)
    assert third is not None and third.paths == ["/d3.py", "/d4.py"]


def test_debounce_holds_notices_until_quiet() -> None:
    clock = Clock()
    s = UpdateScheduler(debounce=0.5, clock=clock)
    s.disk(["/a.py"])
    assert s.take(timeout=0) is None
    clock.now += 0.4
    s.disk(["/a.py"])  # trailing: the quiet period starts again
    clock.now += 0.4
    assert s.take(timeout=0) is None
    clock.now += 0.2
    batch = s.take(timeout=0)
    assert batch is not None and batch.paths == ["/a.py"]
    assert batch.notices[0].since == 100.0  # latency counts from the first notice


def test_too_many_disk_notices_become_one_rescan_that_keeps_editor_work() -> None:
    s = UpdateScheduler(max_pending=10)
    s.buffer("/open.py", b"x", None)
    s.disk([f"/d{i}.py" for i in range(11)])
    assert s.overflows == 1
    batch = s.take(timeout=0)
    assert batch is not None and batch.paths == ["/open.py"] and not batch.rescan
    s.done(batch)
    batch = s.take(timeout=0)
    assert batch is not None and batch.rescan and batch.notices == []
    s.done(batch)
    assert s.take(timeout=0) is None and s.pending == 0


def test_rebuild_comes_before_everything_on_disk() -> None:
    s = UpdateScheduler()
    s.disk(["/a.py"])
    s.rescan()
    s.rebuild()
    batch = s.take(timeout=0)
    assert batch is not None and batch.rebuild
    s.done(batch)
    assert s.take(timeout=0) is None  # the rebuild indexed everything


def test_wait_covers_editor_notices_only_and_times_out() -> None:
    s = UpdateScheduler()
    s.disk(["/storm.py"])
    seq = s.buffer("/a.py", b"x", None)
    later = s.buffer("/b.py", b"y", None)
    assert not s.wait(seq, timeout=0.05)
    batch = s.take(timeout=0)
    assert batch is not None and sorted(batch.paths) == ["/a.py", "/b.py"]
    assert not s.wait(seq, timeout=0.01)  # in flight is not applied yet
    assert (s.queued, s.pending) == (1, 3)  # the storm waits; the batch in hand is pending too
    done = threading.Event()

    def waiter() -> None:
        if s.wait(later, timeout=5):
            done.set()

    thread = threading.Thread(target=waiter)
    thread.start()
    time.sleep(0.05)
    assert not done.is_set()
    s.done(batch)
    thread.join(5)
    assert done.is_set()
    assert s.wait(seq, timeout=0)  # the disk notice still queued does not hold requests up
    assert s.pending_paths() == ["/storm.py"]


# ----- byte edits and incremental parsing ------------------------------------------------------


def test_source_text_edits_report_tree_sitter_points() -> None:
    text = SourceText("é = 1\nx = 2\n".encode())
    edit = text.edit((0, 2), (1, 1), b"q\nzz")
    assert text.data == "é".encode() + b"q\nzz = 2\n"
    assert (edit.start_byte, edit.old_end_byte, edit.new_end_byte) == (2, 8, 6)  # é: 2 bytes
    assert edit.start_point == (0, 2) and edit.old_end_point == (1, 1)
    assert edit.new_end_point == (1, 2)
    assert text.starts == [0, 4, 11]
    assert text.line(1) == b"zz = 2" and text.line(7) == b""
    clamped = text.edit((0, 99), (9, 0), b"!")  # past the end of a line / of the text
    assert text.data == "é".encode() + b"q!" and clamped.start_byte == 3


def test_incremental_reparse_matches_a_fresh_parse() -> None:
    source = b"def f(a):\n    return a\n\nclass C:\n    pass\n"
    text = SourceText(source)
    doc = DocumentTree("/m.py")
    doc.update(text.data, None)
    edits = [
        text.edit((1, 11), (1, 12), b"a + g(a)"),
        text.edit((4, 4), (4, 8), b"def m(self):\n        return f(1)"),
    ]
    tree = doc.update(text.data, edits)
    fresh = DocumentTree("/m.py").update(text.data, None)
    assert tree is not None and fresh is not None
    assert str(tree.root_node) == str(fresh.root_node)
    assert DocumentTree("/notes.txt").update(b"x", None) is None


# ----- the query cache -------------------------------------------------------------------------


def test_cache_invalidates_exactly_the_answers_that_depend_on_a_key() -> None:
    cache = QueryCache(10)
    computed: list[str] = []

    def answer(name: str, *deps: tuple[str, int]) -> tuple[str, set[tuple[str, int]]]:
        computed.append(name)
        return name.upper(), set(deps)

    assert cache.get("a", lambda: answer("a", ("s", 1), ("s", 2))) == "A"
    assert cache.get("b", lambda: answer("b", ("s", 2))) == "B"
    assert cache.get("c", lambda: answer("c", ("n", 7))) == "C"
    assert cache.get("a", lambda: answer("a")) == "A"
    assert cache.invalidate({("s", 1)}) == 1  # only "a" depends on symbol 1
    assert cache.get("b", lambda: answer("b")) == "B"
    assert cache.get("a", lambda: answer("a", ("s", 1))) == "A"
    assert computed == ["a", "b", "c", "a"]
    assert cache.invalidate({("s", 2), ("x", 0)}) == 1  # "b"; the new "a" reads symbol 1 only
    stats = cache.stats()
    assert (stats["hits"], stats["misses"], stats["invalidated"], stats["size"]) == (2, 4, 2, 2)


def test_cache_evicts_least_recently_used_and_counts_it() -> None:
    cache = QueryCache(2)
    for name in ("a", "b"):
        cache.get(name, lambda name=name: (name, {("s", ord(name))}))
    cache.get("a", lambda: ("stale", set()))  # a is now the most recently used
    cache.get("c", lambda: ("c", {("s", 99)}))  # evicts b
    assert cache.stats()["evictions"] == 1
    assert cache.get("b", lambda: ("b2", set())) == "b2"
    assert cache.invalidate({("s", ord("b"))}) == 0  # the evicted entry left no index behind


def test_an_answer_computed_across_an_update_is_not_kept() -> None:
    cache = QueryCache(10)

    def racing() -> tuple[str, set[tuple[str, int]]]:
        cache.invalidate({("s", 5)})  # an update commits while the answer is being computed
        return "old", {("s", 1)}

    assert cache.get("q", racing) == "old"
    assert cache.get("q", lambda: ("new", {("s", 1)})) == "new"


def test_percentiles_and_distributions() -> None:
    values = [float(v) for v in range(1, 21)]
    assert percentile(values, 50) == 10.0 and percentile(values, 95) == 19.0
    dist = Distribution()
    assert dist.summary()["p95"] is None
    for v in values:
        dist.add(v)
    assert dist.summary() == {"count": 20, "p50": 10.0, "p95": 19.0, "max": 20.0}


def test_cached_outgoing_calls_follow_a_method_that_becomes_a_property(tmp_path: Path) -> None:
    """A property read is an outgoing call: turning the method it reads into a property (in
    another file) must drop the cached answer of the function that reads it."""
    box = "class Box:\n    {}def size(self):\n        return 1\n"
    tree = LiveTree(
        tmp_path,
        {
            "box.py": box.format(""),
            "use.py": "from box import Box\n\n\ndef measure(b: Box):\n    return b.size\n",
        },
    )
    try:
        cache = QueryCache(100)
        cached = CachedQueries(cache)
        query = GraphQuery(tree.updater.conn)

        def callees() -> set[str]:
            measure = next(
                s for s in query.file_symbols(tree.path("use.py")) if s.qualname == "measure"
            )
            groups = cached.calls(query, measure, incoming=False, probable=False)
            return {g.symbol.qualname for g in groups}

        assert callees() == set()
        report = tree.edit("box.py", box.format("@property\n    "))
        cache.invalidate(report.touched)
        assert callees() == {"Box.size"}
    finally:
        tree.close()
