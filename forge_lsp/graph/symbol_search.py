"""Workspace symbol search, for `workspace/symbol` and `forge-lsp symbols`.

A bare name is matched exactly, then case-insensitively, by prefix, by substring, and only when
none of those matched, fuzzily (its characters in order): `send` must not drown in `s…e…n…d`.
A dotted name (`Client.send`, `httpx.Client`, `httpx._client.Client.send`) is a name (or, when
no symbol has that name, its start) whose qualifiers must appear, in order, among the module
path and the enclosing classes or functions: those that end the path rank first (`Client.send`
is the method), then those anywhere in it (`httpx.Client` is `httpx._client.Client`,
re-exported by `httpx`).

Among equals, what a user most likely means comes first: code before tests, top-level and
class members before closures, classes before functions before methods, then by path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import apsw

from forge_lsp.graph.model import Symbol

KIND_RANK = {"class": 0, "function": 1, "method": 2, "module": 3, "variable": 4, "field": 5}
_FUZZY = 5  # the rank of a fuzzy match: used only when nothing better matched

SymbolsNamed = Callable[[int], list[Symbol]]  # every symbol with this name id


def search_symbols(
    conn: apsw.Connection, query: str, limit: int, symbols_named: SymbolsNamed
) -> list[Symbol]:
    query = query.strip().strip(".")
    if not query:
        return []
    *qualifiers, name = query.split(".")
    if not name or any(not q for q in qualifiers):
        return []
    if qualifiers:
        matches = _name_matches(conn, name, fuzzy=False)
        return _qualified(conn, matches, qualifiers, limit, symbols_named)
    out: list[tuple[tuple[object, ...], Symbol]] = []
    for rank, length, nid in _name_matches(conn, name, fuzzy=True):
        out.extend(((rank, length, *_tiebreak(conn, sym)), sym) for sym in symbols_named(nid))
        if len(out) >= limit * 2 and rank > 1:
            break
    out.sort(key=lambda item: item[0])
    return [sym for _, sym in out[:limit]]


def _name_matches(conn: apsw.Connection, query: str, fuzzy: bool) -> list[tuple[int, int, int]]:
    """(rank, length, name id) of the names matching `query`, best first."""
    lowered = query.lower()
    pattern = re.compile(".*?".join(re.escape(c) for c in lowered))
    scored: list[tuple[int, int, int]] = []
    for nid, text in conn.execute(
        "SELECT id, text FROM names WHERE text != '' AND text NOT LIKE '<%'"
    ):
        low = text.lower()
        if text == query:
            rank = 0
        elif low == lowered:
            rank = 1
        elif text.startswith(query):
            rank = 2
        elif low.startswith(lowered):
            rank = 3
        elif lowered in low:
            rank = 4
        elif fuzzy and pattern.search(low):
            rank = _FUZZY
        else:
            continue
        scored.append((rank, len(text), nid))
    scored.sort()
    if scored and scored[0][0] < _FUZZY:
        scored = [s for s in scored if s[0] < _FUZZY]
    return scored


def _qualified(
    conn: apsw.Connection,
    matches: Iterable[tuple[int, int, int]],
    qualifiers: list[str],
    limit: int,
    symbols_named: SymbolsNamed,
) -> list[Symbol]:
    modules: dict[int, list[list[str]]] = {}
    out: list[tuple[tuple[object, ...], int, Symbol]] = []
    for rank, length, nid in matches:
        if rank > 3:  # the last part is a name, or its start: not any substring
            break
        for sym in symbols_named(nid):
            if sym.file_id not in modules:
                modules[sym.file_id] = [
                    name.split(".")
                    for (name,) in conn.execute(
                        "SELECT name FROM modules WHERE file_id = ?", (sym.file_id,)
                    )
                ]
            enclosing = sym.qualname.split(".")[:-1]
            paths = [module + enclosing for module in modules[sym.file_id] or [[]]]
            fits = [f for path in paths if (f := _fit(qualifiers, path)) is not None]
            if fits:
                fit = min(fits)
                out.append(((fit, rank, length, *_tiebreak(conn, sym)), rank, sym))
    if any(rank <= 1 for _, rank, _ in out):  # the name itself: its prefixes are noise
        out = [item for item in out if item[1] <= 1]
    out.sort(key=lambda item: item[0])
    return [sym for _, _, sym in out[:limit]]


def _fit(qualifiers: list[str], path: list[str]) -> int | None:
    """0 when `path` ends with the qualifiers, 1 when they appear in it in order, else None."""
    if path[len(path) - len(qualifiers) :] == qualifiers:
        return 0
    at = 0
    for part in path:
        if at < len(qualifiers) and part == qualifiers[at]:
            at += 1
    return 1 if at == len(qualifiers) else None


def _tiebreak(conn: apsw.Connection, sym: Symbol) -> tuple[object, ...]:
    nested = 0
    if sym.parent_id is not None:
        parent = conn.execute("SELECT kind FROM symbols WHERE id = ?", (sym.parent_id,)).fetchall()
        nested = int(bool(parent) and parent[0][0] in ("function", "method"))
    return (sym.is_test, nested, KIND_RANK.get(sym.kind, 9), sym.path, sym.range.line)
