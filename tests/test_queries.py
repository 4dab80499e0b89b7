"""Query API: calls, impact, symbols, definition, status."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import Indexed, index_tree, reindex

from forge_lsp.graph.impact import impact

APP = {
    "app/__init__.py": "",
    "app/core.py": """
        def base():
            return 1

        def middle():
            return base() + 1

        def top():
            return middle() * 2

        def loop_a():
            return loop_b()

        def loop_b():
            return loop_a()
    """,
    "app/service.py": """
        from app.core import top

        class Service:
            def run(self):
                return top()
    """,
    "tests/test_service.py": """
        from app.service import Service

        def test_run():
            assert Service().run() == 4

        def helper_not_a_test():
            return Service
    """,
}


@pytest.fixture
def ws(tmp_path: Path) -> Indexed:
    return index_tree(tmp_path, APP)


def test_incoming_and_outgoing_calls(ws: Indexed) -> None:
    middle = ws.symbol("app/core.py", "middle")
    incoming = ws.query.incoming_calls(middle)
    assert [(g.symbol.qualname, [(s.line, s.col) for s in g.sites]) for g in incoming] == [
        ("top", [ws.pos("app/core.py", "middle()", 1)])
    ]
    outgoing = ws.query.outgoing_calls(middle)
    assert [g.symbol.qualname for g in outgoing] == ["base"]
    assert [(s.line, s.col) for s in outgoing[0].sites] == [ws.pos("app/core.py", "base()", 1)]


def test_impact_paths_depth_tests_and_cycles(ws: Indexed) -> None:
    base = ws.symbol("app/core.py", "base")
    result = impact(ws.query, symbol=base)
    names = [n.symbol.qualname for n in result.nodes]
    # importing a name is no use of it: the modules that import `top` and `Service` are not
    # dependents, the code that calls them is
    assert names == ["middle", "top", "Service.run", "test_run"]
    assert [n.depth for n in result.nodes] == [1, 2, 3, 4]
    assert (result.truncated, result.unexpanded, result.depth) == (None, 0, None)
    assert (result.exact_count, result.probable_count) == (4, 0)
    run = next(n for n in result.nodes if n.symbol.qualname == "Service.run")
    assert [ws.query.symbol(e.target).qualname for e in run.chain] == ["base", "middle", "top"]  # type: ignore[union-attr]
    assert [e.role for e in run.chain] == ["call", "call", "call"]
    assert [n.symbol.qualname for n in result.tests] == ["test_run"]
    assert result.test_files == [ws.path("tests/test_service.py")]
    shallow = impact(ws.query, symbol=base, depth=1)
    assert [n.symbol.qualname for n in shallow.nodes] == ["middle"]
    assert (shallow.truncated, shallow.unexpanded) == ("depth", 1)  # `middle` not expanded
    capped = impact(ws.query, symbol=base, max_nodes=2)
    assert [n.symbol.qualname for n in capped.nodes] == ["middle", "top"]
    assert (capped.truncated, capped.unexpanded) == ("nodes", 1)
    cycle = impact(ws.query, symbol=ws.symbol("app/core.py", "loop_a"), depth=10)
    assert [n.symbol.qualname for n in cycle.nodes] == ["loop_b"]


def test_impact_of_a_file(ws: Indexed) -> None:
    result = impact(ws.query, path=ws.path("app/service.py"))
    assert {n.symbol.qualname for n in result.nodes} == {"test_run", "helper_not_a_test"}
    assert {n.symbol.path for n in result.nodes} == {ws.path("tests/test_service.py")}


def test_workspace_symbols_rank_exact_then_prefix_then_fuzzy(ws: Indexed) -> None:
    found = [s.qualname for s in ws.query.workspace_symbols("top")]
    assert found[0] == "top"
    assert [s.qualname for s in ws.query.workspace_symbols("loop")][:2] == ["loop_a", "loop_b"]
    assert "Service" in [s.qualname for s in ws.query.workspace_symbols("srvc")]
    assert ws.query.workspace_symbols("") == []


def test_definition_and_document_symbols(ws: Indexed) -> None:
    line, col = ws.pos("app/service.py", "top()")
    (target,) = ws.query.definition(ws.path("app/service.py"), line, col)
    assert (target.qualname, target.path) == ("top", ws.path("app/core.py"))
    tree = ws.query.document_symbols(ws.path("app/service.py"))
    assert [(n.symbol.name, [c.symbol.name for c in n.children]) for n in tree] == [
        ("Service", ["run"])
    ]


def test_status_counts(ws: Indexed) -> None:
    status = ws.query.status()
    assert status["files"] == 4
    assert status["symbols"] == ws.report.symbols
    assert status["references"] == ws.report.references
    assert 0 < status["resolvedPercent"] <= 100


SEARCHED = {
    "httpx/__init__.py": "from httpx._client import Client\n",
    "httpx/_client.py": (
        "class Client:\n"
        "    def send(self, request):\n"
        "        def send_once():\n"
        "            return request\n"
        "        return send_once()\n"
        "\n"
        "\n"
        "def sender():\n"
        "    return Client().send(1)\n"
    ),
    "other.py": "def send(x):\n    return x\n\n\ndef s_e_n_d():\n    return 0\n",
}


def _found(tree: Indexed, query: str) -> list[tuple[str, str]]:
    root = tree.root.as_posix() + "/"
    return [(s.path.removeprefix(root), s.qualname) for s in tree.query.workspace_symbols(query)]


def test_workspace_symbols_by_dotted_name(tmp_path: Path) -> None:
    tree = index_tree(tmp_path, SEARCHED)
    try:
        assert _found(tree, "Client.send") == [("httpx/_client.py", "Client.send")]
        # `httpx.Client`: the qualifiers in order in the module path (httpx._client)
        assert _found(tree, "httpx.Client") == [("httpx/_client.py", "Client")]
        assert _found(tree, "httpx._client.Client.send") == [("httpx/_client.py", "Client.send")]
        # the qualifier ending the path ranks first; `other.send` has no `send` class
        assert _found(tree, "send.send_once") == [("httpx/_client.py", "Client.send.send_once")]
        assert _found(tree, "nowhere.send") == []
        assert _found(tree, "Client.") == [("httpx/_client.py", "Client")]
    finally:
        tree.query.close()


def test_workspace_symbols_find_modules_by_dotted_name_and_last_part(tmp_path: Path) -> None:
    tree = index_tree(tmp_path, {**SEARCHED, "Übung.py": "x = 1\n"})
    root = tree.root.as_posix() + "/"

    def found(query: str) -> list[tuple[str, str, str]]:
        return [
            (s.path.removeprefix(root), s.kind, s.display_name)
            for s in tree.query.workspace_symbols(query)
        ]

    try:
        assert found("httpx._client") == [("httpx/_client.py", "module", "httpx._client")]
        assert found("_client") == [("httpx/_client.py", "module", "httpx._client")]
        # the packages in order, as for other symbols; a module's last part is not a package
        assert found("httpx._cl") == [("httpx/_client.py", "module", "httpx._client")]
        assert found("_client._client") == []
        # by prefix, never by substring: `client` is the class (case aside), not `_client`
        assert found("client") == [("httpx/_client.py", "class", "Client")]
        assert found("oth") == [("other.py", "module", "other")]
        # the module beside the names it matches, ranked as they are (exactly, then prefix)
        assert found("httpx") == [("httpx/__init__.py", "module", "httpx")]
        # beyond ASCII too, whatever the case (LIKE folds the case of ASCII letters only)
        assert found("übung") == [("Übung.py", "module", "Übung")]
    finally:
        tree.query.close()


def test_workspace_symbols_fall_back_to_fuzzy_when_no_symbol_matches_whatever_else_has_the_name(
    tmp_path: Path,
) -> None:
    tree = index_tree(
        tmp_path,
        {
            "rows.py": "import json\n\n\ndef dump_rows(x):\n    return json.dumps(x)\n",
            "shop.py": "def s_h_o_p():\n    return 0\n",
        },
    )
    try:
        # `dumps` and `json` are names of the graph (references to the outside), no symbol's
        assert _found(tree, "dumps") == [("rows.py", "dump_rows")]
        assert _found(tree, "json") == []
        # a module matched: no fuzzy guesses beside it
        assert _found(tree, "shop") == [("shop.py", "")]
        assert _found(tree, "sh_p") == [("shop.py", "s_h_o_p")]
    finally:
        tree.query.close()


def test_workspace_symbols_read_names_only_as_far_as_the_limit_needs_and_no_shorter(
    tmp_path: Path,
) -> None:
    tree = index_tree(
        tmp_path,
        {
            "a.py": "def run_a():\n    pass\n\n\nclass run_b:\n    pass\n\n\ndef run_all():\n    pass\n",
            "b.py": "def run():\n    pass\n\n\nclass Run:\n    pass\n\n\ndef runner():\n    pass\n",
        },
    )

    def found(query: str, limit: int) -> list[str]:
        return [s.qualname for s in tree.query.workspace_symbols(query, limit=limit)]

    try:
        assert found("run", 3) == ["run", "Run", "run_b"]
        assert found("run", 1) == ["run"]
        # `run_a` and `run_b` tie on rank and length: the class comes first, though the function's
        # name was seen first and alone would have filled the answer
        assert found("run_", 1) == ["run_b"]
        assert found("run_", 3) == ["run_b", "run_a", "run_all"]
    finally:
        tree.query.close()


def test_workspace_symbols_rank_methods_above_closures_and_fuzzy_only_when_nothing_else(
    tmp_path: Path,
) -> None:
    tree = index_tree(tmp_path, SEARCHED)
    try:
        # exact first (functions before methods), then prefix, and the closure after the
        # method of the same rank; `s_e_n_d` is a fuzzy match, left out: better ones exist
        assert _found(tree, "send") == [
            ("other.py", "send"),
            ("httpx/_client.py", "Client.send"),
            ("httpx/_client.py", "sender"),
            ("httpx/_client.py", "Client.send.send_once"),
        ]
        assert _found(tree, "sndd") == []
        assert _found(tree, "s_n_d")[0] == ("other.py", "s_e_n_d")  # fuzzy, as nothing else is
    finally:
        tree.query.close()


def test_the_keyword_of_a_definition_and_just_after_its_name_mean_the_definition(
    tmp_path: Path,
) -> None:
    tree = index_tree(
        tmp_path,
        {
            "m.py": "class Box:\n    async def fill(self):\n        return 1\n\n\ndef top():\n    pass\n"
        },
    )
    path = tree.path("m.py")
    try:

        def at(line: int, col: int) -> str | None:
            sym = tree.query.symbol_at(path, line, col)
            return sym.qualname if sym is not None else None

        assert [at(0, c) for c in (0, 4, 6, 9)] == ["Box", "Box", "Box", "Box"]  # class, Box, after
        assert [at(1, c) for c in (4, 10, 14, 18)] == ["Box.fill"] * 4  # async, def, fill, after
        assert at(5, 0) == "top" and at(5, 7) == "top"
        assert at(2, 8) is None  # `return`: a statement in the body, not a definition
        assert at(1, 19) is None  # `self`: a parameter, not a symbol
    finally:
        tree.query.close()


def test_a_module_is_shown_by_its_dotted_name_from_its_package_root(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "src/httpx/__init__.py": "",
            "src/httpx/_client.py": "def send(): ...\n",
            "flask/__init__.py": "",
            "flask/sansio/app.py": "class App: ...\n",
            "tests/test_client.py": "from httpx._client import send\n",
            "tools/run.py": "",
        },
    )

    def shown(rel: str) -> str:
        sym = ws.query.module_symbol(ws.path(rel))
        assert sym is not None
        return sym.display_name

    assert shown("src/httpx/_client.py") == "httpx._client"  # not src.httpx._client
    assert shown("src/httpx/__init__.py") == "httpx"
    assert shown("flask/sansio/app.py") == "flask.sansio.app"  # not app: a namespace portion
    assert shown("tests/test_client.py") == "test_client"  # as pytest imports it
    assert shown("tools/run.py") == "run"
    # a new __init__ makes tools a package: the file's names, and the one it is shown by, change
    (ws.root / "tools" / "__init__.py").write_text("")
    reindex(ws)
    assert shown("tools/run.py") == "tools.run"
