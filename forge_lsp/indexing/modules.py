"""Dotted module names for workspace files.

A file can be importable under several names: from the directory above its outermost package
(`django/db/models/base.py` → `django.db.models.base`), from the workspace root (namespace
packages, scripts), and from a `src/` layout. All are registered; the first is the primary one.
"""

from __future__ import annotations

_INIT_NAMES = ("__init__.py", "__init__.pyi")


def module_names(rels: list[str]) -> dict[str, list[str]]:
    package_dirs = {
        rel.rsplit("/", 1)[0] for rel in rels if rel.endswith(_INIT_NAMES) and "/" in rel
    }
    names: dict[str, list[str]] = {}
    for rel in rels:
        dirs = rel.split("/")
        filename = dirs.pop()
        stem = filename.rsplit(".", 1)[0]
        tail = [] if stem == "__init__" else [stem]
        # The package chain: innermost directories that each hold an __init__ file.
        start = len(dirs)
        while start > 0 and "/".join(dirs[:start]) in package_dirs:
            start -= 1
        candidates = [dirs[start:] + tail, dirs + tail]
        if dirs and dirs[0] == "src":
            candidates.append(dirs[1:] + tail)
        found: list[str] = []
        for parts in candidates:
            dotted = ".".join(parts)
            if dotted and dotted not in found:
                found.append(dotted)
        names[rel] = found
    return names


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
