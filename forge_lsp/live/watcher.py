"""The server's own file watcher (watchfiles), for changes no editor reports.

Edits also happen outside the editor (git checkout, code generators, other tools) and some
clients never report file changes. A daemon thread watches a folder's root and hands changed
paths on, filtered like discovery: supported suffixes, the default excludes and the workspace's
include/exclude globs. Directory events pass too (a deleted or moved-in directory is one event
for all its files); the receiver sorts out what each path is now.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from watchfiles import Change, watch

from forge_lsp.indexing.discovery import PathFilter

log = logging.getLogger(__name__)

_STEP_MS = 10  # how often the watcher thread looks at collected events
_DEBOUNCE_MS = 400  # the longest a burst of events is collected before it is delivered
_READY_MS = 50  # the watcher yields an empty set this often when nothing happens
_ALWAYS = frozenset({".gitignore"})
_MAX_WATCHES = (
    "/proc/sys/fs/inotify/max_user_watches"  # not source, but they change which files belong
)


def _watch_budget() -> int | None:
    """Half of the kernel's inotify watches per user (Linux), or None where unknown."""
    try:
        with open(_MAX_WATCHES, encoding="ascii") as handle:
            return int(handle.read().strip()) // 2
    except (OSError, ValueError):
        return None


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
    ) -> None:
        self.root = root
        self._prefix = root.as_posix().rstrip("/") + "/"
        self._filter = path_filter
        self._on_change = on_change
        self._step = step_ms
        self._debounce = debounce_ms
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self.state = "off"  # off | starting | running | polling | stopped | failed: <why>
        self.events = 0
        self.restarts = 0  # watches started again after something ended one

    def start(self) -> None:
        self.state = "starting"
        self._thread = threading.Thread(
            target=self._run, name=f"forge-watch:{self.root.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self.state in ("starting", "running", "polling"):
            self.state = "stopped"

    def wanted(self, change: Change, path: str) -> bool:
        """watchfiles' filter: source files discovery would take, and what may be a directory
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

    def _run(self) -> None:
        """Watch until stopped. Whatever ends a watch (an event it cannot decode, a vanished
        root) starts it again after a pause; when the kernel has no watches left (OSError:
        inotify limits on a big tree) it goes on by polling, and `state` says so."""
        polling = self._too_many_directories()
        if polling:
            log.warning("file watcher for %s: more directories than watches; polling", self.root)
        pause = 0.1
        while not self._stop.is_set():
            try:
                self._watch(polling)
                return
            except OSError as exc:
                if polling:
                    self.state = f"failed: {exc}"
                    log.warning("file watcher for %s stopped: %s", self.root, exc)
                    return
                polling = True
                log.warning("file watcher for %s: %s; polling instead", self.root, exc)
            except Exception as exc:  # an event it could not handle: watch again
                log.warning("file watcher for %s restarts after: %r", self.root, exc)
            self.restarts += 1
            self._stop.wait(pause)
            pause = min(pause * 2, 5.0)
        self._ready.set()

    def _too_many_directories(self) -> bool:
        """Whether watching every directory would take more than half the kernel's watches
        (each directory costs one; the rest of the machine needs some too): then poll."""
        budget = _watch_budget()
        if budget is None:
            return False
        for count, (dirpath, dirnames, _files) in enumerate(os.walk(self.root), 1):
            rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            prefix = "" if rel == "." else rel + "/"
            dirnames[:] = [d for d in dirnames if self._filter.dir_allowed(prefix + d)]
            if count > budget or self._stop.is_set():
                return count > budget
        return False

    def _watch(self, polling: bool) -> None:
        try:
            # With a timeout to yield on, the first (empty) yield says the watches are in place.
            for changes in watch(
                self.root,
                watch_filter=self.wanted,
                step=self._step,
                debounce=self._debounce,
                stop_event=self._stop,
                rust_timeout=_READY_MS,
                yield_on_timeout=True,
                raise_interrupt=False,
                ignore_permission_denied=True,
                force_polling=polling,
            ):
                if not self._ready.is_set() or self.state not in ("running", "polling"):
                    self.state = "polling" if polling else "running"
                    self._ready.set()
                if not changes:
                    continue
                paths = {path.replace("\\", "/") for _change, path in changes}
                self.events += len(paths)
                try:
                    self._on_change(paths)
                except Exception:  # the receiver's bug must not end the watching
                    log.exception("handling file changes failed")
        finally:
            self._ready.set()
        if not self._stop.is_set():
            raise RuntimeError("the watch ended")  # the root vanished: try again
        self.state = "stopped"
