"""One small workspace per Python name-resolution case, asserting exact reference locations."""

from __future__ import annotations

from pathlib import Path

from helpers import index_tree


def test_package_layout_init_namespace_and_src(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "src/app/__init__.py": "",
            "src/app/core.py": "def run():\n    pass\n",
            "nspkg/tools/helpers.py": "def assist():\n    pass\n",
            "main.py": """
                from app.core import run
                from nspkg.tools import helpers
                import nspkg.tools.helpers

                run()
                helpers.assist()
                nspkg.tools.helpers.assist()
            """,
        },
    )
    run = ws.symbol("src/app/core.py", "run")
    assert ws.ref_set(run) == {
        ws.at("src/app/core.py", "run"),
        ws.at("main.py", "run", 0),
        ws.at("main.py", "run()"),
    }
    assist = ws.symbol("nspkg/tools/helpers.py", "assist")
    assert ws.ref_set(assist) == {
        ws.at("nspkg/tools/helpers.py", "assist"),
        ws.at("main.py", "assist", 0),
        ws.at("main.py", "assist", 1),
    }
    module = ws.query.module_symbol(ws.path("nspkg/tools/helpers.py"))
    assert module is not None
    assert ws.ref_set(module) == {
        ws.at("main.py", "helpers", 0),
        ws.at("main.py", "helpers", 1),
        ws.at("main.py", "helpers", 2),
        ws.at("main.py", "helpers", 3),
    }


def test_import_as_and_module_attribute(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "pkg/__init__.py": "",
            "pkg/sub/__init__.py": "",
            "pkg/sub/mod.py": "def func():\n    return 1\n\nVALUE = 2\n",
            "use.py": """
                import pkg.sub.mod as m
                import pkg.sub.mod

                def go():
                    return m.func() + pkg.sub.mod.func() + m.VALUE
            """,
        },
    )
    func = ws.symbol("pkg/sub/mod.py", "func")
    assert ws.ref_set(func) == {
        ws.at("pkg/sub/mod.py", "func"),
        ws.at("use.py", "func", 0),
        ws.at("use.py", "func", 1),
    }
    value = ws.symbol("pkg/sub/mod.py", "VALUE")
    assert ws.ref_set(value) == {ws.at("pkg/sub/mod.py", "VALUE"), ws.at("use.py", "VALUE")}
    calls = ws.query.incoming_calls(func)
    assert [g.symbol.qualname for g in calls] == ["go"]
    assert len(calls[0].sites) == 2


def test_relative_imports_of_every_depth(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "top/__init__.py": "",
            "top/base.py": "class Base:\n    pass\n",
            "top/a/__init__.py": "from . import leaf\n",
            "top/a/leaf.py": "def leaf_fn():\n    pass\n",
            "top/a/b/__init__.py": "",
            "top/a/b/deep.py": """
                from ... import base
                from ...base import Base
                from .. import leaf
                from ..leaf import leaf_fn

                class Child(Base):
                    pass

                base.Base
                leaf.leaf_fn()
            """,
        },
    )
    base_cls = ws.symbol("top/base.py", "Base")
    assert ws.ref_set(base_cls) == {
        ws.at("top/base.py", "Base"),
        ws.at("top/a/b/deep.py", "Base", 0),
        ws.at("top/a/b/deep.py", "Base", 1),
        ws.at("top/a/b/deep.py", "Base", 2),
    }
    leaf_fn = ws.symbol("top/a/leaf.py", "leaf_fn")
    assert ws.ref_set(leaf_fn) == {
        ws.at("top/a/leaf.py", "leaf_fn"),
        ws.at("top/a/b/deep.py", "leaf_fn", 0),
        ws.at("top/a/b/deep.py", "leaf_fn", 1),
    }
    leaf_module = ws.query.module_symbol(ws.path("top/a/leaf.py"))
    assert leaf_module is not None
    assert ws.at("top/a/__init__.py", "leaf") in ws.ref_set(leaf_module)


def test_star_import_honours_all_and_reexports(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib/__init__.py": "from .impl import *\nfrom .other import helper as public_helper\n",
            "lib/impl.py": """
                __all__ = ["exported"]

                def exported():
                    pass

                def not_exported():
                    pass
            """,
            "lib/other.py": "def helper():\n    pass\n",
            "client.py": """
                from lib import exported, public_helper
                from lib import *

                exported()
                not_exported()
                public_helper()
            """,
        },
    )
    exported = ws.symbol("lib/impl.py", "exported")
    assert ws.ref_set(exported) == {
        ws.at("lib/impl.py", "exported", 0),  # the __all__ entry (role export)
        ws.at("lib/impl.py", "exported", 1),
        ws.at("client.py", "exported", 0),
        ws.at("client.py", "exported", 1),
    }
    hidden = ws.symbol("lib/impl.py", "not_exported")
    assert ws.ref_set(hidden) == {ws.at("lib/impl.py", "not_exported")}
    helper = ws.symbol("lib/other.py", "helper")
    # uses through the alias are uses of the function, as pyright reports them
    assert ws.ref_set(helper) == {
        ws.at("lib/other.py", "helper"),
        ws.at("lib/__init__.py", "helper"),
        ws.at("client.py", "public_helper"),
        ws.at("client.py", "public_helper()"),
    }
    assert ws.symbol_at("client.py", "public_helper()") == helper


def test_methods_self_cls_super_and_class_name(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "shapes.py": """
                class Shape:
                    def __init__(self, size):
                        self.size = size

                    def area(self):
                        return 0

                    @classmethod
                    def make(cls):
                        return cls.area(cls(1))

                    def describe(self):
                        return self.area()


                class Square(Shape):
                    def area(self):
                        return super().area() + self.size

                    def twice(self):
                        return Shape.area(self) + self.describe()


                def build():
                    s = Square(2)
                    return s.area() + Shape(1).area()
            """,
        },
    )
    shape_area = ws.symbol("shapes.py", "Shape.area")
    assert ws.ref_set(shape_area) == {
        ws.at("shapes.py", "area", 0),
        ws.at("shapes.py", "area", 1),  # cls.area
        ws.at("shapes.py", "area", 2),  # self.area in Shape
        ws.at("shapes.py", "area", 4),  # super().area
        ws.at("shapes.py", "area", 5),  # Shape.area(self)
        ws.at("shapes.py", "area", 7),  # Shape(1).area()
    }
    square_area = ws.symbol("shapes.py", "Square.area")
    assert ws.ref_set(square_area) == {
        ws.at("shapes.py", "area", 3),
        ws.at("shapes.py", "area", 6),  # s = Square(2); s.area()
    }
    describe = ws.symbol("shapes.py", "Shape.describe")
    assert ws.at("shapes.py", "describe", 1) in ws.ref_set(describe)  # inherited through Square
    size = ws.symbol("shapes.py", "Shape.size")
    assert ws.ref_set(size) == {ws.at("shapes.py", "size", 1), ws.at("shapes.py", "size", 3)}


def test_constructor_calls_reach_class_and_init(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "models.py": """
                class Thing:
                    def __init__(self):
                        pass

                def make():
                    return Thing()
            """,
        },
    )
    init = ws.symbol("models.py", "Thing.__init__")
    incoming = ws.query.incoming_calls(init)
    assert [g.symbol.qualname for g in incoming] == ["make"]
    (site,) = incoming[0].sites
    assert (site.line, site.col) == ws.pos("models.py", "Thing()")
    thing = ws.symbol("models.py", "Thing")
    assert ws.at("models.py", "Thing()") in ws.ref_set(thing)


def test_inheritance_across_files(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "base.py": "class Base:\n    def save(self):\n        pass\n",
            "mid.py": "from base import Base\n\nclass Mid(Base):\n    pass\n",
            "leaf.py": """
                import mid

                class Leaf(mid.Mid):
                    def go(self):
                        self.save()
            """,
        },
    )
    save = ws.symbol("base.py", "Base.save")
    assert ws.ref_set(save) == {ws.at("base.py", "save"), ws.at("leaf.py", "save")}


def test_decorators(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "deco.py": "def register(fn):\n    return fn\n\ndef tagged(name):\n    return register\n",
            "use.py": """
                import deco
                from deco import register

                @register
                def a():
                    pass

                @deco.tagged("x")
                def b():
                    pass
            """,
        },
    )
    register = ws.symbol("deco.py", "register")
    refs = ws.query.references(register, include_declaration=False)
    roles = {(r.location.line, r.role) for r in refs}
    assert (ws.pos("use.py", "@register")[0], "decorate") in roles
    tagged = ws.symbol("deco.py", "tagged")
    assert ws.ref_set(tagged, include_declaration=False) == {ws.at("use.py", "tagged")}


def test_nested_functions_closures_and_shadowing(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "m.py": """
                x = 1

                def outer():
                    def inner():
                        return x
                    return inner()

                def shadow():
                    x = 2
                    return x

                def param(x):
                    return x

                def comp():
                    return [x for x in range(3)]
            """,
        },
    )
    module_x = ws.symbol("m.py", "x")
    assert ws.ref_set(module_x) == {ws.at("m.py", "x"), ws.at("m.py", "x", 1)}
    inner = ws.symbol("m.py", "outer.inner")
    assert ws.ref_set(inner) == {ws.at("m.py", "inner"), ws.at("m.py", "return inner()", offset=7)}


def test_global_and_nonlocal(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "g.py": """
                counter = 0

                def bump():
                    global counter
                    counter += 1

                def make():
                    total = 0
                    def add():
                        nonlocal total
                        total += 1
                    return add
            """,
        },
    )
    counter = ws.symbol("g.py", "counter")
    refs = {
        (r.location.line, r.location.col, r.role)
        for r in ws.query.references(counter, include_declaration=False)
    }
    line, col = ws.pos("g.py", "counter += 1")
    glob_line, glob_col = ws.pos("g.py", "global counter", offset=7)
    assert refs == {(line, col, "write"), (glob_line, glob_col, "read")}
    # `total` is a local of make(): nothing about it reaches the graph as a module name
    assert all(s.name != "total" for s in ws.query.file_symbols(ws.path("g.py")))


def test_probable_edges_for_unknown_receivers(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "svc.py": "class Service:\n    def handle(self):\n        pass\n",
            "use.py": """
                def dispatch(obj):
                    return obj.handle()
            """,
        },
    )
    handle = ws.symbol("svc.py", "Service.handle")
    assert ws.ref_set(handle) == {ws.at("svc.py", "handle")}
    assert ws.ref_set(handle, probable=True) == {
        ws.at("svc.py", "handle"),
        ws.at("use.py", "handle"),
    }
    probable = [
        r for r in ws.query.references(handle, include_probable=True) if r.confidence == "probable"
    ]
    assert [r.role for r in probable] == ["call"]


def test_annotated_parameters_and_local_instances(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "repo.py": "class Repo:\n    def fetch(self):\n        pass\n",
            "use.py": """
                from repo import Repo

                def by_annotation(r: Repo):
                    return r.fetch()

                def by_constructor():
                    r = Repo()
                    return r.fetch()
            """,
        },
    )
    fetch = ws.symbol("repo.py", "Repo.fetch")
    assert ws.ref_set(fetch) == {
        ws.at("repo.py", "fetch"),
        ws.at("use.py", "fetch", 0),
        ws.at("use.py", "fetch", 1),
    }


def test_a_directory_without_init_inside_a_package_is_a_namespace_portion(tmp_path: Path) -> None:
    """`flask/sansio/app.py` (no `sansio/__init__.py`) is `flask.sansio.app`, as Python imports
    it: its relative imports start from there."""
    ws = index_tree(
        tmp_path,
        {
            "src/flask/__init__.py": "",
            "src/flask/helpers.py": "def get_root_path():\n    pass\n",
            "src/flask/sansio/scaffold.py": """
                from ..helpers import get_root_path
                from flask.helpers import get_root_path as again

                get_root_path()
            """,
        },
    )
    helper = ws.symbol("src/flask/helpers.py", "get_root_path")
    assert ws.ref_set(helper) == {
        ws.at("src/flask/helpers.py", "get_root_path"),
        ws.at("src/flask/sansio/scaffold.py", "get_root_path", 0),
        ws.at("src/flask/sansio/scaffold.py", "get_root_path", 1),
        ws.at("src/flask/sansio/scaffold.py", "get_root_path", 2),
    }
