"""Every file's FileInfo, most of them packed into one array of ids.

At 100,000 files the per-file tuples, arrays and lists of FileInfo (bindings, symbols, imports,
types) were about 185 MB of the program, most of it object headers: one file's names are a
few dozen pointers, each behind its own object. Resolution reads few files at a time (the one
it resolves and those it imports), so a file not read lately is kept as a tuple holding one
array of ints, its strings as ids of an interner (the graph's name table), its imports as ids
of statements shared by every file; reading it builds its FileInfo again, and the last
`hot_files` read stay built.

Invariants: a FileInfo handed out is never changed by the table (packing builds a new record,
so a caller holding an info while others are packed keeps reading what it read); changes go
through `mutable`, which forgets the packed copy; unpacking gives back equal fields.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator
from sys import intern
from typing import Protocol

from forge_lsp.resolve.file_info import FileInfo, ImportStatement

HOT_FILES = 4096  # files kept built, the last ones read (about 2 KB each)

# (path, module names, is package, exports, module symbol, ids): ids are four counts (bindings,
# symbols, imports, typed symbols), then the binding name ids, the symbol ids, the statement
# ids, the typed symbols' ids and their type name ids
Packed = tuple[str, list[str], bool, list[str] | None, int | None, "array[int]"]


class Interner(Protocol):
    """Strings as dense ids (graph/names.py's NameTable is one)."""

    def id(self, text: str) -> int: ...

    def texts(self) -> list[str]: ...


class Strings:
    """An interner of its own, for a program built without a graph."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._texts: list[str] = []

    def id(self, text: str) -> int:
        nid = self._ids.get(text)
        if nid is None:
            nid = self._ids[text] = len(self._texts)
            self._texts.append(intern(text))
        return nid

    def texts(self) -> list[str]:
        return self._texts


class FileTable:
    def __init__(self, interner: Interner | None = None, hot_files: int | None = None) -> None:
        self._interner: Interner = interner if interner is not None else Strings()
        self._hot_files = HOT_FILES if hot_files is None else hot_files
        # Every file is built (`_hot`), packed, or both (built again from an unchanged pack).
        self._hot: dict[int, FileInfo] = {}  # in the order they were built: the oldest go
        self._packed: dict[int, Packed] = {}
        # every distinct import statement, shared by the files that hold it (never shrinks:
        # bounded by the distinct statements ever seen)
        self._statement_ids: dict[ImportStatement, int] = {}
        self._statements: list[ImportStatement] = []

    def __contains__(self, file_id: int) -> bool:
        return file_id in self._hot or file_id in self._packed

    def __len__(self) -> int:
        return len(self._packed) + sum(1 for fid in self._hot if fid not in self._packed)

    def ids(self) -> list[int]:
        return [*self._packed, *(fid for fid in self._hot if fid not in self._packed)]

    def get(self, file_id: int) -> FileInfo | None:
        info = self._hot.get(file_id)
        if info is None:
            packed = self._packed.get(file_id)
            if packed is None:
                return None
            info = self._hot[file_id] = self._unpack(file_id, packed)
            self._evict()
        return info

    def items(self) -> Iterator[tuple[int, FileInfo]]:
        """Every file, built for the caller only (the hot files stay the ones resolution read)."""
        for fid in self.ids():
            info = self._hot.get(fid)
            yield fid, info if info is not None else self._unpack(fid, self._packed[fid])

    def add(self, info: FileInfo) -> None:
        """A new file, or a new version of one."""
        self._packed.pop(info.file_id, None)
        self._hot.pop(info.file_id, None)
        self._hot[info.file_id] = info
        self._evict()

    def mutable(self, file_id: int) -> FileInfo:
        """The file's info, to change: its packed copy is stale from now on."""
        info = self.get(file_id)
        if info is None:
            raise KeyError(file_id)
        self._packed.pop(file_id, None)
        return info

    def pop(self, file_id: int) -> FileInfo | None:
        info = self._hot.pop(file_id, None)
        packed = self._packed.pop(file_id, None)
        if info is None and packed is not None:
            info = self._unpack(file_id, packed)
        return info

    def statement(
        self, module: str, name: str | None, alias: str | None, level: int
    ) -> ImportStatement:
        """The one tuple of an import statement that thousands of files hold (`from typing
        import Any`: 926,570 imports, 174,502 distinct, at 100,000 synthetic files)."""
        key = (module, name, alias, level)
        sid = self._statement_ids.get(key)
        if sid is not None:
            return self._statements[sid]
        statement = (
            intern(module),
            intern(name) if name is not None else None,
            intern(alias) if alias is not None else None,
            level,
        )
        self._statement_ids[statement] = len(self._statements)
        self._statements.append(statement)
        return statement

    # ----- packing ---------------------------------------------------------------------------

    def _evict(self) -> None:
        hot = self._hot
        while len(hot) > self._hot_files:
            fid = next(iter(hot))
            info = hot.pop(fid)
            if fid not in self._packed:
                self._packed[fid] = self._pack(info)

    def _pack(self, info: FileInfo) -> Packed:
        name_id = self._interner.id
        statement_ids = self._statement_ids
        bound = info.bound
        values = [len(bound), len(info.symbols), len(info.imports), len(info.typed_ids)]
        values += map(name_id, bound)
        values += info.symbols
        values += (statement_ids[s] for s in info.imports)
        values += info.typed_ids
        values += map(name_id, info.types)
        try:
            ids = array("i", values)
        except OverflowError:  # ids past 2**31: eight bytes each
            ids = array("q", values)
        return (info.path, info.names, info.is_package, info.exports, info.module_symbol, ids)

    def _unpack(self, file_id: int, packed: Packed) -> FileInfo:
        path, names, is_package, exports, module_symbol, ids = packed
        texts = self._interner.texts()
        statements = self._statements
        bound, symbols, imports, typed = ids[0], ids[1], ids[2], ids[3]
        at = 4
        bound_names = tuple(map(texts.__getitem__, ids[at : at + bound]))
        at += bound
        symbol_ids = array("q", ids[at : at + symbols])
        at += symbols
        statement_list = [statements[i] for i in ids[at : at + imports]]
        at += imports
        typed_ids = array("q", ids[at : at + typed]) if typed else ()
        types = tuple(map(texts.__getitem__, ids[at + typed : at + 2 * typed]))
        return FileInfo(
            file_id,
            path,
            names,
            is_package,
            exports,
            bound_names,
            statement_list,
            module_symbol,
            symbol_ids,
            typed_ids,
            types,
        )
