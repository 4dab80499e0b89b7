"""Deterministic sampling of definitions (functions, methods, classes) from a corpus.

The sample is drawn with ``random.Random(seed)`` from definitions sorted by location, so the same
corpus and seed always give the same positions, which is what makes the oracle cache reusable.
"""

from __future__ import annotations

import ast
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.textpos import Location, byte_to_codepoint, find_def_name_column, split_lines

KINDS = ("function", "method", "class")
DEFAULT_COUNTS = {"function": 40, "method": 40, "class": 30}


@dataclass(frozen=True, order=True)
class Symbol:
    """A sampled definition; ``line``/``column`` are 1-based, column in code points."""

    path: str
    line: int
    column: int
    name: str
    kind: str
    qualname: str

    @property
    def key(self) -> str:
        """Cache key: stable across machines because ``path`` is corpus-relative."""
        return f"{self.path}:{self.line}:{self.column}"

    @property
    def location(self) -> Location:
        """The definition's name token as a comparable location."""
        return (self.path, self.line, self.column)


def is_dunder(name: str) -> bool:
    """``__init__``/``__str__``-style names are referenced implicitly everywhere: too generic."""
    return len(name) > 4 and name.startswith("__") and name.endswith("__")


def _kind_of(node: ast.AST, scope: ast.AST) -> str | None:
    """Classify a def/class by its nearest enclosing scope; locals and nested classes are skipped."""
    is_def = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
    if is_def and isinstance(scope, ast.Module):
        return "function"
    if is_def and isinstance(scope, ast.ClassDef):
        return "method"
    if isinstance(node, ast.ClassDef) and isinstance(scope, ast.Module):
        return "class"
    return None


def _walk_scopes(
    node: ast.AST, scope: ast.AST, prefix: str
) -> Iterator[tuple[ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef, ast.AST, str]]:
    """Yield (definition, enclosing scope, qualname) for every def/class, tracking scopes."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            qualname = f"{prefix}{child.name}"
            yield child, scope, qualname
            yield from _walk_scopes(child, child, qualname + ".")
        else:
            yield from _walk_scopes(child, scope, prefix)


def iter_definitions(relpath: str, text: str) -> Iterator[Symbol]:
    """Yield every sampleable definition in one file, positioned on its name token.

    ``ast`` reports the statement start in UTF-8 bytes, not the name, so the name column is found
    by scanning the source line past ``def``/``async def``/``class``.
    """
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return
    lines = split_lines(text)
    for node, scope, qualname in _walk_scopes(tree, tree, ""):
        kind = _kind_of(node, scope)
        if kind is None or is_dunder(node.name):
            continue
        line = lines[node.lineno - 1]
        column = find_def_name_column(line, byte_to_codepoint(line, node.col_offset), node.name)
        if column is None:
            continue
        yield Symbol(relpath, node.lineno, column + 1, node.name, kind, qualname)


def iter_python_files(root: Path, include_tests: bool) -> Iterator[Path]:
    """Corpus ``.py`` files in sorted order; ``tests/`` definitions are mostly unreferenced."""
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root).parts
        if not include_tests and parts[0] == "tests":
            continue
        if any(part.startswith(".") for part in parts):
            continue
        yield path


def collect_definitions(root: Path, include_tests: bool = False) -> list[Symbol]:
    """All sampleable definitions of the corpus, sorted by location."""
    symbols: list[Symbol] = []
    for path in iter_python_files(root, include_tests):
        text = path.read_text(encoding="utf-8", errors="replace")
        symbols.extend(iter_definitions(path.relative_to(root).as_posix(), text))
    return sorted(symbols)


def choose_sample(
    definitions: Sequence[Symbol], seed: int, counts: dict[str, int] | None = None
) -> list[Symbol]:
    """Pick ``counts[kind]`` symbols per kind with a seeded RNG; deterministic for a seed."""
    counts = counts or DEFAULT_COUNTS
    rng = random.Random(seed)
    chosen: list[Symbol] = []
    for kind in KINDS:
        pool = sorted(s for s in definitions if s.kind == kind)
        chosen.extend(sorted(rng.sample(pool, min(counts.get(kind, 0), len(pool)))))
    return chosen


def asking_order(root: Path, positions: int, seed: int) -> list[Symbol]:
    """`positions` definitions of a corpus, a third each function, method and class, in the
    seeded random order the cold-start benches ask them in."""
    per_kind = max(1, positions // 3)
    counts = {"function": per_kind, "method": per_kind, "class": positions - 2 * per_kind}
    symbols = choose_sample(collect_definitions(root), seed, counts)
    random.Random(seed).shuffle(symbols)
    return symbols
