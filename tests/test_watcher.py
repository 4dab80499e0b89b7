"""The server's file watcher on real directories with real watchfiles: which directories get an
inotify watch (read back from the kernel's own record, /proc/self/fdinfo), what is reported
from new and renamed directories, the cap that turns watching into polling, and what
forge/status says about it."""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from forge_lsp.config import load_settings
from forge_lsp.indexing.discovery import PathFilter
from forge_lsp.live.service import LiveGraph, LiveOptions
from forge_lsp.live.watcher import FileWatcher

linux_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not Path("/proc/self/fdinfo").exists(),
    reason="reads the kernel's inotify watches from /proc",
)

TREE = {
    "app.py": "x = 1\n",
    "pkg/__init__.py": "",
    "pkg/core.py": "def f():\n    return 1\n",
    "pkg/sub/deep/mod.py": "y = 2\n",
    "pkg/__pycache__/core.cpython-311.pyc": "",
    "node_modules/left-pad/lib/index.js": "",
    "node_modules/left-pad/lib/util/more.js": "",
    "web/node_modules/react/dist/react.js": "",
    "web/page.py": "",
    "build/lib/pkg/core.py": "",
    ".git/objects/ab/cdef": "",
    "generated/out/table.py": "",  # excluded by the workspace's own glob
    "docs.d/notes.txt": "",  # a dotted name is still a directory discovery walks
}
WALKED = ["", "pkg", "pkg/sub", "pkg/sub/deep", "web", "docs.d"]


def _inotify_watches() -> set[tuple[int, int]]:
    """(device, inode) of everything this process's inotify instances watch, as the kernel
    lists them (`inotify wd:… ino:<hex> sdev:<hex>` in /proc/self/fdinfo)."""
    found: set[tuple[int, int]] = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") != "anon_inode:inotify":
                continue
            with open(f"/proc/self/fdinfo/{fd}", encoding="ascii") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue  # closed meanwhile
        for line in lines:
            if line.startswith("inotify wd:"):
                fields = dict(part.split(":", 1) for part in line.split()[1:])
                sdev = int(fields["sdev"], 16)  # the kernel's encoding: major << 20 | minor
                found.add((os.makedev(sdev >> 20, sdev & 0xFFFFF), int(fields["ino"], 16)))
    return found


def _watched_in(root: Path) -> set[str]:
    """Which directories under root (every one, excluded trees too) have an inotify watch."""
    keys = {}
    for dirpath, _dirs, _files in os.walk(root):
        st = os.stat(dirpath)
        rel = os.path.relpath(dirpath, root)
        keys[(st.st_dev, st.st_ino)] = "" if rel == "." else rel.replace(os.sep, "/")
    return {keys[key] for key in _inotify_watches() if key in keys}


def _until(condition: Callable[[], object], what: str, timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.02)


class Watching:
    """A FileWatcher on a workspace, collecting what it reports."""

    def __init__(self, root: Path, **options: object) -> None:
        self.root = root.resolve()
        settings = load_settings(
            self.root, db=root.parent / "graph.db", overrides={"exclude": ["generated"]}
        )
        self.batches: list[set[str]] = []
        self.watcher = FileWatcher(
            self.root,
            PathFilter(settings),
            self.batches.append,
            debounce_ms=50,
            **options,  # type: ignore[arg-type]
        )
        self.watcher.start()
        assert self.watcher.wait_running(8)

    def path(self, rel: str) -> str:
        return (self.root / rel).as_posix()

    def reported(self, rel: str) -> bool:
        return any(self.path(rel) in batch for batch in self.batches)

    def wait_reported(self, rel: str) -> None:
        _until(lambda: self.reported(rel), f"{rel} was not reported ({self.watcher.state})")

    def write(self, rel: str) -> None:
        (self.root / rel).write_text("z = 3\n")
        self.wait_reported(rel)

    def all_reported(self) -> set[str]:
        return {p for batch in self.batches for p in batch}


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    for rel, text in TREE.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.fixture
def watching(tree: Path) -> Iterator[Watching]:
    w = Watching(tree)
    yield w
    w.watcher.stop()


@linux_only
def test_only_the_directories_discovery_walks_get_a_watch(watching: Watching) -> None:
    assert watching.watcher.state == "running"
    assert _watched_in(watching.root) == set(WALKED)
    assert watching.watcher.status()["watchedDirectories"] == len(WALKED)

    watching.write("pkg/sub/deep/new.py")
    (watching.root / "pkg" / "node_modules" / "dep" / "lib").mkdir(parents=True)  # npm install
    (watching.root / "web" / "__pycache__").mkdir()
    (watching.root / "pkg" / "fresh" / "inner").mkdir(parents=True)
    watching.wait_reported("pkg/fresh")  # handed on once it is watched
    watching.write("pkg/fresh/new.py")
    watching.write("pkg/fresh/inner/newer.py")
    (watching.root / "pkg" / "node_modules" / "dep" / "lib" / "index.py").write_text("")
    watching.write("app2.py")  # after the excluded write: had that been reported, it would be in

    walked = {*WALKED, "pkg/fresh", "pkg/fresh/inner"}
    assert _watched_in(watching.root) == walked
    assert watching.watcher.watched == len(walked)
    assert sorted(watching.watcher.watched_directories()) == sorted(
        watching.path(rel).rstrip("/") for rel in walked
    )
    assert not [p for p in watching.all_reported() if "node_modules" in p or "__pycache__" in p]


@linux_only
def test_renamed_moved_in_and_deleted_directories_are_watched_as_they_are_now(
    watching: Watching, tmp_path: Path
) -> None:
    (watching.root / "pkg" / "sub").rename(watching.root / "pkg" / "moved")
    watching.wait_reported("pkg/moved")
    watching.write("pkg/moved/deep/after.py")
    assert not watching.reported("pkg/sub/deep/after.py")
    incoming = tmp_path / "lib.v2"  # a dotted name: reported because it is a directory
    (incoming / "inner").mkdir(parents=True)
    (incoming / "inner" / "mod.py").write_text("")
    incoming.rename(watching.root / "lib.v2")
    watching.wait_reported("lib.v2")
    watching.write("lib.v2/inner/later.py")
    (watching.root / "docs.d" / "notes.txt").unlink()
    (watching.root / "docs.d").rmdir()
    watching.wait_reported("docs.d")  # gone: what the graph had below it goes too
    walked = {"", "pkg", "pkg/moved", "pkg/moved/deep", "web", "lib.v2", "lib.v2/inner"}
    _until(lambda: watching.watcher.watched == len(walked), "docs.d still counted")
    assert _watched_in(watching.root) == walked


@linux_only
def test_past_the_cap_the_same_directories_are_polled(tree: Path) -> None:
    w = Watching(tree, max_directories=len(WALKED) - 1)
    try:
        assert w.watcher.status() == {
            "watcher": "polling",
            "watchedDirectories": len(WALKED),
            "watchMaxDirectories": len(WALKED) - 1,
        }
        assert _watched_in(w.root) == set()  # no inotify watch at all
        assert not [d for d in w.watcher.watched_directories() if "node_modules" in d]
        w.write("pkg/sub/deep/polled.py")
        (w.root / "pkg" / "later").mkdir()
        w.wait_reported("pkg/later")
        w.write("pkg/later/inside.py")
        assert w.watcher.watched == len(WALKED) + 1
    finally:
        w.watcher.stop()


@linux_only
def test_growing_past_the_cap_turns_watching_into_polling(tree: Path) -> None:
    past = time.time() - 60  # polling (notify 8) compares whole-second mtimes
    os.utime(tree / "pkg" / "core.py", (past, past))
    w = Watching(tree, max_directories=len(WALKED))
    try:
        assert w.watcher.state == "running" and _watched_in(w.root) == set(WALKED)
        (w.root / "more").mkdir()
        w.wait_reported("more")
        assert w.watcher.state == "polling" and w.watcher.watched == len(WALKED) + 1
        _until(lambda: not _watched_in(w.root), "the inotify watches outlived the switch")
        w.write("more/polled.py")
        w.write("pkg/core.py")
    finally:
        w.watcher.stop()
    assert w.watcher.status()["watcher"] == "stopped"


def test_the_cap_is_a_workspace_setting(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "pyproject.toml").write_text("[tool.forge-lsp]\nwatch-max-directories = 0\n")
    settings = load_settings(root, db=tmp_path / "graph.db")
    assert settings.watch_max_directories == 0 and settings.problems == ()
    overridden = load_settings(root, overrides={"watch-max-directories": 7})
    assert overridden.watch_max_directories == 7
    (root / "pyproject.toml").write_text("[tool.forge-lsp]\nwatch-max-directories = -1\n")
    bad = load_settings(root, db=tmp_path / "graph.db")
    assert bad.watch_max_directories is None
    assert bad.problems == (
        "watch-max-directories must be an integer >= 0 (0: always poll); using the default",
    )


def test_live_status_says_how_the_folder_is_watched(tree: Path, tmp_path: Path) -> None:
    (tree / "pyproject.toml").write_text(
        '[tool.forge-lsp]\nwatch-max-directories = 0\nexclude = ["generated"]\n'
    )
    settings = load_settings(tree, db=tmp_path / "graph.db")
    live = LiveGraph(settings, options=LiveOptions())
    live.start()
    try:
        _until(lambda: live.state == "ready", "the first index")
        status = live.status()
        assert status["watcher"] == "polling"
        assert (status["watchedDirectories"], status["watchMaxDirectories"]) == (len(WALKED), 0)
        (tree / "pkg" / "added.py").write_text("def added():\n    return 1\n")
        _until(lambda: live.status()["watcherEvents"] >= 1, "polling reported nothing")
    finally:
        live.close(10)
    assert LiveGraph(settings, options=LiveOptions(watch=False)).status()["watcher"] == "off"


@linux_only
def test_a_link_out_of_the_workspace_gets_no_watch(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside" / "deeper"
    outside.mkdir(parents=True)
    (tree / "linked").symlink_to(outside.parent, target_is_directory=True)
    (tree / "alias").symlink_to(tree / "pkg", target_is_directory=True)  # inside: pkg's one
    w = Watching(tree)
    try:
        outer = {(os.stat(p).st_dev, os.stat(p).st_ino) for p in (outside, outside.parent)}
        assert not outer & _inotify_watches()
        assert _watched_in(w.root) == set(WALKED) and w.watcher.watched == len(WALKED)
    finally:
        w.watcher.stop()


def test_a_folder_deleted_and_made_again_is_watched_again(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "pkg").mkdir(parents=True)
    w = Watching(root)
    try:
        shutil.rmtree(root)
        _until(lambda: w.watcher.restarts >= 1, "the watcher did not notice its folder went")
        (root / "pkg").mkdir(parents=True)
        _until(lambda: w.watcher.watched == 2, "the folder is not watched again")
        w.write("pkg/back.py")
    finally:
        w.watcher.stop()
