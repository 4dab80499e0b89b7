"""Workspace folders: each has its own settings and graph, and requests are routed by path.

A document belongs to the innermost folder that contains it; a document outside every folder
belongs to none, and every request about it gets an empty answer. Paths cross this boundary in
both directions: the client speaks of the folder as it opened it (perhaps through a symlink),
while the graph stores paths below the folder's resolved root.

Each folder keeps a small pool of read connections (one per concurrent request, never shared
between threads at once). Readers run in WAL mode, so they never wait for the writer; when the
database is replaced (forge/reindex) the pool is invalidated and connections reopen lazily.
Each folder also has its LiveGraph (forge_lsp.live), the one writer that keeps the graph fresh.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from forge_lsp.config import Settings, load_settings
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.graph.store import StoreError
from forge_lsp.indexing.discovery import inside
from forge_lsp.live.interface import LiveListener
from forge_lsp.live.service import LiveGraph
from forge_lsp.server.cancellation import interruptible
from forge_lsp.server.options import ServerOptions

log = logging.getLogger(__name__)


class QueryPool:
    """Read connections to one database, checked out by one request at a time."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._lock = threading.Lock()
        self._idle: list[GraphQuery] = []
        self._generation = 0
        self._busy = 0
        self._suspended = False
        self._released = threading.Condition(self._lock)

    def _open(self) -> GraphQuery | None:
        try:
            return GraphQuery.open(self.db_path)
        except StoreError as exc:
            log.debug("no readable graph yet at %s: %s", self.db_path, exc)
            return None

    @contextmanager
    def query(self, cancel: threading.Event | None = None) -> Iterator[GraphQuery | None]:
        """A read connection for the duration of one request; None when there is no graph yet."""
        with self._lock:
            if self._suspended:
                conn = None
                generation = -1
            else:
                generation = self._generation
                conn = self._idle.pop() if self._idle else None
                self._busy += 1
        if generation < 0:
            yield None  # the database is being replaced: no graph for now
            return
        try:
            if conn is None:
                conn = self._open()
            if conn is None:
                yield None
                return
            with interruptible(conn, cancel):
                yield conn
        finally:
            with self._lock:
                self._busy -= 1
                if conn is not None:
                    if generation == self._generation:
                        self._idle.append(conn)
                    else:
                        conn.close()
                self._released.notify_all()

    def invalidate(self) -> None:
        """Close every connection (now if idle, else when released); reopen lazily afterwards.

        Also ends a suspension: the database is there again.
        """
        with self._lock:
            self._generation += 1
            self._suspended = False
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def suspend(self, *, wait: float) -> None:
        """Stop handing out connections and wait (bounded) for the checked-out ones to return.

        Used before the database files are deleted, so that no reader opens them half-deleted;
        requests meanwhile are answered as if there were no graph yet. `invalidate` resumes.
        """
        with self._lock:
            self._generation += 1
            self._suspended = True
            idle, self._idle = self._idle, []
            self._released.wait_for(lambda: self._busy == 0, timeout=wait)
        for conn in idle:
            conn.close()


class Folder:
    """One workspace folder: its settings, its graph and the mapping between its paths."""

    def __init__(
        self,
        uri: str,
        name: str,
        client_root: Path,
        settings: Settings,
        options: ServerOptions,
        listener: LiveListener | None,
    ) -> None:
        self.uri = uri
        self.name = name
        self.settings = settings
        self.root = settings.root.as_posix()  # resolved: how the graph spells paths
        self.client_root = client_root.as_posix()  # as the client spells them
        self.pool = QueryPool(settings.db_path)
        self.live = LiveGraph(
            settings, options=options.live(), listener=listener, readers=self.pool
        )
        self.editor_seq = 0  # the newest editor change sent to the live graph
        self.told_still_indexing = False  # an answer not waited for was said to be incomplete

    def contains(self, graph_path: str) -> bool:
        return inside(graph_path, self.root)

    def to_client_path(self, graph_path: str) -> str:
        """A graph path as the client spells it (below the folder it opened)."""
        if self.client_root != self.root and self.contains(graph_path):
            return self.client_root + graph_path[len(self.root) :]
        return graph_path


class Workspaces:
    """Every workspace folder of the session, and the routing of paths to them."""

    def __init__(self, options: ServerOptions, listener: LiveListener | None = None) -> None:
        self.options = options
        self.listener = listener
        self.folders: list[Folder] = []

    def add(self, uri: str, name: str, client_root: Path) -> tuple[Folder, list[str]]:
        """Add a folder; returns it and the problems found in its settings."""
        settings = load_settings(client_root, overrides=self.options.overrides)
        problems = list(settings.problems)
        taken = {f.settings.db_path for f in self.folders}
        if settings.db_path in taken:
            # One absolute dbPath for several folders: give each folder its own file beside it.
            digest = hashlib.sha1(settings.root.as_posix().encode()).hexdigest()[:8]
            path = settings.db_path
            settings = replace(
                settings, db_path=path.with_name(f"{path.stem}-{digest}{path.suffix}")
            )
            problems.append(
                f"dbPath {path} is shared by several workspace folders;"
                f" {settings.root} uses {settings.db_path}"
            )
        folder = Folder(uri, name, client_root, settings, self.options, self.listener)
        self.folders.append(folder)
        return folder, [f"{name}: {p}" for p in problems]

    def remove(self, uri: str) -> Folder | None:
        for folder in self.folders:
            if folder.uri == uri:
                self.folders.remove(folder)
                folder.live.close(timeout=0)
                folder.pool.invalidate()
                return folder
        return None

    def by_uri(self, uri: str) -> Folder | None:
        return next((f for f in self.folders if f.uri == uri), None)

    def route(self, client_path: str) -> tuple[Folder, str] | None:
        """The folder that holds a client path, and the path as the graph spells it. `..`
        never leads out (`WS/../secrets.py` is outside WS), nor does a symbolic link: the file
        itself must lie inside the folder."""
        client_path = posixpath.normpath(client_path)
        found = self._route(client_path)
        if found is None:
            return None
        folder, graph_path = found
        real = _resolve(graph_path)
        if real is None or not folder.contains(real):
            return None
        return found

    def _route(self, client_path: str) -> tuple[Folder, str] | None:
        best: tuple[Folder, str] | None = None
        best_len = -1
        for folder in self.folders:
            for prefix in {folder.client_root, folder.root}:
                if (inside(client_path, prefix)) and len(prefix) > best_len:
                    best = (folder, folder.root + client_path[len(prefix) :])
                    best_len = len(prefix)
        if best is None:
            resolved = _resolve(client_path)
            if resolved is not None and resolved != client_path:
                return self._route(resolved)
        return best


def _resolve(path: str) -> str | None:
    try:
        return Path(path).resolve().as_posix()
    except (OSError, RuntimeError):
        return None
