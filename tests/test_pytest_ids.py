"""pytest node ids for reached tests: functions, methods of collected classes, inherited test
methods under each subclass, test classes imported into another test module."""

from __future__ import annotations

from pathlib import Path

from helpers import index_tree

from forge_lsp.changes.pytest_ids import PytestIds


def test_node_ids_follow_how_pytest_collects(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "tests/test_base.py": """
                import unittest

                def test_function():
                    pass

                class TestBase:
                    def test_inherited(self):
                        pass

                    class TestNested:
                        def test_deep(self):
                            pass

                class Helper:
                    def test_not_collected(self):
                        pass

                class Cases(unittest.TestCase):
                    def test_case(self):
                        pass
            """,
            "tests/test_sub.py": """
                from test_base import TestBase

                class TestSub(TestBase):
                    pass

                class TestOverrides(TestBase):
                    def test_inherited(self):
                        pass
            """,
        },
    )
    ids = PytestIds(ws.query, ws.path(""))

    def of(rel: str, qualname: str) -> list[str]:
        sym = ws.symbol(rel, qualname)
        return ids.of([sym]).get(sym.id, [])

    assert of("tests/test_base.py", "test_function") == ["tests/test_base.py::test_function"]
    assert of("tests/test_base.py", "TestBase.test_inherited") == [
        "tests/test_base.py::TestBase::test_inherited",
        "tests/test_sub.py::TestBase::test_inherited",  # imported there: collected again
        "tests/test_sub.py::TestSub::test_inherited",  # inherited, not overridden
    ]
    assert of("tests/test_base.py", "TestBase.TestNested.test_deep") == [
        "tests/test_base.py::TestBase::TestNested::test_deep"
    ]
    assert of("tests/test_base.py", "Helper.test_not_collected") == []
    assert of("tests/test_base.py", "Cases.test_case") == ["tests/test_base.py::Cases::test_case"]
