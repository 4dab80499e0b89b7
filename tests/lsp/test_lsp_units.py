"""Unit tests of the server's pure parts: position encodings, options, routing, cancellation."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from lsp_support import FILES, units, write_files

from forge_lsp.config import load_settings
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.indexing.indexer import index_workspace
from forge_lsp.server.cancellation import Cancelled, interruptible
from forge_lsp.server.documents import DiskLines, TextSnapshot
from forge_lsp.server.options import parse_options
from forge_lsp.server.positions import ENCODINGS, LineColumns, from_client, to_client
from forge_lsp.server.workspace import QueryPool, Workspaces

LINE = "s = 'é🙂'; x = helper()  # 日本"


# ----- positions ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("encoding", "expected"), [("utf-8", 18), ("utf-16", 15), ("utf-32", 14)])
def test_column_after_non_ascii_text(encoding: str, expected: int) -> None:
    column = LINE.index("helper")
    assert to_client(LINE, column, encoding) == expected
    assert from_client(LINE, expected, encoding) == column


@given(st.text(max_size=40), st.data())
def test_round_trip_matches_python_codecs(line: str, data: st.DataObject) -> None:
    line = line.replace("\n", "")
    column = data.draw(st.integers(0, len(line)))
    for encoding in ENCODINGS:
        client = to_client(line, column, encoding)
        assert client == units(line[:column], encoding)
        assert from_client(line, client, encoding) == column


@given(st.lists(st.sampled_from(["a", "é", "日", "🙂", "\r", " "]), max_size=300))
def test_one_line_converter_matches_the_codecs_on_every_column(chars: list[str]) -> None:
    line = "".join(chars)
    for encoding in ENCODINGS:
        columns = LineColumns(line, encoding)
        for column in range(len(line) + 3):
            client = columns.to_client(column)
            assert client == units(line[:column], encoding) + max(0, column - len(line))
            assert columns.from_client(client) == min(column, len(line))


def test_columns_inside_a_character_map_to_its_start() -> None:
    line = "a🙂b"
    assert from_client(line, 2, "utf-16") == 1  # between the two halves of the surrogate pair
    assert from_client(line, 3, "utf-8") == 1  # inside the 4-byte sequence
    assert from_client(line, 5, "utf-8") == 2


def test_columns_past_the_end() -> None:
    assert from_client("é", 10, "utf-8") == 1
    assert from_client("ab", 10, "utf-32") == 2
    assert to_client("é", 3, "utf-8") == 4  # the excess is kept: ranges never invert


# ----- text snapshot -----------------------------------------------------------------------------


def test_open_buffer_wins_over_disk(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("x = 1\n", encoding="utf-8")
    disk = DiskLines()
    on_disk = TextSnapshot("utf-16", {}, disk)
    assert on_disk.to_client(path.as_posix(), 0, 4) == 4
    opened = TextSnapshot("utf-16", {path.as_posix(): "🙂 = 1\n"}, disk)
    assert opened.to_client(path.as_posix(), 0, 4) == 5
    assert opened.from_client(path.as_posix(), 0, 5) == 4


def test_disk_cache_follows_changes(tmp_path: Path) -> None:
    path = tmp_path / "m.py"
    path.write_text("é = 1\n", encoding="utf-8")
    disk = DiskLines()
    assert TextSnapshot("utf-8", {}, disk).to_client(path.as_posix(), 0, 1) == 2
    path.write_text("🙂🙂 = 1\n", encoding="utf-8")  # another size: the cache entry is stale
    assert TextSnapshot("utf-8", {}, disk).to_client(path.as_posix(), 0, 1) == 4
    assert TextSnapshot("utf-8", {}, disk).to_client((tmp_path / "gone.py").as_posix(), 0, 3) == 3


# ----- options -----------------------------------------------------------------------------------


def test_good_options() -> None:
    options = parse_options(
        {
            "dbPath": "graph.db",
            "exclude": ["gen/**"],
            "include": "src/**",
            "maxFileSize": 1000,
            "includeProbable": True,
            "logLevel": "debug",
            "debounceMs": 0,
            "cacheSize": 10,
            "watchFiles": False,
            "metricsLog": True,
            "freshnessTimeoutMs": 500,
            "watchMaxDirectories": 0,
            "leaveToOtherServers": ["references", "definition", "references"],
        }
    )
    assert options.problems == ()
    assert options.leave_to_other_servers == ("references", "definition")
    assert options.overrides == {
        "db": "graph.db",
        "exclude": ["gen/**"],
        "include": ["src/**"],
        "max-file-size": 1000,
        "watch-max-directories": 0,
    }
    assert options.include_probable
    assert options.log_level == logging.DEBUG
    assert (options.debounce_ms, options.cache_size, options.freshness_timeout_ms) == (0, 10, 500)
    assert not options.watch_files and options.metrics_log
    live = options.live()
    assert (live.debounce, live.cache_size, live.watch, live.metrics_log) == (0.0, 10, False, True)


def test_bad_options_become_defaults_with_a_message() -> None:
    options = parse_options(
        {
            "dbPath": 3,
            "exclude": [1],
            "maxFileSize": -1,
            "includeProbable": "yes",
            "logLevel": "loud",
            "colour": "blue",
            "debounceMs": -5,
            "cacheSize": 0,
            "watchFiles": "no",
            "watchMaxDirectories": -1,
            "leaveToOtherServers": ["hover", "definition"],
        }
    )
    assert options.leave_to_other_servers == ("definition",)
    assert options.overrides == {} and options.include_probable is False
    assert options.log_level is None
    assert (options.debounce_ms, options.cache_size, options.watch_files) == (0, 4096, True)
    assert len(options.problems) == 11
    assert any("'colour'" in p for p in options.problems)
    assert "leaveToOtherServers: 'hover' ignored: it may name references, definition," in "; ".join(
        options.problems
    )
    assert parse_options({"leaveToOtherServers": "references"}).leave_to_other_servers == (
        "references",
    )
    assert parse_options([1, 2]).problems == ("initializationOptions must be an object; ignored",)
    assert parse_options(None).problems == ()


# ----- workspace routing -------------------------------------------------------------------------


def test_routing_by_innermost_folder_and_through_symlinks(tmp_path: Path) -> None:
    outer, inner = tmp_path / "outer", tmp_path / "outer" / "inner"
    inner.mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(outer)
    spaces = Workspaces(parse_options(None))
    spaces.add(link.as_uri(), "outer", link)
    spaces.add(inner.as_uri(), "inner", inner)
    routed = spaces.route((link / "a.py").as_posix())
    assert routed is not None and routed[0].name == "outer"
    assert routed[1] == (outer / "a.py").resolve().as_posix()
    assert routed[0].to_client_path(routed[1]) == (link / "a.py").as_posix()
    nested = spaces.route((inner / "b.py").as_posix())
    assert nested is not None and nested[0].name == "inner"
    assert spaces.route((tmp_path / "elsewhere.py").as_posix()) is None


def test_one_absolute_db_path_for_several_folders(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    spaces = Workspaces(parse_options({"dbPath": str(tmp_path / "graph.db")}))
    first, _ = spaces.add(a.as_uri(), "a", a)
    second, problems = spaces.add(b.as_uri(), "b", b)
    assert first.settings.db_path == tmp_path / "graph.db"
    assert second.settings.db_path != first.settings.db_path
    assert second.settings.db_path.parent == tmp_path
    assert problems and "shared by several workspace folders" in problems[0]


# ----- cancellation ------------------------------------------------------------------------------


@pytest.fixture
def graph(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    write_files(root, FILES)
    settings = load_settings(root, db=tmp_path / "graph.db")
    index_workspace(settings, jobs=1)
    return settings.db_path


def test_a_cancelled_request_stops_its_running_statement(graph: Path) -> None:
    query = GraphQuery.open(graph)
    cancel = threading.Event()
    with interruptible(query, cancel):
        assert query.status()["files"] == 4
    # A statement that would run for many seconds, standing in for a long graph walk.
    slow = (
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 200000000)"
        " SELECT count(*) FROM c"
    )
    threading.Timer(0.05, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled), interruptible(query, cancel):
        query.conn.execute(slow).fetchall()
    assert time.monotonic() - started < 2.0
    assert query.status()["files"] == 4  # the handler is gone; the connection still works


def test_pool_without_a_graph_and_suspension(tmp_path: Path, graph: Path) -> None:
    with QueryPool(tmp_path / "missing.db").query() as query:
        assert query is None
    pool = QueryPool(graph)
    with pool.query() as query:
        assert query is not None
    pool.suspend(wait=1.0)
    with pool.query() as query:
        assert query is None
    pool.invalidate()
    with pool.query() as query:
        assert query is not None and query.status()["files"] == 4


def test_fixture_has_non_ascii_before_identifiers() -> None:
    line = next(x for x in FILES["pkg/use.py"].splitlines() if "é🙂" in x)
    assert line.index("helper") > line.index("🙂")
