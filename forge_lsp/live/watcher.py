"""The server's own file watcher (watchfiles), for changes no editor reports.

Edits also happen outside the editor (git checkout, code generators, other tools) and some
clients never report file changes. A daemon thread watches a folder and hands changed paths on,
filtered like discovery: supported suffixes, the default excludes and the workspace's
include/exclude globs. Directory events pass too (a deleted or moved-in directory is one event
for all its files); the receiver sorts out what each path is now.

Watches are bounded: only the directories discovery walks are watched, each on its own (not
recursively: notify's recursive watch would put one on every directory of `node_modules`
too), so an excluded tree costs nothing, and one created later (`npm install`) is never
watched. When a watched directory appears or goes, the watch is replaced by one over the
directories as they are now. Past a cap (`watch-max-directories`, else half the kernel's
inotify watches) the same directories are polled instead.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

from watchfiles import Change, watch
from watchfiles._rust_notify import WatchfilesRustInternalError
from watchfiles.main import FileChange

from forge_lsp.config import Settings
from forge_lsp.indexing.discovery import PathFilter, walk_key, walked_directories

log = logging.getLogger(__name__)

_STEP_MS = 10  # how often the watcher thread looks at collected events
_DEBOUNCE_MS = 400  # the longest a burst of events is collected before it is delivered
_READY_MS = 50  # the watcher yields an empty set this often when nothing happens
_POLL_MS = 300  # how often polling looks at every directory
_ROUNDS = 8  # watch replacements in a row while directories keep appearing
_NO_INSTANCE = "Error creating recommended watcher"  # watchfiles' words for inotify_init failing
_ALWAYS = frozenset({".gitignore"})
_MAX_WATCHES = (
    "/proc/sys/fs/inotify/max_user_watches"  # not source, but they change which files belong
)

WATCHER_OFF = {"watcher": "off", "watchedDirectories": 0, "watchMaxDirectories": None}


def _watch_budget() -> int | None:
    """Half of the kernel's inotify watches per user (Linux), or None where unknown: the rest
    of the machine (other editors, other watchers) needs some too."""
    try:
        with open(_MAX_WATCHES, encoding="ascii") as handle:
            return int(handle.read().strip()) // 2
    except (OSError, ValueError):
        return None


class _RootGone(FileNotFoundError):
    """The folder itself is gone (deleted, or moved away)."""


def _tops(directories: set[str]) -> set[str]:
    """Those whose parent is not among them: each tree once."""
    return {d for d in directories if d.rpartition("/")[0] not in directories}


class _Watch:
    """One watchfiles watch over a fixed set of directories, each without its subdirectories.
    Its watches are in place once it is constructed (the generator's first yield)."""

    def __init__(self, directories: dict[str, tuple[int, int]], polling: bool, owner: FileWatcher):
        self.directories = directories
        self.keys = frozenset(directories.values())
        self.polling = polling
        self._changes: Generator[set[FileChange], None, None] = watch(
            *directories,
            watch_filter=None,
            step=owner.step,
            debounce=owner.debounce,
            stop_event=owner.stop_event,
            rust_timeout=_READY_MS,
            yield_on_timeout=True,
            raise_interrupt=False,
            force_polling=polling,
            poll_delay_ms=_POLL_MS,
            recursive=False,
            # an error on one directory (a vanished one; the kernel out of watches) must show,
            # not leave that directory silently unwatched
            ignore_permission_denied=False,
        )
        self._held: set[FileChange] | None = next(self._changes, None)

    def next(self) -> set[FileChange] | None:
        """The next changes (empty: none for a moment), or None once stopped."""
        if self._held is not None:
            held, self._held = self._held, None
            return held
        return next(self._changes, None)

    def close(self) -> None:
        self._changes.close()


class FileWatcher:
    """Watches one root on a daemon thread; `on_change` gets sets of absolute posix paths."""

    def __init__(
        self,
        root: Path,
        path_filter: PathFilter,
        on_change: Callable[[set[str]], object],
        *,
        step_ms: int = _STEP_MS,
        debounce_ms: int = _DEBOUNCE_MS,
        follow: bool = True,
        max_directories: int | None = None,
    ) -> None:
        self.root = root
        self._prefix = root.as_posix().rstrip("/") + "/"
        self._root_real = os.path.realpath(root)
        self._filter = path_filter
        self._on_change = on_change
        self._follow = follow
        self.step = step_ms
        self.debounce = debounce_ms
        self.stop_event = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._current: _Watch | None = None
        self._refused = False  # the kernel ran out of watches: poll from now on
        self.limit = max_directories if max_directories is not None else _watch_budget()
        self.state = "off"  # off | starting | running | polling | stopped | failed: <why>
        self.watched = 0  # directories watched (or polled) now
        self.events = 0
        self.restarts = 0  # watches started again after something ended one

    @classmethod
    def of(
        cls, settings: Settings, path_filter: PathFilter, on_change: Callable[[set[str]], object]
    ) -> FileWatcher:
        """The watcher of a folder, as its settings say."""
        return cls(
            settings.root,
            path_filter,
            on_change,
            follow=settings.follow_symlinks,
            max_directories=settings.watch_max_directories,
        )

    def status(self) -> dict[str, Any]:
        """What forge/status shows: the mode, and how many directories it costs."""
        return {
            "watcher": self.state,
            "watchedDirectories": self.watched,
            "watchMaxDirectories": self.limit,
        }

    def start(self) -> None:
        self.state = "starting"
        self._thread = threading.Thread(
            target=self._run, name=f"forge-watch:{self.root.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        if self.state in ("starting", "running", "polling"):
            self.state = "stopped"
            self.watched = 0

    def wanted(self, change: Change, path: str) -> bool:
        """What is handed on: source files discovery would take, and what may be a directory
        (a name without a suffix) outside the excluded trees."""
        path = path.replace("\\", "/")
        if not path.startswith(self._prefix):
            return False
        rel = path[len(self._prefix) :]
        parent, _, name = rel.rpartition("/")
        if name in _ALWAYS:
            return not parent or self._filter.tree_allowed(parent)
        if name.endswith(self._filter.suffixes):
            return self._filter.file_allowed(rel)
        return "." not in name and self._filter.tree_allowed(rel)

    def wait_running(self, timeout: float) -> bool:
        """Wait until the watcher has its watches in place (or has failed)."""
        return self._ready.wait(timeout)

    def watched_directories(self) -> list[str]:
        current = self._current
        return list(current.directories) if current is not None else []

    def _run(self) -> None:
        """Watch until stopped. Whatever ends a watch (an event it cannot decode, a vanished
        root) starts it again after a pause; when the kernel has no watches left (OSError:
        inotify limits) it goes on by polling, and `state` says so."""
        pause = 0.1
        while not self.stop_event.is_set():
            try:
                self._watch()
                return
            except (FileNotFoundError, PermissionError) as exc:  # walked, then gone: again
                log.info("file watcher for %s restarts after: %s", self.root, exc)
            except OSError as exc:
                if self._refused:  # polling failed too
                    self.state, self.watched = f"failed: {exc}", 0
                    log.warning("file watcher for %s stopped: %s", self.root, exc)
                    self._ready.set()
                    return
                self._refused = True
                log.warning("file watcher for %s: %s; polling instead", self.root, exc)
            except Exception as exc:  # an event it could not handle: watch again
                log.warning("file watcher for %s restarts after: %r", self.root, exc)
            self._ready.set()  # wait_running: in place, or failed for now
            if not self.stop_event.is_set():  # nothing is watched until it starts again
                self.state, self.watched = "starting", 0
            self.restarts += 1
            self.stop_event.wait(pause)
            pause = min(pause * 2, 5.0)
        self.state, self.watched = "stopped", 0
        self._ready.set()

    def _watch(self) -> None:
        current = self._open(None)
        try:
            while (changes := current.next()) is not None:
                if not changes:
                    continue
                paths = self._handed_on(changes, current)
                if self._stale(changes, current):
                    current = self._replace(current, paths)
                self._deliver(paths)
        finally:
            for ending in {id(w): w for w in (current, self._current) if w is not None}.values():
                ending.close()
            self._current = None
        if not self.stop_event.is_set():
            raise RuntimeError("the watch ended")  # the root vanished: try again
        self.state, self.watched = "stopped", 0

    def _open(self, old: _Watch | None) -> _Watch:
        """A watch over the directories discovery walks now; with `old` still in place, so
        nothing goes unwatched meanwhile, unless the kernel has no watches for both."""
        directories = walked_directories(self.root, self._filter, follow=self._follow)
        if not directories:
            raise _RootGone(f"{self.root} is gone")
        polling = self._refused or (self.limit is not None and len(directories) > self.limit)
        if polling and not self._refused and (old is None or not old.polling):
            log.warning(
                "file watcher for %s: %d directories, more than %d to watch; polling",
                self.root,
                len(directories),
                self.limit,
            )
        try:
            new = _Watch(directories, polling, self)
        except (FileNotFoundError, PermissionError):
            raise
        except OSError:
            if polling or old is None or old.polling:
                raise
            old.close()  # too many watches for two at once: the old one goes first
            new = _Watch(directories, polling, self)
        except WatchfilesRustInternalError as exc:
            if polling or not str(exc).startswith(_NO_INSTANCE):
                raise
            raise OSError(str(exc)) from exc  # no inotify instance left: as out of watches
        self._current = new
        self.state = "polling" if polling else "running"
        self.watched = len(directories)
        self._ready.set()
        return new

    def _replace(self, old: _Watch, paths: set[str]) -> _Watch:
        """Watch the directories as they are now. What the old watch saw while the new one was
        put in place is kept; a directory that came or went unseen meanwhile (inside a new one
        before its own watch was in place) is found by looking, and dealt with in one more
        round. The tops of new and gone trees are handed on once the new watch is in place,
        whatever their names, so the receiver reads them when nothing can be missed."""
        for _round in range(_ROUNDS):
            try:
                new = self._open(old)
            except _RootGone:
                raise  # watched again once it is back (_run)
            except (FileNotFoundError, PermissionError):
                continue  # a directory went away between the walk and its watch: walk again
            try:
                seen: set[FileChange] = set()
                for changes in (old.next(), new.next()):
                    seen.update(changes or ())
                old.close()
                paths |= self._handed_on(seen, new)
                fresh = new.directories.keys() - old.directories.keys()
                paths |= _tops(fresh) | _tops(old.directories.keys() - new.directories.keys())
                if not self._stale(seen, new) and not self._missed(fresh, new):
                    return new
            except BaseException:
                new.close()
                raise
            old = new
        return old

    def _handed_on(self, changes: set[FileChange], current: _Watch) -> set[str]:
        """The paths the receiver gets: a watched directory's own modification is left out
        (what changed inside it is reported by its own watch; polling reports both)."""
        handed: set[str] = set()
        for change, raw in changes:
            path = raw.replace("\\", "/")
            modified_dir = change == Change.modified and path in current.directories
            if not modified_dir and self.wanted(change, path):
                handed.add(path)
        return handed

    def _stale(self, changes: set[FileChange], current: _Watch) -> bool:
        """Whether the watched directories are no longer those discovery walks: one went (or
        was renamed), or one discovery would walk appeared (a new excluded one did not)."""
        for change, raw in changes:
            path = raw.replace("\\", "/")
            if change == Change.deleted:
                if path in current.directories:
                    return True
            elif change == Change.added and self._walkable(path, current):
                return True  # also a watched name that is another directory now
        return False

    def _walkable(self, path: str, current: _Watch) -> bool:
        """A directory discovery would walk that the watch does not cover (unreadable ones
        are not walked: no watch could be put on them)."""
        if not path.startswith(self._prefix):
            return False
        if not self._filter.tree_allowed(path[len(self._prefix) :]):
            return False
        key = walk_key(path, self._root_real, follow=self._follow)
        return key is not None and key not in current.keys and os.access(path, os.R_OK)

    def _missed(self, fresh: set[str], current: _Watch) -> bool:
        """Whether a directory appeared inside a new one before that one's watch was in place
        (no watch saw it come): one level down each suffices."""
        for directory in fresh:
            try:
                with os.scandir(directory) as entries:
                    names = [e.name for e in entries if e.is_dir()]
            except OSError:
                continue
            if any(self._walkable(f"{directory}/{name}", current) for name in names):
                return True
        return False

    def _deliver(self, paths: set[str]) -> None:
        if not paths:
            return
        self.events += len(paths)
        try:
            self._on_change(paths)
        except Exception:  # the receiver's bug must not end the watching
            log.exception("handling file changes failed")
