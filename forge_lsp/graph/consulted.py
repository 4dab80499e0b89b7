"""What each file's resolution consulted, per reference name: `file_deps` and `module_deps`.

A row says that resolving some references of `file_id` read another file (`file_deps.dep_id`)
or looked up a dotted module name (`module_deps.name_id`), and `names` lists which: the name
ids of those references, IMPORTS for the file's import statements. A change to a file then
re-resolves, in each file that read it, only the references listed, not every reference.

Invariant: a reference whose name is not listed under a dependency did not read it, so its
target holds whatever that dependency becomes. `names` NULL (rows of graphs before v7) means
"every reference": such a row sends its whole file to re-resolution, and a partial update
leaves it NULL.

The names are stored as varints of their sorted differences: a few bytes a row, against the
2.5× source bar for the whole database.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Set

import apsw

IMPORTS = 0  # the key of a file's import statements; name ids are dense from 1

_TABLES = {"file_deps": "dep_id", "module_deps": "name_id"}


def encode_names(names: Iterable[int]) -> bytes:
    """Sorted ids as varints of their differences: a row lists three names on average, most
    below 2**21, so a few bytes."""
    out = bytearray()
    previous = -1  # IMPORTS (0) is a step of one
    for name in sorted(names):
        step = name - previous
        previous = name
        while step >= 0x80:
            out.append(step & 0x7F | 0x80)
            step >>= 7
        out.append(step)
    return bytes(out)


def decode_names(blob: bytes) -> list[int]:
    names: list[int] = []
    name, shift, step = -1, 0, 0
    for byte in blob:
        step |= (byte & 0x7F) << shift
        if byte & 0x80:
            shift += 7
            continue
        name += step
        names.append(name)
        step = shift = 0
    return names


def write_consulted(
    conn: apsw.Connection,
    table: str,
    file_id: int,
    wanted: Mapping[int, Collection[int]],
    existing: bool,
    redone: Set[int] | None,
) -> None:
    """Store, for one file, the names under each dependency in `wanted` (dependency id → name
    ids). `redone`: the names whose references were just re-resolved, when not the whole file;
    the other names keep the dependencies they had. Dependencies left with no name go."""
    column = _TABLES[table]
    have: dict[int, bytes | None] = {}
    if existing:
        have = dict(
            conn.execute(f"SELECT {column}, names FROM {table} WHERE file_id=?", (file_id,))
        )
    stores: list[tuple[int, int, bytes]] = []
    gone: list[tuple[int, int]] = []
    for dep, old in have.items():
        wanted_names = wanted.get(dep)
        if redone is None:
            names = set(wanted_names or ())
        elif old is None:
            continue  # every reference reads it, as far as an older graph knows
        else:
            old_names = decode_names(old)
            if wanted_names is None and redone.isdisjoint(old_names):
                continue  # none of its readers was re-resolved
            names = {n for n in old_names if n not in redone}
            names.update(wanted_names or ())
        if not names:
            gone.append((file_id, dep))
        elif (blob := encode_names(names)) != old:
            stores.append((file_id, dep, blob))
    stores.extend(
        (file_id, dep, encode_names(names)) for dep, names in wanted.items() if dep not in have
    )
    conn.executemany(f"DELETE FROM {table} WHERE file_id=? AND {column}=?", gone)
    stores.sort()  # in key order: appended to the b-tree's last page, not splitting pages
    conn.executemany(
        f"INSERT INTO {table}(file_id, {column}, names) VALUES (?, ?, ?)"
        f" ON CONFLICT(file_id, {column}) DO UPDATE SET names=excluded.names",
        stores,
    )


def consulting(
    conn: apsw.Connection, dep_files: Iterable[int], dep_names: Iterable[int]
) -> dict[int, set[int] | None]:
    """The files whose resolution consulted any of these files or module name ids, each with
    the reference names that did (None: every reference, or not known which)."""
    found: dict[int, set[int] | None] = {}
    for table, deps in (("file_deps", list(dep_files)), ("module_deps", list(dep_names))):
        if not deps:
            continue
        rows = conn.execute(
            f"SELECT file_id, names FROM {table}"
            f" WHERE {_TABLES[table]} IN (SELECT value FROM json_each(?))",
            (json.dumps(deps),),
        )
        for file_id, blob in rows:
            if blob is None:
                found[file_id] = None
                continue
            names = found.setdefault(file_id, set())
            if names is not None:
                names.update(decode_names(blob))
    return found
