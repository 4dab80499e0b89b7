"""Workspace symbol search, for `workspace/symbol` and `forge-lsp symbols`.

A bare name is matched exactly, then case-insensitively, by prefix, by substring, and only when
none of those matched, fuzzily (its characters in order): `send` must not drown in `s…e…n…d`.
A dotted name (`Client.send`, `httpx.Client`, `httpx._client.Client.send`) is a name (or, when
no symbol has that name, its start) whose qualifiers must appear, in order, among the module
path and the enclosing classes or functions: those that end the path rank first (`Client.send`
is the method), then those anywhere in it (`httpx.Client` is `httpx._client.Client`,
re-exported by `httpx`).

Modules are found by their dotted names the same way (`models`, `shop.models`), their last part
matched as a name is (exactly, then by prefix: never by substring or fuzzily, which every long
package path would satisfy).

Among equals, what a user most likely means comes first: code before tests, top-level and
class members before closures, classes before functions before methods, then by path.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Collection, Iterable
from typing import Protocol

import apsw

from forge_lsp.graph.model import Symbol

KIND_RANK = {"class": 0, "function": 1, "method": 2, "module": 3, "variable": 4, "field": 5}
_FUZZY = 5  # the rank of a fuzzy match: used only when nothing better matched

_PREFIX = 3  # the worst rank of a match by prefix: what a module's last part must reach


class SymbolSource(Protocol):
    """Where the symbols found are read from (the GraphQuery: this module ranks, it builds no
    Symbol)."""

    def symbols(self, ids: Iterable[int]) -> dict[int, Symbol]: ...

    def module_symbols(self, file_ids: Collection[int]) -> list[Symbol]: ...


def search_symbols(
    conn: apsw.Connection, query: str, limit: int, source: SymbolSource
) -> list[Symbol]:
    query = query.strip().strip(".")
    if not query:
        return []
    *qualifiers, name = query.split(".")
    if not name or any(not q for q in qualifiers):
        return []
    modules = _modules(conn, qualifiers, name, limit, source)
    if qualifiers:
        matches = _name_matches(conn, name, fuzzy=False)
        return _qualified(conn, matches, qualifiers, limit, source, modules)
    return _bare(conn, name, limit, source, modules)


def _bare(
    conn: apsw.Connection,
    name: str,
    limit: int,
    source: SymbolSource,
    modules: list[tuple[int, int, int, Symbol]],
) -> list[Symbol]:
    """The `limit` first symbols for a bare name, the modules found beside them. A match ranks
    by (rank, length) of its name first, so the names are read best first until `limit`
    matches rank above everything the names left could give; of one name, only the `limit`
    first symbols can be in the answer (`__init__` has 176,000 at 100,000 files): they are
    ranked from their rows, and only the answer's are built."""
    out: list[tuple[tuple[object, ...], int]] = [
        ((rank, length, *_module_order(sym)), sym.id) for _, rank, length, sym in modules
    ]
    module_keys = sorted((rank, length) for _, rank, length, _ in modules)
    # fuzzily only when nothing else matched: a module neither
    matches = _name_matches(conn, name, fuzzy=not modules)
    named = 0  # the symbols of names in `out`
    for n, (rank, length, nid) in enumerate(matches):
        rows = conn.execute(_NAMED, (nid,))
        ranked = sorted((_order(*order), sid) for sid, _file, _qualname, *order in rows)
        out.extend(((rank, length, *order), sid) for order, sid in ranked[:limit])
        named += min(len(ranked), limit)
        following = matches[n + 1][:2] if n + 1 < len(matches) else None
        if (
            following is not None
            and following > (rank, length)
            and named + bisect_left(module_keys, following) >= limit
        ):
            break
    return _answer(out, limit, source)


# what the search reads of every symbol with a name id: its id, file and qualified name, then
# the columns _order ranks it by
_NAMED = (
    "SELECT s.id, s.file_id, s.qualname, f.is_test, p.kind, s.kind, f.path, s.line FROM symbols s"
    " JOIN files f ON f.id = s.file_id LEFT JOIN symbols p ON p.id = s.parent_id"
    " WHERE s.name_id = ?"
)


def _rank(text: str, query: str, lowered: str) -> int | None:
    """How well `text` matches `query` (`lowered` is its lower case), short of fuzzily: 0
    exactly, 1 but for case, 2 by prefix, 3 by prefix but for case, 4 as a substring."""
    if text == query:
        return 0
    low = text.lower()
    if low == lowered:
        return 1
    if text.startswith(query):
        return 2
    if low.startswith(lowered):
        return _PREFIX
    if lowered in low:
        return 4
    return None


# The names a symbol can have: identifiers, and names some symbol has. Dotted module names,
# receivers, types and the names of what only the outside defines are most of the names table
# (318,000 of its 375,000 names contain `acme` at 100,000 files); asking each of them for its
# symbols was 265,000 queries. A name with a character outside ASCII is left to Python, which
# folds its case as LIKE does not.
_CANDIDATES = (
    "SELECT id, text FROM names n WHERE text NOT LIKE '<%'"
    " AND ((text LIKE ? ESCAPE '\\' AND text NOT GLOB '*[^A-Za-z0-9_]*') OR text GLOB '*[^ -~]*')"
    " AND EXISTS (SELECT 1 FROM symbols s WHERE s.name_id = n.id)"
)


def _name_matches(conn: apsw.Connection, query: str, fuzzy: bool) -> list[tuple[int, int, int]]:
    """(rank, length, name id) of the symbols' names matching `query`, best first; fuzzy
    matches only when nothing else matched."""
    lowered = query.lower()
    pattern = re.compile(".*?".join(re.escape(c) for c in lowered))
    # one scan: the characters in order (fuzzily) hold every substring match too. LIKE ignores
    # the case of ASCII letters only: a query beyond ASCII reads every name
    parts = query if fuzzy else [query]
    like = "%" + "%".join(map(_like_escaped, parts)) + "%" if query.isascii() else "%"
    scored: list[tuple[int, int, int]] = []
    for nid, text in conn.execute(_CANDIDATES, (like,)):
        rank = _rank(text, query, lowered) if text else None
        if rank is None:
            if not fuzzy or not text or not pattern.search(text.lower()):
                continue
            rank = _FUZZY
        scored.append((rank, len(text), nid))
    scored.sort()
    if scored and scored[0][0] < _FUZZY:
        scored = [s for s in scored if s[0] < _FUZZY]
    return scored


def _like_escaped(text: str) -> str:
    """`text` for a LIKE pattern with ESCAPE '\\': its wildcards as themselves."""
    return re.sub(r"([\\%_])", r"\\\1", text)


def _modules(
    conn: apsw.Connection,
    qualifiers: list[str],
    name: str,
    limit: int,
    source: SymbolSource,
) -> list[tuple[int, int, int, Symbol]]:
    """(fit, rank, length, module symbol) of the modules whose last part starts with `name`
    (any case) and whose packages hold the qualifiers in order (`_fit`), the `limit` first
    as the answer ranks them (a module is no nested symbol, and all are of one kind); a file
    importable under several names counts by its best."""
    lowered = name.lower()
    escaped = _like_escaped(name)
    # beyond ASCII, LIKE would not fold the case: every module then, and Python decides
    likes = (f"{escaped}%", f"%.{escaped}%") if name.isascii() else ("%", "%")
    best: dict[int, tuple[int, int, int, bool, str]] = {}
    for file_id, dotted, path, is_test in conn.execute(
        "SELECT m.file_id, m.name, f.path, f.is_test FROM modules m JOIN files f ON f.id = m.file_id"
        " WHERE m.name LIKE ? ESCAPE '\\' OR m.name LIKE ? ESCAPE '\\'",
        likes,
    ):
        *packages, last = dotted.split(".")
        rank = _rank(last, name, lowered)
        fit = _fit(qualifiers, packages) if qualifiers else 0
        if rank is None or rank > _PREFIX or fit is None:
            continue
        key = (fit, rank, len(last), bool(is_test), path)
        if file_id not in best or key < best[file_id]:
            best[file_id] = key
    if qualifiers and any(key[1] <= 1 for key in best.values()):
        # _qualified keeps only the names themselves then
        best = {f: key for f, key in best.items() if key[1] <= 1}
    first = sorted(best, key=best.__getitem__)[:limit]
    return [(*best[sym.file_id][:3], sym) for sym in source.module_symbols(first)]


def _qualified(
    conn: apsw.Connection,
    matches: Iterable[tuple[int, int, int]],
    qualifiers: list[str],
    limit: int,
    source: SymbolSource,
    found_modules: list[tuple[int, int, int, Symbol]],
) -> list[Symbol]:
    """The `limit` first symbols for a dotted name: those of the names matched whose module
    path and enclosing symbols hold the qualifiers (`_fit`), the modules found beside them;
    ranked from their rows, the module names of their files read at once."""
    out: list[tuple[tuple[object, ...], int, int]] = [  # (key, rank, symbol id)
        ((fit, rank, length, *_module_order(sym)), rank, sym.id)
        for fit, rank, length, sym in found_modules
    ]
    rows = [
        (rank, length, row)
        for rank, length, nid in matches
        if rank <= _PREFIX  # the last part is a name, or its start: not any substring
        for row in conn.execute(_NAMED, (nid,))
    ]
    modules: dict[int, list[list[str]]] = {row[1]: [] for *_, row in rows}
    for file_id, dotted in conn.execute(
        "SELECT file_id, name FROM modules WHERE file_id IN (SELECT value FROM json_each(?))",
        (json.dumps(sorted(modules)),),
    ):
        modules[file_id].append(dotted.split("."))
    for rank, length, (sid, file_id, qualname, *order) in rows:
        enclosing = qualname.split(".")[:-1]
        paths = [module + enclosing for module in modules[file_id] or [[]]]
        fits = [f for path in paths if (f := _fit(qualifiers, path)) is not None]
        if fits:
            out.append(((min(fits), rank, length, *_order(*order)), rank, sid))
    if any(rank <= 1 for _, rank, _ in out):  # the name itself: its prefixes are noise
        out = [item for item in out if item[1] <= 1]
    return _answer([(key, sid) for key, _, sid in out], limit, source)


def _fit(qualifiers: list[str], path: list[str]) -> int | None:
    """0 when `path` ends with the qualifiers, 1 when they appear in it in order, else None."""
    if path[len(path) - len(qualifiers) :] == qualifiers:
        return 0
    at = 0
    for part in path:
        if at < len(qualifiers) and part == qualifiers[at]:
            at += 1
    return 1 if at == len(qualifiers) else None


def _answer(
    ranked: list[tuple[tuple[object, ...], int]], limit: int, source: SymbolSource
) -> list[Symbol]:
    """The symbols of the `limit` best of `ranked` ((key, symbol id) each), built."""
    ranked.sort()
    ids = [sid for _, sid in ranked[:limit]]
    found = source.symbols(ids)
    return [found[sid] for sid in ids if sid in found]


def _module_order(sym: Symbol) -> tuple[object, ...]:
    """_order for a module symbol, which has no parent."""
    return _order(sym.is_test, None, sym.kind, sym.path, sym.range.line)


def _order(
    is_test: object, parent_kind: str | None, kind: str, path: str, line: int
) -> tuple[object, ...]:
    """Among equal matches: code before tests, top-level and class members before closures,
    classes before functions before methods, then by path and line."""
    nested = int(parent_kind in ("function", "method"))
    return (bool(is_test), nested, KIND_RANK.get(kind, 9), path, line)
