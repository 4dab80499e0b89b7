"""The facts an extractor reports about one file.

Tuples rather than dataclasses: they cross process boundaries by the hundred thousand during a
cold index, and NamedTuples pickle small and fast. All positions are 0-based; columns count
Unicode code points (what the editor calls utf-32), converted once from tree-sitter's bytes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import NamedTuple

# Symbol kinds. Stored as text: self-describing in the database, interned by SQLite's page cache.
MODULE = "module"
CLASS = "class"
FUNCTION = "function"
METHOD = "method"
VARIABLE = "variable"  # module-level binding
FIELD = "field"  # class-level binding or instance attribute (self.x = ...)

# Reference roles.
CALL = "call"
READ = "read"
WRITE = "write"
IMPORT = "import"
INHERIT = "inherit"
DECORATE = "decorate"
ATTRIBUTE = "attribute"
EXPORT = "export"  # a name listed in `__all__`

ROLES = (CALL, READ, WRITE, IMPORT, INHERIT, DECORATE, ATTRIBUTE, EXPORT)

NO_TARGET = -1
UNKNOWN_RECEIVER = "?"
FIXTURE_RECEIVER = "^"  # a test's parameter: the pytest fixture of that name
FIXTURE_VALUE_HEAD = "&"  # `&db` in a receiver or type: what the fixture `db` gives the test

# The first character of a SymbolFact.type may say what kind of value the symbol is.
PROPERTY_MARK = "@"  # a property: reading it runs the getter; its value is the rest
IMPLICIT_MARK = "~"  # declared only by `self.x = ...` in a method: a base's declaration wins
FIXTURE_MARK = "^"  # a pytest fixture: its value (what a test receives) is the rest
AUTOUSE_MARK = "!"  # a pytest fixture with autouse=True: every test below it receives it
TYPE_MARKS = PROPERTY_MARK + IMPLICIT_MARK + FIXTURE_MARK + AUTOUSE_MARK
LOCAL_RECEIVER = "."  # resolved inside the file at extraction time; the target is final


class SymbolFact(NamedTuple):
    name: str
    qualname: str
    kind: str
    parent: int  # index into FileFacts.symbols, -1 for the module symbol
    line: int
    col: int
    end_line: int
    end_col: int
    sel_line: int  # the name token
    sel_col: int
    sel_end_col: int
    signature: str
    # What using the symbol gives, as an expression of resolve/expressions.py: a variable's or
    # field's declared (else inferred) type, a function's return value; "@" first marks a
    # property (its value is the rest), "~" an attribute declared only by `self.x = ...` in a
    # method (a base class's declaration of the name wins over it), "^" a pytest fixture (its
    # value, what a test's parameter receives, is the rest), "!" an autouse fixture. "" when
    # unknown.
    type: str = ""


class RefFact(NamedTuple):
    """One use of a name.

    `receiver` says where the name is looked up:
      None          — a free name, looked up in the module namespace (then star imports);
      "?"           — an attribute of something whose type is unknown (a probable edge);
      "."           — resolved within the file (`target` is set), never looked up again;
      otherwise     — an attribute of the dotted receiver expression, see resolve.receivers.
    `target` is set when the file alone decides the answer (a nested function, a class member
    used in the class body); otherwise resolution across files fills it in.
    """

    name: str
    line: int
    col: int
    end_col: int
    role: str
    scope: int  # index of the enclosing symbol (function, class or module)
    target: int
    receiver: str | None


class ImportFact(NamedTuple):
    module: str  # dotted module path as written, "" for `from . import x`
    name: str | None  # imported name for `from m import name`, "*" for star, None for `import m`
    alias: str | None
    level: int  # leading dots of a relative import
    line: int
    module_level: bool  # only module-level imports bind names other files can see


@dataclass(slots=True)
class FileFacts:
    path: str
    language: str
    symbols: list[SymbolFact] = field(default_factory=list)
    refs: list[RefFact] = field(default_factory=list)
    imports: list[ImportFact] = field(default_factory=list)
    exports: list[str] | None = None  # `__all__` when it is a literal list or tuple
    parse_ok: bool = True
    is_ascii: bool = True
    error: str | None = None  # a skip or decoding problem worth telling the user
    interface: bytes = b""  # interface_hash(), computed once where the facts are made

    def interface_hash(self) -> bytes:
        """Hash of what other files can observe; a body-only edit leaves it unchanged."""
        h = hashlib.blake2b(digest_size=16)
        visible: list[bool] = []
        for s in self.symbols:
            parent_ok = s.parent < 0 or (
                visible[s.parent] and self.symbols[s.parent].kind in (MODULE, CLASS)
            )
            visible.append(parent_ok)
            if parent_ok:
                h.update(f"{s.qualname}\0{s.kind}\0{s.signature}\0{s.type}\n".encode())
        for imp in self.imports:
            if imp.module_level:
                h.update(f"i{imp.level}\0{imp.module}\0{imp.name}\0{imp.alias}\n".encode())
        for ref in self.refs:
            if ref.role == INHERIT:
                h.update(f"b{ref.scope}\0{ref.name}\0{ref.receiver}\n".encode())
        if self.exports is not None:
            h.update(("\0".join(self.exports)).encode())
        return h.digest()
