"""What counts as a dependency (docs/impact.md): one test per rule, exact dependents asserted.

Each workspace is real files, indexed into a real SQLite graph; impact walks to a fixed point.
"""

from __future__ import annotations

from pathlib import Path

from helpers import Indexed, index_tree

from forge_lsp.graph.impact import impact, impact_of


def dependents(ws: Indexed, rel: str, qualname: str) -> set[tuple[str, str]]:
    """(file relative to the workspace, qualname) of every dependent; "" is module-level code."""
    result = impact(ws.query, symbol=ws.symbol(rel, qualname))
    root = ws.path("") + "/"
    return {(n.symbol.path.removeprefix(root), n.symbol.qualname) for n in result.nodes}


def edge_kinds(ws: Indexed, rel: str, qualname: str) -> dict[str, list[str]]:
    result = impact(ws.query, symbol=ws.symbol(rel, qualname))
    return {n.symbol.qualname: [e.role for e in n.chain] for n in result.nodes}


def test_a_constructor_call_uses_init_of_the_class_and_of_subclasses_that_inherit_it(
    tmp_path: Path,
) -> None:
    ws = index_tree(
        tmp_path,
        {
            "shop.py": """
                class Checkout:
                    def __init__(self):
                        self.items = []

                class Express(Checkout):
                    pass

                class Custom(Checkout):
                    def __init__(self):
                        self.items = [1]
            """,
            "tests/test_shop.py": """
                from shop import Checkout, Express, Custom

                def test_plain():
                    assert Checkout().items == []

                def test_express():
                    Express()

                def test_custom():
                    Custom()
            """,
        },
    )
    assert dependents(ws, "shop.py", "Checkout.__init__") == {
        ("tests/test_shop.py", "test_plain"),
        ("tests/test_shop.py", "test_express"),
    }
    assert edge_kinds(ws, "shop.py", "Checkout.__init__")["test_express"] == ["construct"]
    # references and call hierarchy say the same
    init = ws.symbol("shop.py", "Checkout.__init__")
    constructions = {
        ws.at("tests/test_shop.py", "Checkout()"),
        ws.at("tests/test_shop.py", "Express()"),
    }
    assert ws.ref_set(init, include_declaration=False) == constructions
    incoming = ws.query.incoming_calls(init)
    assert {g.symbol.qualname for g in incoming} == {"test_plain", "test_express"}


def test_with_runs_enter_of_the_class_built(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "client.py": """
                class Session:
                    def __enter__(self):
                        return self

                    def __exit__(self, *exc):
                        return None

                    def request(self, url):
                        return url

                def get(url):
                    with Session() as s:
                        return s.request(url)

                def unrelated():
                    return 1
            """,
        },
    )
    assert dependents(ws, "client.py", "Session.request") == {("client.py", "get")}
    assert dependents(ws, "client.py", "Session.__enter__") == {("client.py", "get")}
    assert edge_kinds(ws, "client.py", "Session.__enter__") == {"get": ["protocol"]}


REEXPORT = {
    "pkg/__init__.py": """
        from .util import helper
        from .other import unrelated
    """,
    "pkg/util.py": """
        def helper():
            return 1
    """,
    "pkg/other.py": """
        def unrelated():
            return 2
    """,
    "tests/test_pkg.py": """
        import pkg
        from pkg import unrelated

        def test_attribute():
            assert pkg.unrelated() == 2

        def test_name():
            assert unrelated() == 2
    """,
}


def test_importing_a_package_is_no_use_of_every_name_in_it(tmp_path: Path) -> None:
    ws = index_tree(tmp_path, REEXPORT)
    assert dependents(ws, "pkg/util.py", "helper") == set()
    assert dependents(ws, "pkg/other.py", "unrelated") == {
        ("tests/test_pkg.py", "test_attribute"),
        ("tests/test_pkg.py", "test_name"),
    }


def test_module_level_code_of_a_re_exporting_module_reaches_the_users_of_its_names(
    tmp_path: Path,
) -> None:
    ws = index_tree(tmp_path, REEXPORT)
    module = ws.query.module_symbol(ws.path("pkg/__init__.py"))
    assert module is not None
    result = impact_of(ws.query, [module])
    reached = {(n.symbol.qualname, n.chain[-1].role) for n in result.nodes}
    # `pkg.unrelated()` also reads the module `pkg` itself
    assert reached == {("test_attribute", "read"), ("test_name", "re-export")}


def test_module_level_statements_belong_to_what_they_bind_or_decorate(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "app.py": """
                def make():
                    return {}

                def register(f):
                    return f

                DEFAULT = make()

                @register
                def view():
                    return 1

                def uses_default():
                    return DEFAULT

                def other():
                    return 2
            """,
        },
    )
    assert dependents(ws, "app.py", "make") == {("app.py", "DEFAULT"), ("app.py", "uses_default")}
    assert dependents(ws, "app.py", "register") == {("app.py", "view")}


def test_a_whole_file_is_its_symbols_and_the_users_of_its_module_level_code(
    tmp_path: Path,
) -> None:
    ws = index_tree(
        tmp_path,
        {
            "conf.py": """
                import os

                LIMIT = int(os.environ.get("LIMIT", "3"))

                def limit():
                    return LIMIT
            """,
            "use.py": """
                import conf
                from conf import limit

                def a():
                    return conf.LIMIT

                def b():
                    return limit()

                def c():
                    return 0
            """,
        },
    )
    result = impact(ws.query, path=ws.path("conf.py"))
    assert {n.symbol.qualname for n in result.nodes} == {"a", "b"}
    module = ws.query.module_symbol(ws.path("conf.py"))
    assert module is not None
    module_only = impact_of(ws.query, [module])  # the module-level code alone
    assert {n.symbol.qualname for n in module_only.nodes} == {"LIMIT", "limit", "a", "b"}


PYTEST = {
    "src/lib.py": """
        def connect():
            return "db"

        def prepare():
            return "tmp"

        def login():
            return "user"

        def clean():
            return None
    """,
    "tests/conftest.py": """
        import pytest
        from lib import connect, prepare

        @pytest.fixture
        def db():
            return connect()

        @pytest.fixture
        def user(db):
            return db

        @pytest.fixture(autouse=True)
        def workspace():
            yield prepare()
    """,
    "tests/unit/test_a.py": """
        import pytest
        from lib import login, clean

        def test_uses_user(user):
            assert user

        @pytest.mark.usefixtures("db")
        def test_marked():
            pass

        def test_plain():
            pass

        class TestWithLocalFixture:
            @pytest.fixture(autouse=True)
            def signed_in(self):
                return login()

            def test_one(self):
                pass

        class TestSetup:
            def setup_method(self):
                clean()

            def test_two(self):
                pass
    """,
    "other/test_b.py": """
        def test_elsewhere():
            pass
    """,
}


def test_tests_reach_fixtures_through_parameters_other_fixtures_and_usefixtures(
    tmp_path: Path,
) -> None:
    ws = index_tree(tmp_path, PYTEST)
    assert dependents(ws, "src/lib.py", "connect") == {
        ("tests/conftest.py", "db"),
        ("tests/conftest.py", "user"),
        ("tests/unit/test_a.py", "test_uses_user"),
        ("tests/unit/test_a.py", "test_marked"),
    }
    kinds = edge_kinds(ws, "src/lib.py", "connect")
    assert kinds["test_uses_user"] == ["call", "fixture", "fixture"]


def test_an_autouse_fixture_reaches_every_test_below_it(tmp_path: Path) -> None:
    ws = index_tree(tmp_path, PYTEST)
    below = {
        (n.symbol.qualname, n.chain[-1].role)
        for n in impact(ws.query, symbol=ws.symbol("src/lib.py", "prepare")).nodes
    }
    # conftest.py of tests/: every test under tests/, none under other/
    assert below == {
        ("workspace", "call"),
        ("test_uses_user", "autouse"),
        ("test_marked", "autouse"),
        ("test_plain", "autouse"),
        ("TestWithLocalFixture.test_one", "autouse"),
        ("TestSetup.test_two", "autouse"),
    }
    # a class's autouse fixture: the tests of that class only
    assert dependents(ws, "src/lib.py", "login") == {
        ("tests/unit/test_a.py", "TestWithLocalFixture.signed_in"),
        ("tests/unit/test_a.py", "TestWithLocalFixture.test_one"),
    }


def test_setup_methods_reach_the_tests_of_their_class_and_subclasses(tmp_path: Path) -> None:
    files = dict(PYTEST)
    files["tests/unit/test_c.py"] = """
        import unittest
        from test_a import TestSetup

        class TestMore(TestSetup):
            def test_three(self):
                pass

        class Case(unittest.TestCase):
            @classmethod
            def setUpClass(cls):
                pass

            def test_four(self):
                pass
    """
    ws = index_tree(tmp_path, files)
    assert dependents(ws, "src/lib.py", "clean") == {
        ("tests/unit/test_a.py", "TestSetup.setup_method"),
        ("tests/unit/test_a.py", "TestSetup.test_two"),
        ("tests/unit/test_c.py", "TestMore.test_three"),
    }
    assert dependents(ws, "tests/unit/test_c.py", "Case.setUpClass") == {
        ("tests/unit/test_c.py", "Case.test_four")
    }


def test_the_demo_checkout_constructor_reaches_the_tests_that_build_it(tmp_path: Path) -> None:
    demo = Path(__file__).resolve().parents[1] / "examples" / "demo"
    files = {str(p.relative_to(demo)): p.read_text() for p in demo.rglob("*.py")}
    ws = index_tree(tmp_path, files)
    assert dependents(ws, "shop/checkout.py", "Checkout.__init__") == {
        ("tests/test_checkout.py", "test_pay_adds_vat"),
        ("tests/test_checkout.py", "test_coupon"),
    }
    assert dependents(ws, "shop/models.py", "Order.total") == {
        ("shop/pricing.py", "with_vat"),
        ("shop/pricing.py", "discounted"),
        ("shop/checkout.py", "Checkout.pay"),
        ("tests/test_checkout.py", "test_pay_adds_vat"),
        ("tests/test_checkout.py", "test_with_vat_of_empty_order"),
        ("tests/test_checkout.py", "test_coupon"),
    }


def test_an_override_is_used_wherever_what_it_overrides_is(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "params.py": """
                class ParamType:
                    def convert(self, value):
                        return value

                    def __call__(self, value):
                        return self.convert(value)

                class IntType(ParamType):
                    def convert(self, value):
                        return int(value)

                def parse(kind: ParamType, text):
                    return kind.convert(text)

                def unrelated():
                    return 0
            """,
        },
    )
    assert dependents(ws, "params.py", "IntType.convert") == {
        ("params.py", "ParamType.__call__"),  # self.convert(...) may run IntType.convert
        ("params.py", "parse"),  # kind.convert(...) on a ParamType may too
        ("params.py", "IntType"),  # calling an IntType runs __call__: a use of its base
    }
    assert edge_kinds(ws, "params.py", "IntType.convert")["parse"] == ["override"]


def test_a_class_passed_on_as_a_value_may_be_constructed_there(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "cli.py": """
                class Command:
                    def __init__(self, name):
                        self.name = name

                class Group(Command):
                    def __init__(self, name):
                        self.name = name.upper()

                def command(name, cls=None):
                    if cls is None:
                        cls = Command
                    return cls(name)

                def group(name):
                    return command(name, cls=Group)
            """,
            "tests/test_cli.py": """
                from cli import group

                def test_group():
                    assert group("g").name == "G"
            """,
        },
    )
    assert dependents(ws, "cli.py", "Group.__init__") == {
        ("cli.py", "group"),
        ("tests/test_cli.py", "test_group"),
    }


def test_parametrized_values_and_fixture_params_are_what_the_test_receives(
    tmp_path: Path,
) -> None:
    ws = index_tree(
        tmp_path,
        {
            "signing.py": """
                class Signer:
                    def sign(self, value):
                        return value

                class TimedSigner(Signer):
                    def sign(self, value):
                        return value + "!"

                class Other:
                    def sign(self, value):
                        return value
            """,
            "tests/test_signing.py": """
                from functools import partial

                import pytest
                from signing import Other, Signer, TimedSigner

                @pytest.fixture(params=[Signer, partial(TimedSigner)])
                def factory(request):
                    return partial(request.param)

                def test_factory(factory):
                    factory().sign("x")

                @pytest.mark.parametrize("kind, text", [(Other, "a"), pytest.param(Other, "b")])
                def test_parametrized(kind, text):
                    kind().sign(text)
            """,
        },
    )
    assert dependents(ws, "signing.py", "TimedSigner.sign") == {
        ("tests/test_signing.py", "test_factory")
    }
    assert dependents(ws, "signing.py", "Other.sign") == {
        ("tests/test_signing.py", "test_parametrized")
    }
    # `kind` and `text` are parametrized: no fixtures of those names are looked for
    kind = ws.query.symbol_at(
        ws.path("tests/test_signing.py"), *ws.pos("tests/test_signing.py", "kind, text):")
    )
    assert kind is None


def test_an_attribute_named_by_a_string_is_a_use(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "ctx.py": """
                class Context:
                    @property
                    def meta(self):
                        return {}

                def inherit(parent: Context):
                    return getattr(parent, "meta", {})

                def check(parent: Context):
                    return hasattr(parent, "meta")
            """,
        },
    )
    assert dependents(ws, "ctx.py", "Context.meta") == {("ctx.py", "inherit"), ("ctx.py", "check")}
    meta = ws.symbol("ctx.py", "Context.meta")
    assert ws.at("ctx.py", '"meta", {}', offset=1) in ws.ref_set(meta)


def test_careful_guesses_follow_rare_names_once_and_never_builtin_ones(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "orm.py": """
                class Query:
                    def chain(self):
                        return self

                class Cache:
                    def get(self, key):
                        return key

                class QuerySet:
                    def __init__(self, query):
                        self._query = query

                    @property
                    def query(self):
                        return self._query

                    def filter(self):
                        return self.query.chain()

                def lookup(d, key):
                    return d.get(key)
            """,
            "tests/test_orm.py": """
                from orm import QuerySet

                def test_filter():
                    QuerySet(None).filter()
            """,
        },
    )

    def reached(qualname: str, **options: object) -> set[str]:
        result = impact_of(ws.query, [ws.symbol("orm.py", qualname)], **options)  # type: ignore[arg-type]
        return {n.symbol.qualname for n in result.nodes}

    assert reached("Query.chain") == set()  # exact: `self.query` has no known type
    careful = {"include_probable": True, "probable_names": 4}
    assert reached("Query.chain", **careful) == {"QuerySet.filter", "test_filter"}
    assert reached("Cache.get", **careful) == set()  # `get`: dict's, as likely as ours
    assert reached("Cache.get", include_probable=True) == {"lookup"}
