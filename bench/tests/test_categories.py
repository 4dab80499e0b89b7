"""Miss categories for the type-aware cases of issue 11: exact inputs, exact categories.

Offline and fast: each case is a line of source and the occurrence of the name on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench import scoring
from bench.categories import (
    ACCESSOR_DECORATOR,
    ACCESSOR_DEF,
    ALIASED_NAME,
    CALL_RESULT_ATTR,
    CLASS_ATTR,
    DECORATOR,
    DUNDER_ALL,
    MODULE_ATTR,
    MODULE_CHAIN_ATTR,
    NAME_ATTR,
    NAME_CHAIN_ATTR,
    OTHER_ATTR,
    OTHER_DEFINITION,
    OVERLOAD_DEF,
    PARAMETER,
    PLAIN_NAME,
    PROPERTY_READ,
    PROPERTY_WRITE,
    SELF_ATTR,
    SELF_CHAIN_ATTR,
    STRING,
    STRING_ANNOTATION,
    SUBSCRIPT_ATTR,
    SUPER_CALL,
    TYPE_COMMENT,
    VALUE_USE,
    FileContext,
    build_context,
    categorize,
    decorators_at,
    refine_definition,
)
from bench.sample import Symbol

SOURCE = """\
from __future__ import annotations

import typing
import pkg.mod
from pkg import signals
from typing import TYPE_CHECKING, Optional, Union, overload, cast

if TYPE_CHECKING:
    from pkg.models import Foo

__all__ = ["Foo", "make"]
Alias = Union["Foo", str]
Hook = typing.Callable[["Foo"], "Foo | None"]
T = typing.TypeVar("T", bound="Foo")


class Box:
    item: "Foo"
    other: Optional["Foo"] = None

    def __init__(self, foo):
        self.foo = foo  # type: Foo

    @overload
    def get(self, key: int) -> "Foo": ...

    @typing.overload
    def get(self, key: str) -> Foo: ...

    def get(self, key):
        return self.foo.get(key)

    @property
    def size(self) -> int:
        return self.foo.size

    @size.setter
    def size(self, value: "int") -> None:
        self.foo.size = value

    @size.deleter
    def size(self) -> None:
        pass

    def use(self, foo: "Foo", items: dict[str, Foo]) -> list["Foo"]:
        make().get(1)
        Box().get(1)
        pkg.mod.Box.get(1)
        items["a"].get(1)
        items["a"].size.get(1)
        foo.get(1)
        foo.child.get(1)
        signals.hub.get(1)
        pkg.mod.get(1)
        super().get(1)
        (foo or self).get(1)
        x = cast("Foo", foo)
        print("Foo is a word here", f"{foo}")
        n = self.size
        m = foo.size + items["a"].size
        foo.size = 3
        if x.size: y = self.size
        self.size: int = 3
        return [x] if x.size else []


def make() -> "Box":
    return Box(None)
"""

MODULES = {"pkg", "pkg.mod", "pkg.signals", "pkg.models", "typing"}


def _ctx() -> FileContext:
    return build_context(SOURCE, "pkg/box.py", lambda dotted: dotted in MODULES)


def _column(line: int, needle: str, occurrence: int) -> int:
    row = SOURCE.split("\n")[line - 1]
    starts = [m.start() for m in re.finditer(rf"\b{re.escape(needle)}\b", row)]
    return starts[occurrence] + 1


def _line_of(snippet: str) -> int:
    rows = SOURCE.split("\n")
    matches = [number for number, row in enumerate(rows, start=1) if snippet in row]
    assert len(matches) == 1, f"{snippet!r} is on lines {matches}"
    return matches[0]


@pytest.mark.parametrize(
    ("snippet", "name", "occurrence", "expected"),
    [
        # names in string annotations and forward references
        ('__all__ = ["Foo"', "Foo", 0, DUNDER_ALL),
        ('Alias = Union["Foo"', "Foo", 0, STRING_ANNOTATION),
        ('Hook = typing.Callable[["Foo"]', "Foo", 0, STRING_ANNOTATION),
        ('Hook = typing.Callable[["Foo"]', "Foo", 1, STRING_ANNOTATION),
        ('bound="Foo"', "Foo", 0, STRING_ANNOTATION),
        ('item: "Foo"', "Foo", 0, STRING_ANNOTATION),
        ('other: Optional["Foo"]', "Foo", 0, STRING_ANNOTATION),
        ('def get(self, key: int) -> "Foo"', "Foo", 0, STRING_ANNOTATION),
        ('def use(self, foo: "Foo"', "Foo", 0, STRING_ANNOTATION),
        ('def use(self, foo: "Foo"', "Foo", 2, STRING_ANNOTATION),  # list["Foo"]
        ('x = cast("Foo", foo)', "Foo", 0, STRING_ANNOTATION),
        ('def make() -> "Box"', "Box", 0, STRING_ANNOTATION),
        ('print("Foo is a word here"', "Foo", 0, STRING),
        # type comments (and plain comments)
        ("self.foo = foo  # type: Foo", "Foo", 0, TYPE_COMMENT),
        # definitions that belong to one symbol
        ('def get(self, key: int) -> "Foo"', "get", 0, OVERLOAD_DEF),
        ("def get(self, key: str) -> Foo", "get", 0, OVERLOAD_DEF),
        ("def get(self, key):", "get", 0, OTHER_DEFINITION),
        ('def size(self, value: "int")', "size", 0, ACCESSOR_DEF),
        ("def size(self) -> None:", "size", 0, ACCESSOR_DEF),
        ("def size(self) -> int:", "size", 0, ACCESSOR_DEF),  # the getter, from its setter
        ("@size.setter", "size", 0, ACCESSOR_DECORATOR),
        ("@size.deleter", "size", 0, ACCESSOR_DECORATOR),
        ("@typing.overload", "overload", 0, DECORATOR),
        ("def use(self, foo", "foo", 0, PARAMETER),
        ("def use(self, foo", "items", 0, PARAMETER),
        ("def use(self, foo", "str", 0, PLAIN_NAME),
        # receivers
        ("return self.foo.get(key)", "get", 0, SELF_CHAIN_ATTR),
        ("return self.foo.size", "foo", 0, SELF_ATTR),
        ("make().get(1)", "get", 0, CALL_RESULT_ATTR),
        ("Box().get(1)", "get", 0, CALL_RESULT_ATTR),
        ("pkg.mod.Box.get(1)", "get", 0, MODULE_CHAIN_ATTR),
        ("pkg.mod.Box.get(1)", "Box", 0, MODULE_ATTR),
        ('items["a"].get(1)', "get", 0, SUBSCRIPT_ATTR),
        ('items["a"].size.get(1)', "get", 0, SUBSCRIPT_ATTR),
        ("foo.get(1)", "get", 0, f"{NAME_ATTR}, x: annotated parameter"),
        ("foo.child.get(1)", "get", 0, f"{NAME_CHAIN_ATTR}, x: annotated parameter"),
        ("signals.hub.get(1)", "get", 0, MODULE_CHAIN_ATTR),
        ("signals.hub.get(1)", "hub", 0, MODULE_ATTR),
        ("pkg.mod.get(1)", "get", 0, MODULE_ATTR),
        ("super().get(1)", "get", 0, SUPER_CALL),
        ("(foo or self).get(1)", "get", 0, OTHER_ATTR),
        ("n = self.size", "size", 0, SELF_ATTR),
        ("return Box(None)", "Box", 0, PLAIN_NAME),
    ],
)
def test_categorize_types(snippet: str, name: str, occurrence: int, expected: str) -> None:
    line = _line_of(snippet)
    assert categorize(_ctx(), line, _column(line, name, occurrence), name) == expected


@pytest.mark.parametrize(
    ("snippet", "occurrence", "expected"),
    [
        ("n = self.size", 0, PROPERTY_READ),
        ('m = foo.size + items["a"].size', 0, PROPERTY_READ),
        ('m = foo.size + items["a"].size', 1, PROPERTY_READ),
        ("return [x] if x.size else []", 0, PROPERTY_READ),
        ("foo.size = 3", 0, PROPERTY_WRITE),  # the setter runs; foo stays a parameter
        ("if x.size: y = self.size", 0, PROPERTY_READ),  # not an annotation colon
        ("self.size: int = 3", 0, PROPERTY_WRITE),
        ('items["a"].size.get(1)', 0, PROPERTY_READ),
    ],
)
def test_property_reads_are_getter_calls(snippet: str, occurrence: int, expected: str) -> None:
    line = _line_of(snippet)
    column = _column(line, "size", occurrence)
    assert categorize(_ctx(), line, column, "size", property_reads=True) == expected
    assert categorize(_ctx(), line, column, "size") != PROPERTY_READ


def test_property_reads_apply_to_attributes_only() -> None:
    line = _line_of("make().get(1)")
    column = _column(line, "get", 0)
    assert categorize(_ctx(), line, column, "get", property_reads=True) == CALL_RESULT_ATTR


def test_decorators_are_read_above_the_def_line() -> None:
    ctx = _ctx()
    assert decorators_at(ctx, _line_of("def size(self) -> int:")) == ["property"]
    assert decorators_at(ctx, _line_of('def size(self, value: "int")')) == ["size.setter"]
    assert decorators_at(ctx, _line_of("def get(self, key: str) -> Foo")) == ["typing.overload"]
    assert decorators_at(ctx, _line_of("def make()")) == []
    assert decorators_at(ctx, _line_of("class Box:")) == []


def test_categorizer_reports_property_reads_only_for_calls(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "box.py").write_text(SOURCE)
    categorizer = scoring.Categorizer(tmp_path)
    line = _line_of("def size(self) -> int:")
    size = Symbol("pkg/box.py", line, _column(line, "size", 0), "size", "method", "Box.size")
    read_line = _line_of("n = self.size")
    read = ("pkg/box.py", read_line, _column(read_line, "size", 0))
    assert categorizer.is_property(size)
    assert categorizer.for_calls(size, read) == PROPERTY_READ
    assert categorizer(size, read) == SELF_ATTR
    line = _line_of("def make()")
    make = Symbol("pkg/box.py", line, _column(line, "make", 0), "make", "function", "make")
    assert not categorizer.is_property(make)
    line = _line_of('def size(self, value: "int")')
    setter = Symbol("pkg/box.py", line, _column(line, "size", 0), "size", "method", "Box.size")
    assert categorizer.is_property(setter)  # reading the name runs the getter of its property
    assert categorizer.for_calls(setter, read) == PROPERTY_READ


def test_class_receivers_stay_class_attributes() -> None:
    ctx = build_context("Box.get(1)\nBOX.get(1)\n", "m.py", lambda dotted: False)
    assert categorize(ctx, 1, 5, "get") == CLASS_ATTR
    assert (
        categorize(ctx, 2, 5, "get")
        == f"{NAME_ATTR}, x: not bound in the file (builtin or star import)"
    )


def test_siblings_of_an_overload_or_accessor_query(tmp_path: Path) -> None:
    """The implementation below a sampled overload, the getter above a sampled setter."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "box.py").write_text(SOURCE)
    categorizer = scoring.Categorizer(tmp_path)
    first = _line_of('def get(self, key: int) -> "Foo"')
    overload = Symbol("pkg/box.py", first, _column(first, "get", 0), "get", "method", "Box.get")
    impl = _line_of("def get(self, key):")
    assert categorizer(overload, ("pkg/box.py", impl, _column(impl, "get", 0))) == OVERLOAD_DEF
    setter_line = _line_of('def size(self, value: "int")')
    setter = Symbol("pkg/box.py", setter_line, 9, "size", "method", "Box.size")
    getter = _line_of("def size(self) -> int:")
    assert categorizer(setter, ("pkg/box.py", getter, 9)) == ACCESSOR_DEF
    assert refine_definition(OTHER_DEFINITION, []) == OTHER_DEFINITION
    assert refine_definition(OTHER_DEFINITION, ["functools.wraps"]) == OTHER_DEFINITION
    assert refine_definition(PLAIN_NAME, ["overload"]) == PLAIN_NAME


CALLS_SOURCE = """\
from pkg.mod import run as go
run(1)
later = run
sync(self.run, thread=True)
self.run(2)
obj.run.__doc__
go(3)
"""


@pytest.mark.parametrize(
    ("line", "occurrence", "expected"),
    [
        (2, 0, PLAIN_NAME),
        (3, 0, VALUE_USE),
        (4, 0, VALUE_USE),
        (5, 0, SELF_ATTR),
        (6, 0, VALUE_USE),
    ],
)
def test_call_sites_without_parens_are_values(line: int, occurrence: int, expected: str) -> None:
    ctx = build_context(CALLS_SOURCE, "m.py", lambda dotted: False)
    row = CALLS_SOURCE.split("\n")[line - 1]
    column = [m.start() for m in re.finditer(r"\brun\b", row)][occurrence] + 1
    assert categorize(ctx, line, column, "run", calls=True) == expected


def test_another_name_at_the_location_is_an_alias() -> None:
    ctx = build_context(CALLS_SOURCE, "m.py", lambda dotted: False)
    assert categorize(ctx, 7, 1, "run") == ALIASED_NAME
    assert categorize(ctx, 1, 28, "run") == ALIASED_NAME  # "go" in the import


BINDINGS_SOURCE = """\
import pkg
from pkg import client
session = make_session()


def handler(request: Request, raw, *args, **kw):
    request.url.get(1)
    raw.get(1)
    made = make()
    made.get(1)
    plain = other
    plain.get(1)
    typed: Foo = other
    typed.get(1)
    for item in items:
        item.get(1)
    with open_it() as handle:
        handle.get(1)
    twice = one()
    twice = two()
    twice.get(1)
    session.get(1)
    client.get(1)
    unknown.get(1)
    [row.get(1) for row in rows]

    def inner():
        return raw.get(1)
"""


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (7, f"{NAME_CHAIN_ATTR}, x: annotated parameter"),
        (8, f"{NAME_ATTR}, x: parameter"),
        (10, f"{NAME_ATTR}, x: assigned from a call"),
        (12, f"{NAME_ATTR}, x: assigned"),
        (14, f"{NAME_ATTR}, x: annotated local"),
        (16, f"{NAME_ATTR}, x: loop variable"),
        (18, f"{NAME_ATTR}, x: with ... as"),
        (21, f"{NAME_ATTR}, x: bound more than once"),
        (22, f"{NAME_ATTR}, x: module-level assigned from a call"),
        (23, f"{NAME_ATTR}, x: module-level imported"),
        (24, f"{NAME_ATTR}, x: not bound in the file (builtin or star import)"),
        (25, f"{NAME_ATTR}, x: comprehension variable"),
        (28, f"{NAME_ATTR}, x: parameter"),  # a closure variable of the enclosing function
    ],
)
def test_plain_name_receivers_say_how_the_name_was_bound(line: int, expected: str) -> None:
    ctx = build_context(BINDINGS_SOURCE, "m.py", lambda dotted: dotted == "pkg")
    row = BINDINGS_SOURCE.split("\n")[line - 1]
    column = row.index(".get(") + 2
    assert categorize(ctx, line, column, "get") == expected


def test_summary_folds_bindings_into_families() -> None:
    from bench.report import families

    rows = [
        {"category": f"{NAME_ATTR}, x: parameter", "count": 3},
        {"category": f"{NAME_ATTR}, x: loop variable", "count": 2},
        {"category": DUNDER_ALL, "count": 4},
    ]
    assert families(rows) == [(NAME_ATTR, 5), (DUNDER_ALL, 4)]
