"""Which symbols a diff changed, and how: an **interface** change (what callers see: a
signature, bases, decorators, the names a module binds or exports, a class attribute or module
variable) or a **body** change (behaviour only: statements, docstrings, comments inside it).

Works on the extractor's facts of the file before and after, nothing stored: a changed line
belongs to the innermost symbol around it (its decorators included), a line outside every
symbol to the module-level code (qualname ""). The old text is rebuilt from the new one and
the diff, so a diff given on its own needs no repository.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

from forge_lsp.changes.diff import FileDiff
from forge_lsp.parsing.base import extract_facts
from forge_lsp.parsing.facts import CLASS, FIELD, INHERIT, MODULE, VARIABLE, FileFacts
from forge_lsp.parsing.python_syntax import decorator_starts

INTERFACE = "interface"
BODY = "body"
ADDED, DELETED, MODIFIED = "added", "deleted", "modified"


@dataclass(frozen=True, slots=True)
class SymbolChange:
    path: str  # where the symbol is (the old path for a deleted file)
    qualname: str  # "" for the module-level code
    kind: str
    status: str  # ADDED, DELETED, MODIFIED
    change: str  # INTERFACE or BODY
    reason: str  # what differs, for people: "signature", "decorators", "body", ...
    line: int  # 0-based first changed line (of the new text; of the old one when deleted)
    name: str = ""


@dataclass(slots=True)
class _Side:
    facts: FileFacts | None
    lines: list[str]
    heads: dict[int, int]  # def row -> first decorator row
    _spans: list[tuple[int, int, int, int]] | None = None  # (start, index, end, index)
    _starts: list[int] = field(default_factory=list)

    def start(self, index: int) -> int:
        assert self.facts is not None
        line = self.facts.symbols[index].line
        return self.heads.get(line, line)

    def innermost(self, line: int) -> int:
        """The index of the innermost symbol holding `line` (0: the module-level code).
        Symbols nest (a child comes after its parent), so it is the last-starting one that
        still holds the line: found by bisecting the spans (sorted once) and stepping back
        over those that ended before it."""
        if self.facts is None:
            return 0
        if self._spans is None:
            self._spans = sorted(
                (self.start(i), i, sym.end_line, i)
                for i, sym in enumerate(self.facts.symbols[1:], 1)
            )
            self._starts = [span[0] for span in self._spans]
        k = bisect_right(self._starts, line) - 1
        while k >= 0:
            _start, _order, end, index = self._spans[k]
            if end >= line:
                return index
            k -= 1
        return 0

    def key(self, index: int) -> tuple[object, ...]:
        """What callers of the symbol can observe."""
        assert self.facts is not None
        sym = self.facts.symbols[index]
        if sym.kind == MODULE:
            top = sorted(s.name for s in self.facts.symbols if s.parent == 0)
            imports = sorted(
                (i.module, i.name, i.alias, i.level) for i in self.facts.imports if i.module_level
            )
            return (tuple(top), tuple(map(str, imports)), tuple(self.facts.exports or ()))
        decorators = "".join(self.lines[self.start(index) : sym.line]).strip()
        bases = tuple(
            (r.name, r.receiver) for r in self.facts.refs if r.role == INHERIT and r.scope == index
        )
        return (sym.kind, decorators, bases, sym.signature, sym.type)

    def by_qualname(self) -> dict[str, int]:
        if self.facts is None:
            return {}
        return {s.qualname: i for i, s in reversed(list(enumerate(self.facts.symbols)))}


def _side(path: str, text: str | None) -> _Side:
    if text is None:
        return _Side(None, [], {})
    source = text.encode("utf-8", "surrogateescape")
    return _Side(
        extract_facts(path, source), text.splitlines(keepends=True), decorator_starts(source)
    )


def changed_symbols(
    diff: FileDiff, old_path: str | None, new_path: str | None, old: str | None, new: str | None
) -> list[SymbolChange]:
    """The symbols of one file the diff touches, each classified; `old`/`new`: the file's text
    before and after (None where it does not exist), `old_path`/`new_path` absolute."""
    if old is None or new is None:  # a new or a deleted file: its module-level code
        path = new_path if old is None else old_path
        status = ADDED if old is None else DELETED
        return [SymbolChange(path or "", "", MODULE, status, INTERFACE, status, 0)]
    before, after = _side(old_path or "", old), _side(new_path or "", new)
    if after.facts is not None and not after.facts.parse_ok:  # importing it fails: all of it
        at = min((line for h in diff.hunks for line, _text in h.new_lines()), default=0)
        return [SymbolChange(new_path or "", "", MODULE, MODIFIED, INTERFACE, "syntax", at)]
    touched: dict[str, int | None] = {}  # qualname -> the first changed line of the new text
    for side, lines in (
        (before, [x for h in diff.hunks for x in h.old_lines()]),
        (after, [x for h in diff.hunks for x in h.new_lines()]),
    ):
        assert side.facts is not None
        for line, text in lines:
            index = side.innermost(line)
            stripped = text.strip()
            if not stripped or (index == 0 and stripped.startswith("#")):
                continue  # blank lines, and comments between definitions, change nothing
            qualname = side.facts.symbols[index].qualname
            first = touched.get(qualname)
            if side is after:
                touched[qualname] = line if first is None else min(first, line)
            else:
                touched.setdefault(qualname, None)
    out: list[SymbolChange] = []
    old_names, new_names = before.by_qualname(), after.by_qualname()
    for qualname, first in sorted(touched.items()):
        o, n = old_names.get(qualname), new_names.get(qualname)
        if n is not None and after.facts is not None:
            sym = after.facts.symbols[n]
            if o is None:
                status, change, reason = ADDED, INTERFACE, "new"
            else:
                status = MODIFIED
                change, reason = _compare(before, o, after, n)
            path = new_path or ""
        elif o is not None and before.facts is not None:
            sym = before.facts.symbols[o]
            status, change, reason, path = DELETED, INTERFACE, "deleted", old_path or ""
        else:
            continue
        line = first if first is not None else sym.line
        out.append(SymbolChange(path, qualname, sym.kind, status, change, reason, line, sym.name))
    return out


def _compare(before: _Side, o: int, after: _Side, n: int) -> tuple[str, str]:
    assert before.facts is not None and after.facts is not None
    was, now = before.key(o), after.key(n)
    sym = after.facts.symbols[n]
    if sym.kind == MODULE:
        if was != now:
            return INTERFACE, "module names or exports"
        return BODY, "module-level code"
    if sym.kind in (FIELD, VARIABLE):
        in_class = sym.kind == FIELD and _in_class(after, n)
        return INTERFACE, "class attribute" if in_class else "value"
    for label, a, b in zip(
        ("kind", "decorators", "bases", "signature", "type"), was, now, strict=True
    ):
        if a != b:
            return INTERFACE, label
    return BODY, "body"


def _in_class(side: _Side, index: int) -> bool:
    assert side.facts is not None
    parent = side.facts.symbols[index].parent
    return parent >= 0 and side.facts.symbols[parent].kind == CLASS
