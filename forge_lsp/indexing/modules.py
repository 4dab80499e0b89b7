"""Dotted module names for workspace files.

A file can be importable under several names: from the directory above its outermost package
(`django/db/models/base.py` → `django.db.models.base`; a directory without one inside a package
is a namespace portion: `flask/sansio/app.py` → `flask.sansio.app`), from the workspace root (namespace
packages, scripts), and from a `src/` layout. All are registered; the first is the one it is shown by.
"""

from __future__ import annotations

from collections.abc import Container, Iterable

INIT_NAMES = ("__init__.py", "__init__.pyi")


def is_init(rel: str) -> bool:
    return rel.endswith(INIT_NAMES) and (rel.rsplit("/", 1)[-1] in INIT_NAMES)


def package_dirs(rels: Iterable[str]) -> set[str]:
    """Directories (relative) that hold an __init__ file: a file's names depend on these only."""
    return {rel.rsplit("/", 1)[0] for rel in rels if "/" in rel and is_init(rel)}


def names_for(rel: str, packages: set[str]) -> list[str]:
    """The dotted names the file `rel` is importable as; the first is the one it is shown by
    (from its outermost package, so `httpx._client` for `src/httpx/_client.py`)."""
    dirs = rel.split("/")
    filename = dirs.pop()
    stem = filename.rsplit(".", 1)[0]
    tail = [] if stem == "__init__" else [stem]
    # The package chain: innermost directories that each hold an __init__ file.
    start = len(dirs)
    while start > 0 and "/".join(dirs[:start]) in packages:
        start -= 1
    candidates = [dirs[start:] + tail, dirs + tail]
    # A directory without an __init__ file inside a package is a namespace portion of it
    # (`flask/sansio/app.py` is `flask.sansio.app`): named from the outermost package.
    outermost = next((k for k in range(start) if "/".join(dirs[: k + 1]) in packages), None)
    if outermost is not None:
        candidates.insert(0, dirs[outermost:] + tail)
    if dirs and dirs[0] == "src":
        candidates.append(dirs[1:] + tail)
    found: list[str] = []
    for parts in candidates:
        dotted = ".".join(parts)
        if dotted and dotted not in found:
            found.append(dotted)
    return found


def is_test_file(rel: str) -> bool:
    """pytest's conventions: test_*.py, *_test.py, conftest.py, or anything under a tests/ dir."""
    parts = rel.split("/")
    name = parts[-1]
    if (
        name.startswith("test_")
        or name.endswith(("_test.py", "_tests.py"))
        or name == "conftest.py"
    ):
        return True
    return any(part in ("tests", "test", "testing") for part in parts[:-1])


def with_packages(names: Iterable[str]) -> set[str]:
    """The names and every package above them (`a.b.c` → `a`, `a.b`, `a.b.c`)."""
    out: set[str] = set()
    for name in names:
        parts = name.split(".")
        out.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return out


class ModuleNames:
    """The module names of a workspace's files, as files come and go.

    Names are not kept: a file's are names_for(rel, self.packages), always, between updates
    (`rename` keeps that true). Only which files have names is kept, by directory, which is
    what an __init__ file that comes or goes needs; a list of names per file was 25 MB of a
    server at 100,000 files.
    """

    def __init__(self, prefix: str, paths: Iterable[str]) -> None:
        self._prefix = prefix  # the workspace root, with a trailing slash
        self._by_dir: dict[str, set[str]] = {}  # directory (relative) -> its files with names
        self.packages: set[str] = set()  # package_dirs of every file, found in the same pass
        # one pass, inlined: a restart builds this for every file before it can be ready
        by_dir, packages, cut = self._by_dir, self.packages, len(prefix)
        for path in paths:
            rel = path[cut:] if path.startswith(prefix) else path
            directory, slash, name = rel.rpartition("/")  # as _parent: "" at the top
            by_dir.setdefault(directory, set()).add(path)
            if slash and name in INIT_NAMES:
                packages.add(directory)

    def rel(self, path: str) -> str:
        return path[len(self._prefix) :] if path.startswith(self._prefix) else path

    def names_of(self, path: str) -> list[str]:
        """The dotted module names of a known file (none for any other path)."""
        if path not in self._by_dir.get(self._parent(path), ()):
            return []
        return names_for(self.rel(path), self.packages)

    def rename(
        self, added: set[str], removed: list[str], stored: Container[str]
    ) -> tuple[set[str], set[str]]:
        """Module names after files come and go: only theirs change, or, when an __init__ file
        comes or goes, those of the files below its directory. Returns the `stored` files whose
        names changed, and every dotted name whose meaning may have moved."""
        gone = set(removed)
        affected = added | gone
        if not affected:
            return set(), set()
        inits = [self.rel(p) for p in affected if is_init(self.rel(p))]
        dirs = {rel.rsplit("/", 1)[0] for rel in inits if "/" in rel}
        old = {p: self.names_of(p) for p in affected}  # before the packages change
        if dirs:
            was_packages = set(self.packages)
            for d in dirs:
                present = any(
                    (p in stored or p in added) and p not in gone
                    for p in (f"{self._prefix}{d}/{name}" for name in INIT_NAMES)
                )
                (self.packages.add if present else self.packages.discard)(d)
            # only the named files below these directories: not every file, batch after batch
            below = [p for p in self._named_below(dirs) if p not in gone]
            for p in below:
                if p not in old:
                    old[p] = names_for(self.rel(p), was_packages)
            affected.update(below)
        for p in gone:
            self._by_dir.get(self._parent(p), set()).discard(p)
        for p in affected - gone:
            self._by_dir.setdefault(self._parent(p), set()).add(p)
        new = {p: self.names_of(p) for p in affected}
        renamed = {p for p in affected if p in stored and p not in gone and new[p] != old[p]}
        candidates = with_packages(n for p in affected for n in (*old[p], *new[p]))
        return renamed, candidates

    def _parent(self, path: str) -> str:
        rel = self.rel(path)
        return rel.rsplit("/", 1)[0] if "/" in rel else ""

    def _named_below(self, dirs: set[str]) -> list[str]:
        """The files with names in these directories or below them."""
        out: list[str] = []
        for directory, paths in self._by_dir.items():
            while directory not in dirs and "/" in directory:
                directory = directory.rsplit("/", 1)[0]
            if directory in dirs:
                out.extend(paths)
        return out
