"""Extraction from real tree-sitter parses: definitions, roles, scopes, imports, positions."""

from __future__ import annotations

from forge_lsp.parsing.facts import RefFact
from forge_lsp.parsing.python import PythonExtractor

SOURCE = b"""import os.path as osp
from .sibling import (helper as h, other)
from pkg import *

@h
class Widget(Base, mixins.Mixin):
    size: int = 3

    def draw(self, canvas, *args, scale: float = 1.0, **kw) -> None:
        local = canvas.render(self.size)
        self.cache = local
        return h(local, key=scale)

async def main():
    w = Widget()
    w.draw(None)
"""


def _refs(name: str, facts_refs: list[RefFact]) -> list[RefFact]:
    return [r for r in facts_refs if r.name == name]


def test_definitions_with_kinds_ranges_and_signatures() -> None:
    facts = PythonExtractor().extract("w.py", SOURCE)
    by_name = {s.qualname: s for s in facts.symbols}
    assert by_name[""].kind == "module"
    widget = by_name["Widget"]
    assert (widget.kind, widget.sel_line, widget.sel_col, widget.sel_end_col) == ("class", 5, 6, 12)
    assert widget.signature == "class Widget(Base, mixins.Mixin)"
    draw = by_name["Widget.draw"]
    assert draw.kind == "method"
    assert draw.signature == "def draw(self, canvas, *args, scale: float = 1.0, **kw) -> None"
    assert (draw.line, draw.end_line) == (8, 11)
    assert by_name["Widget.size"].kind == "field"
    assert by_name["Widget.cache"].kind == "field"  # declared by self.cache = ...
    assert by_name["main"].signature.startswith("async def main")
    assert "local" not in {s.name for s in facts.symbols}  # locals are not symbols


def test_roles_receivers_and_scopes() -> None:
    facts = PythonExtractor().extract("w.py", SOURCE)
    symbols = facts.symbols
    (base,) = _refs("Base", facts.refs)
    assert (base.role, symbols[base.scope].qualname) == ("inherit", "Widget")
    (mixin,) = _refs("Mixin", facts.refs)
    assert (mixin.role, mixin.receiver) == ("inherit", "mixins")
    # at module level an alias stays a module-level name; resolution follows the import
    decorate = [r for r in _refs("h", facts.refs) if r.role == "decorate"]
    assert [(r.line, r.col, r.receiver) for r in decorate] == [(4, 1, None)]
    (render,) = _refs("render", facts.refs)
    assert (render.role, render.receiver) == ("call", "?")  # canvas: a parameter of unknown type
    size_refs = _refs("size", facts.refs)
    assert [(r.role, r.receiver) for r in size_refs] == [("attribute", "self")]
    cache_write = _refs("cache", facts.refs)
    assert [(r.role, r.receiver) for r in cache_write] == [("write", "self")]
    (draw_call,) = [r for r in _refs("draw", facts.refs) if r.role == "call"]
    assert draw_call.receiver == "Widget()"  # w = Widget()
    assert symbols[draw_call.scope].qualname == "main"
    assert not _refs("scale", facts.refs) and not _refs("key", facts.refs)
    assert not _refs("local", facts.refs) and not _refs("canvas", facts.refs)


def test_imports_every_form() -> None:
    facts = PythonExtractor().extract("w.py", SOURCE)
    assert [(i.module, i.name, i.alias, i.level) for i in facts.imports] == [
        ("os.path", None, "osp", 0),
        ("sibling", "helper", "h", 1),
        ("sibling", "other", None, 1),
        ("pkg", "*", None, 0),
    ]
    import_refs = [(r.name, r.receiver) for r in facts.refs if r.role == "import"]
    assert ("path", "<0|os>") in import_refs and ("helper", "<1|sibling>") in import_refs


def test_syntax_errors_keep_what_parses() -> None:
    source = b"def good():\n    return 1\n\ndef broken(:\n    pass\n\nclass After:\n    pass\n"
    facts = PythonExtractor().extract("b.py", source)
    assert not facts.parse_ok
    names = {s.name for s in facts.symbols}
    assert {"good", "After"} <= names


def test_columns_count_code_points_after_non_ascii() -> None:
    source = "s = 'é🙂'; x = helper()\n".encode()
    facts = PythonExtractor().extract("u.py", source)
    (call,) = _refs("helper", facts.refs)
    assert (call.line, call.col, call.end_col) == (0, 14, 20)
    assert not facts.is_ascii


def test_columns_on_a_long_line_with_wide_characters_are_exact() -> None:
    # one line, thousands of references, non-ASCII text between them: every column is exact
    parts = [f"f{i % 7}('é{i}🙂', 日本)" for i in range(4000)]
    line = "; ".join(parts)
    facts = PythonExtractor().extract("long.py", (line + "\nz = '\xff'\n").encode())
    calls = sorted((r.col, r.end_col, r.name) for r in facts.refs if r.name.startswith("f"))
    expected = []
    column = 0
    for i, part in enumerate(parts):
        expected.append((column, column + 2, f"f{i % 7}"))
        column += len(part) + 2
    assert calls == expected
    cjk = [r.col for r in facts.refs if r.name == "日本"]
    assert cjk == [i for i in range(len(line)) if line.startswith("日本", i)]


def test_invalid_utf8_and_binary_like_input_do_not_raise() -> None:
    facts = PythonExtractor().extract(
        "x.py", b"def f():\n    return '\xff\xfe'\n\x00\x01garbage((("
    )
    assert any(s.name == "f" for s in facts.symbols)
    empty = PythonExtractor().extract("e.py", b"")
    assert [s.kind for s in empty.symbols] == ["module"] and empty.refs == []


def test_a_comment_with_invalid_utf8_costs_nothing_else_in_the_file() -> None:
    # A query predicate on comments used to decode them strictly: the whole file was lost.
    source = b"from pkg import Eng#_\xf5ine, run\n\ndef main():\n    x = []  # type: List[Node]\n"
    facts = PythonExtractor().extract("app.py", source)
    assert [s.name for s in facts.symbols if s.name] == ["main"]
    assert ("Node", 3, 25) in {(r.name, r.line, r.col) for r in facts.refs}


def test_interface_hash_ignores_bodies_but_not_signatures() -> None:
    ex = PythonExtractor()
    a = ex.extract("m.py", b"def f(x):\n    return x + 1\n").interface_hash()
    b = ex.extract("m.py", b"def f(x):\n    y = 2\n    return x + y\n").interface_hash()
    c = ex.extract("m.py", b"def f(x, y=0):\n    return x\n").interface_hash()
    assert a == b
    assert a != c


def test_byte_order_mark_is_not_a_column() -> None:
    facts = PythonExtractor().extract("bom.py", b"\xef\xbb\xbfdef f():\n    return 1\n")
    (f,) = [s for s in facts.symbols if s.name == "f"]
    assert (f.sel_line, f.sel_col) == (0, 4)
