"""Every symbol's file, kind and parent, in parallel arrays indexed by symbol id.

Resolution asks these of any symbol of the workspace (names live in the namespaces and class
members that point at symbols). As one object and one dict entry per symbol they cost about 170
bytes each, most of a 100,000-file program's memory; in arrays they cost 9 (file and parent in
four bytes each, widened to eight when an id passes 2**31). Symbol ids are SQLite row ids,
dense from 1, so the arrays are indexed directly; removed ids leave holes.
"""

from __future__ import annotations

from array import array

from forge_lsp.parsing.facts import CLASS, FIELD, FUNCTION, METHOD, MODULE, VARIABLE

KINDS: tuple[str, ...] = ("", MODULE, CLASS, FUNCTION, METHOD, VARIABLE, FIELD)
_CODES = {kind: code for code, kind in enumerate(KINDS) if kind}
_ABSENT = 0
_NO_PARENT = 0  # symbol ids start at 1


class SymbolTable:
    def __init__(self) -> None:
        self._file = array("i")
        self._parent = array("i")
        self._kind = bytearray()

    def _grow(self, sid: int) -> None:
        missing = sid + 1 - len(self._kind)
        if missing > 0:
            extra = max(missing, len(self._kind) // 4, 1024)  # amortised growth
            self._file.extend(array(self._file.typecode, [0]) * extra)
            self._parent.extend(array(self._parent.typecode, [0]) * extra)
            self._kind.extend(bytes(extra))

    def add(self, sid: int, file_id: int, kind: str, parent_id: int | None) -> None:
        if sid <= 0:
            raise ValueError(f"symbol ids start at 1, not {sid}")
        self._grow(sid)
        parent = _NO_PARENT if parent_id is None else parent_id
        try:
            self._file[sid] = file_id
            self._parent[sid] = parent
        except OverflowError:  # an id past 2**31: eight bytes each from now on
            self._file, self._parent = array("q", self._file), array("q", self._parent)
            self._file[sid] = file_id
            self._parent[sid] = parent
        self._kind[sid] = _CODES[kind]

    def __contains__(self, sid: object) -> bool:
        return isinstance(sid, int) and 0 < sid < len(self._kind) and self._kind[sid] != _ABSENT

    def pop(self, sid: int) -> None:
        if sid in self:
            self._kind[sid] = _ABSENT

    # The id must be present (`in`): these are the hot paths of resolution, without allocation.
    def kind(self, sid: int) -> str:
        return KINDS[self._kind[sid]]

    def file_id(self, sid: int) -> int:
        return self._file[sid]

    def parent(self, sid: int) -> int | None:
        parent = self._parent[sid]
        return None if parent == _NO_PARENT else parent
