"""A first index in batches, the files a question needs first.

A cold index of a large workspace takes seconds to minutes; a question asked meanwhile needs
only part of it. The plan says which part, from the paths discovery found and nothing else
parsed:

- a file's module names depend only on which of its ancestor directories hold an `__init__`
  file, so every batch brings those along, and every file gets its final names at once;
- a dotted name the resolution of a file consulted (found or not: `module_deps`) can be claimed
  by several files (`a.py`, `a/__init__.py`, `a.pyi`, `src/a.py`); all of them are wanted
  before that file's answer is final, as the module map elects its owner among them;
- a reference to a symbol is spelled with one of its names, so the files that can hold one
  are those whose bytes contain a name as a word (a comment or a string is fine to include).

Resolution records every dotted name it consulted, transitively (resolve/memo.py), so the
files a question needs are a fixed point: index the wanted files, read what their resolution
consulted, index its claimants, until nothing new is wanted. The GraphUpdater applies each
batch as an update; that the end state equals a cold index is its invariant, not this plan's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from itertools import islice

from forge_lsp.indexing.discovery import Discovery, SourceFile
from forge_lsp.indexing.modules import INIT_NAMES, names_for, package_dirs


class IndexPlan:
    """The files of a first index not written yet, in discovery order, and which of them a
    question needs. Paths are absolute, as in Discovery; `prefix` is the root with a slash."""

    def __init__(self, discovery: Discovery, prefix: str) -> None:
        self.prefix = prefix
        self.files: dict[str, SourceFile] = {f.path: f for f in discovery.files}
        self.pending: dict[str, None] = dict.fromkeys(self.files)  # ordered set
        rels = {path: self._rel(path) for path in self.files}
        packages = package_dirs(rels.values())
        self._claimants: dict[str, list[str]] = {}
        for path, rel in rels.items():
            for name in names_for(rel, packages):
                self._claimants.setdefault(name, []).append(path)
        present = set(self.files)
        self._inits: dict[str, list[str]] = {}  # directory (absolute) -> its __init__ files
        for directory in {path.rsplit("/", 1)[0] for path in self.files}:
            inits = [f"{directory}/{name}" for name in INIT_NAMES]
            self._inits[directory] = [p for p in inits if p in present]

    def _rel(self, path: str) -> str:
        return path[len(self.prefix) :] if path.startswith(self.prefix) else path

    @property
    def done(self) -> bool:
        return not self.pending

    def take(self, limit: int) -> list[SourceFile]:
        """The next background batch: at most `limit` pending files, with their packages."""
        return self.wanted(list(islice(self.pending, limit)))

    def wanted(self, paths: Iterable[str]) -> list[SourceFile]:
        """The pending files among `paths`, with the pending `__init__` files of the ancestor
        directories of all of them (they decide the module names: an open document is indexed
        from its buffer, its packages from the disk), marked as no longer pending."""
        root = self.prefix.rstrip("/")
        out: dict[str, None] = {}
        for path in paths:
            if path in self.pending:
                out[path] = None
            elif path not in self.files:
                continue
            directory = path.rsplit("/", 1)[0]
            while directory.startswith(self.prefix) or directory == root:
                out.update((p, None) for p in self._inits.get(directory, ()) if p in self.pending)
                if directory == root:
                    break
                directory = directory.rsplit("/", 1)[0]
        for path in out:
            del self.pending[path]
        return [self.files[path] for path in out]

    def drop(self, paths: Iterable[str]) -> None:
        """Paths indexed otherwise (open documents, from their buffers): not pending."""
        for path in paths:
            self.pending.pop(path, None)

    def requeue(self, paths: Iterable[str]) -> None:
        """Paths taken but not indexed (a batch that gave way to a question): next in line."""
        self.pending = {**dict.fromkeys(p for p in paths if p in self.files), **self.pending}

    def claiming(self, modules: Iterable[str]) -> list[str]:
        """Pending files that one of these dotted module names may mean."""
        return [p for m in modules for p in self._claimants.get(m, ()) if p in self.pending]

    def mentioning(self, names: Iterable[str]) -> list[str]:
        """Pending files whose bytes hold one of `names` as a word."""
        words = sorted({n.encode() for n in names if n}, key=len, reverse=True)
        if not words:
            return []
        pattern = re.compile(
            rb"(?<![A-Za-z0-9_])(?:" + b"|".join(map(re.escape, words)) + rb")(?![A-Za-z0-9_])"
        )
        found = []
        for path in self.pending:
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                found.append(path)  # let the index say what is wrong with it
                continue
            # `in` first: a plain search is ten times faster than the pattern's
            if any(word in data for word in words) and pattern.search(data):
                found.append(path)
        return found
