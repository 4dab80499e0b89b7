"""The documents an editor has open: while one is open its buffer, not the disk, is the truth.

Which paths are open is asked from any thread (under a lock); the trees and the last text of
each are the updater thread's alone: it reparses a buffer incrementally when the edits are
known, and keeps the facts the next edit builds on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable

from forge_lsp.indexing.worker import Result, content_hash
from forge_lsp.parsing.incremental import ByteEdit, DocumentTree


class OpenDocuments:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: set[str] = set()
        self._trees: dict[str, DocumentTree] = {}  # updater thread only
        self._texts: dict[str, bytes] = {}  # each open document's last text; updater thread only

    # ----- any thread ------------------------------------------------------------------------

    def open(self, path: str) -> None:
        with self._lock:
            self._open.add(path)

    def close(self, path: str) -> bool:
        """Whether the path was open."""
        with self._lock:
            if path not in self._open:
                return False
            self._open.discard(path)
            return True

    def is_open(self, path: str) -> bool:
        with self._lock:
            return path in self._open

    @property
    def paths(self) -> set[str]:
        with self._lock:
            return set(self._open)

    def closed_among(self, paths: Iterable[str]) -> list[str]:
        with self._lock:
            return [p for p in paths if p not in self._open]

    # ----- the updater thread ----------------------------------------------------------------

    def text(self, path: str) -> bytes | None:
        return self._texts.get(path)

    def forget(self, path: str) -> None:
        """The document was closed: the next open starts from a fresh tree."""
        self._trees.pop(path, None)
        self._texts.pop(path, None)

    def parse(
        self,
        path: str,
        data: bytes,
        edits: list[ByteEdit] | None,
        stored: bytes | None,
        ignored: Callable[[str], bool],
    ) -> Result | None:
        """Reparse an open document (incrementally when the edits are known); None when its
        text is what the graph has already (`stored`: its content hash, None when the graph
        does not hold it), or when a document the graph does not hold is one discovery would
        not index either (`ignored`: git ignores it)."""
        tree = self._trees.get(path)
        if tree is None:
            if stored is None and ignored(path):
                self.close(path)
                return None
            tree = self._trees[path] = DocumentTree(path)
            edits = None
        tree.update(data, edits)
        self._texts[path] = data
        facts = tree.extract(data, edits)  # always: the next edit builds on these facts
        digest = content_hash(data)
        if stored == digest:
            return None
        return Result(path, len(data), 0, digest, facts, None)

    def reparse_all(
        self, stored: Callable[[str], bytes | None], ignored: Callable[[str], bool]
    ) -> list[Result]:
        """Every open document from scratch (after a rebuild, whose sync left them out)."""
        self._trees.clear()
        out = []
        for path in sorted(self.paths):
            data = self._texts.get(path)
            result = self.parse(path, data, None, stored(path), ignored) if data else None
            if result is not None:
                out.append(result)
        return out
