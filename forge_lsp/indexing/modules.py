"""Dotted module names for workspace files.

A file can be importable under several names: from the directory above its outermost package
(`django/db/models/base.py` → `django.db.models.base`; a directory without one inside a package
is a namespace portion: `flask/sansio/app.py` → `flask.sansio.app`), from the workspace root (namespace
packages, scripts), and from a `src/` layout. All are registered; the first is the one it is shown by.
"""

from __future__ import annotations

from collections.abc import Iterable

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
