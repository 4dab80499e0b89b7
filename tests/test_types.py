"""Receivers typed through declarations: one small workspace per case, exact reference locations.

Each case is a Python pattern whose uses basedpyright finds through a declared or inferred type
(ARCHITECTURE.md, "Types"): the `fail` of `self.msg.fail(...)` is `Builder.fail` only when the
annotation of `msg` is followed.
"""

from __future__ import annotations

from pathlib import Path

from helpers import Indexed, index_tree

from forge_lsp.graph.impact import impact

BUILDER = """
    class Builder:
        def fail(self):
            pass

        def clone(self) -> "Builder":
            return self

    class Other:
        def fail(self):
            pass
"""


def _fail_uses(ws: Indexed, rel: str = "use.py") -> set[tuple[str, int, int]]:
    """Where `Builder.fail` is used in `rel` (its definition left out)."""
    fail = ws.symbol("lib.py", "Builder.fail")
    return {r for r in ws.ref_set(fail, include_declaration=False) if r[0] == rel}


def _calls_of_fail(ws: Indexed, rel: str, count: int) -> set[tuple[str, int, int]]:
    """The first `count` `.fail(` positions of `rel`, each at the name `fail`."""
    return {ws.at(rel, "fail(", n) for n in range(count)}


def test_fields_declared_in_the_class_or_from_init_parameters(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER,
            "use.py": """
                from lib import Builder

                class Checker:
                    msg: Builder

                    def __init__(self, options: Builder, other: "Builder") -> None:
                        self.options = options
                        self.other = other
                        self.made = Builder()

                    def check(self):
                        self.msg.fail()
                        self.options.fail()
                        self.other.fail()
                        self.made.fail()
                        self.options.clone().fail()
            """,
        },
    )
    assert _fail_uses(ws) == _calls_of_fail(ws, "use.py", 5)


def test_optional_union_pipe_and_string_annotations(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER,
            "use.py": """
                from typing import Optional, Union
                import lib

                def a(x: Optional[lib.Builder]):
                    x.fail()

                def b(x: "lib.Builder | None"):
                    x.fail()

                def c(x: Union[int, "lib.Builder"]):
                    x.fail()

                def d(x: lib.Other | lib.Builder):
                    x.fail()
            """,
        },
    )
    # `d`'s union: the first arm that has `fail` (Other) is the one the name means
    assert _fail_uses(ws) == _calls_of_fail(ws, "use.py", 3)
    other = ws.symbol("lib.py", "Other.fail")
    assert ws.at("use.py", "fail(", 3) in ws.ref_set(other)


def test_type_checking_imports_and_names_in_string_annotations(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/console.py": "class Console:\n    def print(self):\n        pass\n",
            "pkg/app.py": """
                from __future__ import annotations
                from typing import TYPE_CHECKING

                if TYPE_CHECKING:
                    from pkg.console import Console

                class App:
                    console: "Console"

                    def show(self, other: "Console") -> "Console":
                        self.console.print()
                        return other
            """,
        },
    )
    console = ws.symbol("pkg/console.py", "Console")
    assert ws.ref_set(console) == {
        ws.at("pkg/console.py", "Console"),
        ws.at("pkg/app.py", "Console", 0),  # the import
        ws.at("pkg/app.py", "Console", 1, offset=0),  # console: "Console", inside the string
        ws.at("pkg/app.py", "Console", 2),
        ws.at("pkg/app.py", "Console", 3),
    }
    show = ws.symbol("pkg/console.py", "Console.print")
    assert ws.ref_set(show, include_declaration=False) == {ws.at("pkg/app.py", "print")}


def test_return_values_of_functions_methods_and_classmethods(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER
            + """
    def make():
        return Builder()

    def declared() -> Builder:
        return make()

    class Factory:
        @classmethod
        def create(cls):
            return cls()

        def fail(self):
            pass

        def me(self) -> "Self":
            return self

    app = Builder()
""",
            "use.py": """
                import lib
                from lib import make, declared

                def go():
                    b = make()
                    b.fail()
                    declared().fail()
                    lib.app.fail()
                    lib.Builder().clone().fail()
                    lib.Factory.create().me().fail()
            """,
        },
    )
    assert _fail_uses(ws) == _calls_of_fail(ws, "use.py", 4)
    factory_fail = ws.symbol("lib.py", "Factory.fail")
    assert ws.ref_set(factory_fail, include_declaration=False) == {ws.at("use.py", "fail()", 4)}


def test_with_loops_comprehensions_subscripts_casts_and_except(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER
            + """
    class Session(Builder):
        def __enter__(self):
            return self

        def request(self):
            pass

    class Error(Exception):
        def fail(self):
            pass
""",
            "use.py": """
                from typing import cast
                from lib import Builder, Session, Error

                def go(parts: list[Builder], graph: dict[str, Builder], x):
                    for part in parts:
                        part.fail()
                    [p.fail() for p in parts]
                    graph["a"].fail()
                    c = cast(Builder, x)
                    c.fail()
                    with Session() as s:
                        s.request()
                        s.fail()
                    try:
                        pass
                    except Error as e:
                        e.fail()
            """,
        },
    )
    assert _fail_uses(ws) == _calls_of_fail(ws, "use.py", 5)
    request = ws.symbol("lib.py", "Session.request")
    assert ws.ref_set(request, include_declaration=False) == {ws.at("use.py", "request")}
    error_fail = ws.symbol("lib.py", "Error.fail")
    assert ws.ref_set(error_fail, include_declaration=False) == {ws.at("use.py", "fail()", 5)}


def test_a_name_assigned_twice_means_its_last_value_before_the_use(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER,
            "use.py": """
                from lib import Builder, Other

                def go():
                    r = Other()
                    r.fail()
                    r = Builder()
                    r.fail()
            """,
        },
    )
    assert _fail_uses(ws) == {ws.at("use.py", "fail()", 1)}
    other = ws.symbol("lib.py", "Other.fail")
    assert ws.ref_set(other, include_declaration=False) == {ws.at("use.py", "fail()", 0)}


def test_module_level_chains_and_dotted_constructors(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/dispatch.py": "class Signal:\n    def has_listeners(self):\n        pass\n",
            "pkg/signals.py": "from pkg import dispatch\n\npre_delete = dispatch.Signal()\n",
            "use.py": """
                from pkg import signals, dispatch

                def go():
                    signals.pre_delete.has_listeners()
                    s = dispatch.Signal()
                    s.has_listeners()
            """,
        },
    )
    method = ws.symbol("pkg/dispatch.py", "Signal.has_listeners")
    assert ws.ref_set(method, include_declaration=False) == {
        ws.at("use.py", "has_listeners", 0),
        ws.at("use.py", "has_listeners", 1),
    }


def test_all_entries_overloads_and_property_accessors_are_references(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": """
                from typing import overload

                __all__ = ["conv", "Box"]
                __all__ += ["extra"]

                @overload
                def conv(x: int) -> int: ...
                @overload
                def conv(x: str) -> str: ...
                def conv(x):
                    return x

                def extra():
                    pass

                class Box:
                    @property
                    def size(self) -> int:
                        return 1

                    @size.setter
                    def size(self, value):
                        pass

                    @size.deleter
                    def size(self):
                        pass

                    def grow(self):
                        return self.size + 1
            """,
            "use.py": "from lib import conv\n\nconv(1)\n",
        },
    )
    conv = ws.symbol("lib.py", "conv")
    assert (
        ws.ref_set(conv)
        == {
            ws.at("lib.py", "conv", 1),  # the first overload: the symbol
            ws.at("lib.py", '"conv"'[1:]),  # the __all__ entry
            ws.at("lib.py", "conv", 2),
            ws.at("lib.py", "conv", 3),
            ws.at("use.py", "conv", 0),
            ws.at("use.py", "conv", 1),
        }
    )
    roles = {r.role for r in ws.query.references(conv, include_declaration=False)}
    assert roles == {"export", "write", "import", "call"}
    qualnames = [s.qualname for s in ws.query.file_symbols(ws.path("lib.py"))]
    assert qualnames.count("conv") == 1 and qualnames.count("Box.size") == 1
    extra = ws.symbol("lib.py", "extra")
    assert ws.at("lib.py", "extra") in ws.ref_set(extra)
    size = ws.symbol("lib.py", "Box.size")
    assert ws.ref_set(size) == {
        ws.at("lib.py", "size", 0),
        ws.at("lib.py", "size", 1),  # @size.setter
        ws.at("lib.py", "size", 2),  # def size (the setter)
        ws.at("lib.py", "size", 3),  # @size.deleter
        ws.at("lib.py", "size", 4),  # def size (the deleter)
        ws.at("lib.py", "self.size", offset=5),
    }


def test_property_reads_are_calls_of_the_getter(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": """
                class Box:
                    @property
                    def size(self) -> "Box":
                        return self

                    def fail(self):
                        pass

                def measure(box: Box):
                    return box.size.fail()
            """,
        },
    )
    size = ws.symbol("lib.py", "Box.size")
    [caller] = ws.query.incoming_calls(size)
    assert caller.symbol.qualname == "measure"
    assert [(s.line, s.col) for s in caller.sites] == [ws.pos("lib.py", "size", 1)]
    measure = ws.symbol("lib.py", "measure")
    callees = {g.symbol.qualname for g in ws.query.outgoing_calls(measure)}
    assert callees == {"Box.size", "Box.fail"}


def test_incoming_calls_are_calls_and_uses_of_the_member_on_an_object(tmp_path: Path) -> None:
    """As in pyright's call hierarchy: `obj.m` passed on, `@app.hook` and `obj.prop = v` are
    calls of the member; a plain function named without parentheses is not."""
    ws = index_tree(
        tmp_path,
        {
            "lib.py": """
                class App:
                    def hook(self, func):
                        return func

                    def run(self):
                        callback = self.hook
                        return callback

                def plain(func):
                    return func

                app = App()

                @app.hook
                def handler():
                    pass

                @plain
                def other():
                    return plain
            """,
        },
    )
    hook = ws.symbol("lib.py", "App.hook")
    sites = {
        (group.symbol.qualname, (site.line, site.col))
        for group in ws.query.incoming_calls(hook)
        for site in group.sites
    }
    assert sites == {
        ("App.run", ws.pos("lib.py", "hook", 1)),
        ("", ws.pos("lib.py", "hook", 2)),  # the decorator, at module level
    }
    assert ws.query.incoming_calls(ws.symbol("lib.py", "plain")) == []


def test_inherited_methods_returning_self_mean_the_subclass(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "base.py": """
                class Base:
                    def __enter__(self):
                        return self

                    def copy(self) -> "Self":
                        return self
            """,
            "client.py": """
                from base import Base

                class Session(Base):
                    def request(self):
                        pass

                def get():
                    with Session() as s:
                        return s.request()

                def post():
                    return Session().copy().request()
            """,
        },
    )
    request = ws.symbol("client.py", "Session.request")
    assert ws.ref_set(request, include_declaration=False) == {
        ws.at("client.py", "request", 1),
        ws.at("client.py", "request", 2),
    }
    [caller_get, caller_post] = ws.query.incoming_calls(request)
    assert (caller_get.symbol.qualname, caller_post.symbol.qualname) == ("get", "post")


def test_unannotated_and_dynamic_values_stay_unresolved(tmp_path: Path) -> None:
    """Where the type would need flow analysis or a library, no exact edge is invented."""
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER,
            "use.py": """
                import json
                from lib import Builder

                def go(x, items):
                    x.fail()
                    json.loads("1").fail()
                    for item in items:
                        item.fail()
                    Builder().clone
            """,
        },
    )
    assert _fail_uses(ws) == set()
    assert ws.ref_set(ws.symbol("lib.py", "Builder.fail"), probable=True) >= {
        ws.at("use.py", "fail()", 0)
    }


def test_typevar_bounds_type_aliases_and_context_manager_generators(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER
            + """
    import typing
    from contextlib import contextmanager
    from typing import Iterator, Optional, TypeVar

    T = TypeVar("T", bound="Client")
    Maybe = Optional["Builder"]

    class Client:
        def __enter__(self: T) -> T:
            return self

        def get(self):
            pass

    @contextmanager
    def session() -> Iterator[Builder]:
        yield Builder()

    @contextmanager
    def unannotated():
        yield Builder()
""",
            "use.py": """
                from lib import Client, Maybe, session, unannotated

                def go(x: Maybe):
                    x.fail()
                    with Client() as c:
                        c.get()
                    with session() as s:
                        s.fail()
                    with unannotated() as u:
                        u.fail()
            """,
        },
    )
    assert _fail_uses(ws) == _calls_of_fail(ws, "use.py", 3)
    get = ws.symbol("lib.py", "Client.get")
    assert ws.ref_set(get, include_declaration=False) == {ws.at("use.py", "get")}
    # the strings of a TypeVar's bound and of an alias are references, as annotations are
    client = ws.symbol("lib.py", "Client")
    assert ws.at("lib.py", "Client", 0) in ws.ref_set(client)
    builder = ws.symbol("lib.py", "Builder")
    assert ws.at("lib.py", '"Builder"]', offset=1) in ws.ref_set(builder)


def test_element_keeping_builtins_and_comprehensions(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER,
            "use.py": """
                from lib import Builder

                def go(parts: list[Builder], graph: dict[str, Builder]):
                    for a in sorted(parts):
                        a.fail()
                    made = [Builder() for _ in range(3)]
                    for b in made:
                        b.fail()
                    next(iter(parts)).fail()
                    [Builder(), Builder()][0].fail()
                    for v in graph.values():
                        v.fail()
                    graph.get("a").fail()
                    parts.pop().fail()
                    for k in graph.keys():
                        k.fail()
            """,
        },
    )
    # the keys are str: `k.fail()` is nothing of the workspace's
    assert _fail_uses(ws) == _calls_of_fail(ws, "use.py", 7)


def test_a_base_class_declaration_wins_over_self_assignments(tmp_path: Path) -> None:
    """`self.debug = ...` in a subclass sets the base's property; it declares nothing new."""
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER,
            "base.py": """
                from lib import Builder

                class Base:
                    @property
                    def debug(self) -> Builder:
                        return Builder()

                    @debug.setter
                    def debug(self, value):
                        pass
            """,
            "app.py": """
                from base import Base

                class App(Base):
                    def __init__(self):
                        self.debug = True
                        self.own = 1

                    def run(self):
                        self.debug.fail()
                        return self.own
            """,
        },
    )
    debug = ws.symbol("base.py", "Base.debug")
    uses = {r for r in ws.ref_set(debug) if r[0] == "app.py"}
    assert uses == {ws.at("app.py", "debug", 0), ws.at("app.py", "debug", 1)}
    assert _fail_uses(ws, "app.py") == {ws.at("app.py", "fail")}
    own = ws.symbol("app.py", "App.own")  # nothing above declares it: the subclass's own
    assert ws.ref_set(own) == {ws.at("app.py", "own", 0), ws.at("app.py", "own", 1)}


def test_an_explicit_reexport_alias_is_a_reference(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "pkg/__init__.py": "from .impl import helper as helper\n",
            "pkg/impl.py": "def helper():\n    pass\n",
        },
    )
    helper = ws.symbol("pkg/impl.py", "helper")
    assert ws.ref_set(helper) == {
        ws.at("pkg/impl.py", "helper"),
        ws.at("pkg/__init__.py", "helper", 0),
        ws.at("pkg/__init__.py", "helper", 1),
    }


def test_isinstance_narrows_a_name_where_it_holds(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER,
            "use.py": """
                from lib import Builder, Other

                def go(x, y: Other, z, w):
                    if isinstance(x, Builder) and x.fail():
                        x.fail()
                    x.fail()
                    if isinstance(y, (Builder, int)):
                        y.fail()
                    y.fail()
                    if not isinstance(z, Builder):
                        return
                    z.fail()
                    assert isinstance(w, Builder)
                    w.fail()
                    w = Other()
                    w.fail()
            """,
        },
    )
    narrowed = {0, 1, 3, 5, 6}  # the `.fail(` that isinstance says are Builder's
    assert _fail_uses(ws) == {ws.at("use.py", "fail(", n) for n in narrowed}
    other = ws.symbol("lib.py", "Other.fail")
    assert ws.ref_set(other, include_declaration=False) == {
        ws.at("use.py", "fail(", 4),
        ws.at("use.py", "fail(", 7),
    }


def test_pytest_fixtures_are_found_the_way_pytest_finds_them(tmp_path: Path) -> None:
    """A test's parameter is a reference to the fixture of that name (its class, its module,
    then each conftest.py up the directories), and holds what the fixture returns or yields."""
    ws = index_tree(
        tmp_path,
        {
            "app.py": "class Client:\n    def get(self):\n        pass\n",
            "tests/conftest.py": """
                import pytest
                from app import Client

                class AuthActions:
                    def login(self):
                        pass

                @pytest.fixture
                def client():
                    return Client()

                @pytest.fixture(scope="module")
                def auth(client):
                    yield AuthActions()
            """,
            "tests/unit/test_login.py": """
                import pytest

                @pytest.mark.parametrize("value", [1, 2])
                def test_login(client, auth, value):
                    client.get()
                    auth.login()

                class TestThing:
                    def test_method(self, client):
                        client.get()

                def helper(client):
                    client.get()
            """,
        },
    )
    client = ws.symbol("tests/conftest.py", "client")
    assert ws.ref_set(client) == {
        ws.at("tests/conftest.py", "client", 0),
        ws.at("tests/conftest.py", "client", 1),  # `auth(client)` requests it
        ws.at("tests/unit/test_login.py", "client", 0),
        ws.at("tests/unit/test_login.py", "client", 2),
    }
    auth = ws.symbol("tests/conftest.py", "auth")
    assert ws.at("tests/unit/test_login.py", "auth", 0) in ws.ref_set(auth)
    value = ws.query.symbol_at(
        ws.path("tests/unit/test_login.py"), *ws.pos("tests/unit/test_login.py", "value", 1)
    )
    assert value is None  # a parametrized argument is no fixture
    get = ws.symbol("app.py", "Client.get")
    # a use on a fixture's value is exact to impact (tests/test_dependencies.py); no type
    # checker sees it, so references list it as probable
    assert ws.ref_set(get, include_declaration=False) == set()
    assert ws.ref_set(get, include_declaration=False, probable=True) == {
        ws.at("tests/unit/test_login.py", "get", 0),  # client: what `client()` returns
        ws.at("tests/unit/test_login.py", "get", 1),
        ws.at("tests/unit/test_login.py", "get", 2),  # helper(client): by name only
    }
    login = ws.symbol("tests/conftest.py", "AuthActions.login")
    assert ws.ref_set(login, include_declaration=False, probable=True) == {
        ws.at("tests/unit/test_login.py", "login()", 0)  # auth: what `auth()` yields
    }
    confidences = {r.confidence for r in ws.query.references(login, include_probable=True)}
    assert confidences == {"exact", "probable"}  # the definition, the use through `auth`
    test_login = ws.symbol("tests/unit/test_login.py", "test_login")
    reached = impact(ws.query, symbol=login)
    assert [(n.symbol.id, n.confidence) for n in reached.nodes] == [(test_login.id, "exact")]


def test_names_in_type_comments_are_references(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER,
            "use.py": """
                from typing import List
                from lib import Builder

                items = []  # type: List[Builder]
                other = 1  # type: ignore

                def go(a, b):
                    # type: (Builder, int) -> Builder
                    return a
            """,
        },
    )
    builder = ws.symbol("lib.py", "Builder")
    assert {r for r in ws.ref_set(builder) if r[0] == "use.py"} == {
        ws.at("use.py", "Builder", 0),  # the import
        ws.at("use.py", "Builder", 1),
        ws.at("use.py", "Builder", 2),
        ws.at("use.py", "Builder", 3),
    }


def test_strings_in_generic_aliases_are_names_but_literal_values_are_not(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": BUILDER,
            "use.py": """
                from typing import Callable, Literal
                from lib import Builder

                Handler = Callable[["Builder"], "Builder"]

                def go(mode: Literal["Builder", "other"]) -> None:
                    pass
            """,
        },
    )
    builder = ws.symbol("lib.py", "Builder")
    assert {r for r in ws.ref_set(builder) if r[0] == "use.py"} == {
        ws.at("use.py", "Builder", 0),  # the import
        ws.at("use.py", '"Builder"', 0, offset=1),
        ws.at("use.py", '"Builder"', 1, offset=1),
    }
