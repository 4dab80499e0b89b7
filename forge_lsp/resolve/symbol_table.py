"""Every symbol's file, name, kind and parent, in parallel arrays indexed by symbol id.

The Program needs these four facts for every symbol of the workspace. As one object and one dict
entry per symbol they cost about 170 bytes each, most of a 100,000-file program's memory; in
arrays they cost 17 (names are interned strings, shared). Symbol ids are SQLite row ids, dense
from 1, so the arrays are indexed directly; the ids of removed symbols leave holes.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from dataclasses import dataclass

from forge_lsp.parsing.facts import CLASS, FIELD, FUNCTION, METHOD, MODULE, VARIABLE

KINDS: tuple[str, ...] = ("", MODULE, CLASS, FUNCTION, METHOD, VARIABLE, FIELD)
_CODES = {kind: code for code, kind in enumerate(KINDS) if kind}
_ABSENT = 0
_NO_PARENT = 0  # symbol ids start at 1


@dataclass(slots=True)
class SymbolInfo:
    file_id: int
    name: str
    kind: str
    parent_id: int | None


class SymbolTable:
    def __init__(self) -> None:
        self._file = array("q")
        self._parent = array("q")
        self._kind = bytearray()
        self._name: list[str] = []
        self._count = 0

    def _grow(self, sid: int) -> None:
        missing = sid + 1 - len(self._kind)
        if missing > 0:
            extra = max(missing, len(self._kind) // 4, 1024)  # amortised growth
            self._file.extend(array("q", [0]) * extra)
            self._parent.extend(array("q", [0]) * extra)
            self._kind.extend(bytes(extra))
            self._name.extend([""] * extra)

    def add(self, sid: int, file_id: int, name: str, kind: str, parent_id: int | None) -> None:
        if sid <= 0:
            raise ValueError(f"symbol ids start at 1, not {sid}")
        self._grow(sid)
        if self._kind[sid] == _ABSENT:
            self._count += 1
        self._file[sid] = file_id
        self._parent[sid] = _NO_PARENT if parent_id is None else parent_id
        self._kind[sid] = _CODES[kind]
        self._name[sid] = name

    def __contains__(self, sid: object) -> bool:
        return isinstance(sid, int) and 0 < sid < len(self._kind) and self._kind[sid] != _ABSENT

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[int]:
        kinds = self._kind
        return (sid for sid in range(1, len(kinds)) if kinds[sid] != _ABSENT)

    def pop(self, sid: int) -> None:
        if sid in self:
            self._kind[sid] = _ABSENT
            self._name[sid] = ""
            self._count -= 1

    def get(self, sid: int | None) -> SymbolInfo | None:
        if sid is None or sid not in self:
            return None
        parent = self._parent[sid]
        return SymbolInfo(
            self._file[sid],
            self._name[sid],
            KINDS[self._kind[sid]],
            None if parent == _NO_PARENT else parent,
        )

    def __getitem__(self, sid: int) -> SymbolInfo:
        info = self.get(sid)
        if info is None:
            raise KeyError(sid)
        return info

    # Allocation-free accessors for the hot paths of resolution (the id must be present).
    def kind(self, sid: int) -> str:
        return KINDS[self._kind[sid]]

    def file_id(self, sid: int) -> int:
        return self._file[sid]

    def parent(self, sid: int) -> int | None:
        parent = self._parent[sid]
        return None if parent == _NO_PARENT else parent
