"""Unit tests for the accuracy harness's pure helpers, plus one end-to-end run on a fake forge.

No network, no jedi or basedpyright runs: oracle answers are written into the cache by hand.
"""

from __future__ import annotations

import io
import json
import re
import sys
from pathlib import Path

import pytest

from bench import accuracy, forge_cli, scoring
from bench.categories import (
    ASSIGN_TARGET,
    BASE_CLASS,
    CLASS_ATTR,
    DECORATOR,
    DEFINITION_SITE,
    DUNDER_ALL,
    FROM_IMPORT,
    FSTRING,
    IMPORT,
    KEYWORD_ARG,
    MODULE_ATTR,
    NAME_ATTR,
    NAME_CHAIN_ATTR,
    OTHER,
    OTHER_DEFINITION,
    PLAIN_NAME,
    PLAIN_NAME_OTHER_FILE,
    PLAIN_NAME_SAME_FILE,
    SELF_ATTR,
    STRING,
    SUPER_CALL,
    FileContext,
    build_context,
    categorize,
    module_alias_names,
    split_plain_name,
)
from bench.lsp_client import encode_message, read_message
from bench.metrics import Counts, agreement, compare, macro, micro
from bench.oracle_pyright import lsp_location_to_location
from bench.sample import Symbol, choose_sample, iter_definitions
from bench.textpos import (
    byte_to_codepoint,
    codepoint_to_utf16,
    find_def_name_column,
    relativize,
    split_lines,
    utf16_to_codepoint,
)

FAKE_FORGE = Path(__file__).parent / "fixtures" / "fake_forge_cli.py"

# -- positions ---------------------------------------------------------------------------------


def test_utf16_offsets_count_astral_characters_twice() -> None:
    line = "x = '😀' + name"  # the emoji is one code point, two UTF-16 units
    cp = line.index("name")
    assert cp == 10
    assert codepoint_to_utf16(line, cp) == 11
    assert utf16_to_codepoint(line, 11) == 10


def test_utf16_conversion_is_identity_for_bmp_text() -> None:
    line = "é = ça + ñ"
    for cp in range(len(line) + 1):
        assert codepoint_to_utf16(line, cp) == cp
        assert utf16_to_codepoint(line, cp) == cp


def test_utf16_roundtrip_with_several_astral_characters() -> None:
    line = "s🐍 = f('𝄞', z🐍)"
    for cp in range(len(line) + 1):
        assert utf16_to_codepoint(line, codepoint_to_utf16(line, cp)) == cp


def test_byte_offsets_become_code_points() -> None:
    line = "é😀 def"
    assert byte_to_codepoint(line, len("é😀 ".encode())) == 3


def test_def_name_column_skips_keywords() -> None:
    assert find_def_name_column("    async  def  fetch(x):", 4, "fetch") == 16
    assert find_def_name_column("class Café(Base):", 0, "Café") == 6
    assert find_def_name_column("def other():", 0, "fetch") is None


def test_split_lines_ignores_form_feed() -> None:
    assert split_lines("a\x0cb\nc\r\nd\re") == ["a\x0cb", "c", "d", "e"]


def test_relativize_drops_paths_outside_root(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    assert relativize(tmp_path / "pkg" / "m.py", tmp_path) == "pkg/m.py"
    assert relativize("/usr/lib/python3/os.py", tmp_path) is None


# -- sampling ----------------------------------------------------------------------------------

SAMPLE_SOURCE = """\
import os


@decorator
def top(x):
    def inner():
        pass
    return inner


async def acall():
    pass


class Thing(Base):
    class Meta:
        def meta_method(self):
            pass

    def __init__(self):
        pass

    async def run(self):
        pass


def café():
    pass
"""


def test_definitions_are_positioned_on_name_tokens() -> None:
    found = {s.qualname: s for s in iter_definitions("m.py", SAMPLE_SOURCE)}
    assert set(found) == {"top", "acall", "Thing", "Thing.Meta.meta_method", "Thing.run", "café"}
    assert (found["top"].line, found["top"].column, found["top"].kind) == (5, 5, "function")
    assert (found["acall"].line, found["acall"].column) == (11, 11)
    assert (found["Thing"].column, found["Thing"].kind) == (7, "class")
    assert (found["Thing.run"].line, found["Thing.run"].column) == (23, 15)
    assert found["Thing.run"].kind == "method"
    assert found["Thing.Meta.meta_method"].kind == "method"
    lines = SAMPLE_SOURCE.split("\n")
    for symbol in found.values():
        line = lines[symbol.line - 1]
        assert line[symbol.column - 1 :].startswith(symbol.name)


def _symbols(kind: str, count: int) -> list[Symbol]:
    return [Symbol(f"f{i}.py", i + 1, 5, f"n{i}", kind, f"n{i}") for i in range(count)]


def test_sample_is_deterministic_per_seed_and_respects_counts() -> None:
    pool = _symbols("function", 50) + _symbols("method", 50) + _symbols("class", 50)
    counts = {"function": 4, "method": 3, "class": 2}
    first = choose_sample(pool, 0, counts)
    assert first == choose_sample(list(reversed(pool)), 0, counts)
    assert [s.kind for s in first].count("method") == 3
    assert len(first) == 9
    assert first != choose_sample(pool, 1, counts)


# -- metrics -----------------------------------------------------------------------------------


def test_compare_and_micro_macro() -> None:
    a = compare({1, 2, 3}, {2, 3, 4, 5})
    assert a == Counts(tp=2, fn=2, fp=1)
    b = compare(set(), {9})
    assert b.precision is None and b.recall == 0.0
    c = compare({7}, set())
    assert c.recall is None and c.precision == 0.0
    total = micro([a, b, c])
    assert total == Counts(tp=2, fn=3, fp=2)
    assert total.recall == pytest.approx(2 / 5)
    assert total.precision == pytest.approx(2 / 4)
    recall, precision = macro([a, b, c])
    assert recall == pytest.approx((0.5 + 0.0) / 2)
    assert precision == pytest.approx((2 / 3 + 0.0) / 2)


def test_agreement_measures_mutual_coverage() -> None:
    result = agreement([({1, 2}, {1, 2}), ({1, 2, 3}, {3, 4})])
    assert result.symbols == 2 and result.identical == 1
    assert result.jaccard == pytest.approx(3 / 6)
    assert result.a_in_b == pytest.approx(3 / 5)
    assert result.b_in_a == pytest.approx(3 / 4)


def test_pick_examples_round_robins_over_symbols() -> None:
    sym_a = Symbol("a.py", 1, 1, "a", "function", "a")
    sym_b = Symbol("b.py", 1, 1, "b", "function", "b")
    misses = [scoring.Miss(sym_a, ("a.py", i, 1), "other", "") for i in range(5)]
    misses.append(scoring.Miss(sym_b, ("b.py", 9, 1), "other", ""))
    picked = scoring.pick_examples(misses, 3)
    assert [m.location for m in picked] == [("a.py", 0, 1), ("b.py", 9, 1), ("a.py", 1, 1)]


# -- miss categories -----------------------------------------------------------------------------

CATEGORY_SOURCE = '''\
import pkg.mod
from pkg import mod as m2
from pkg.mod import target
from .sibling import target as t2

__all__ = ["target", "Other"]


@target
class Child(target, Base):
    """target is documented here."""

    def target(self):  # target in a comment
        super().target()
        self.target()
        cls.target
        m2.target()
        pkg.mod.target()
        Child.target()
        CONSTANT.target()
        obj.target()
        obj.attr.target()
        call(target=1)
        return target(x == target)


@decorate(arg.target, key=target)
def f():
    target = f"{obj.target} target"
    target += 1
'''


UNBOUND = "not bound in the file (builtin or star import)"


def _ctx(text: str = CATEGORY_SOURCE) -> FileContext:
    modules = {"pkg", "pkg.mod", "pkg.sibling"}
    return build_context(text, "pkg/user.py", lambda dotted: dotted in modules)


def _locate(text: str, line: int, needle: str, occurrence: int = 0) -> int:
    row = text.split("\n")[line - 1]
    starts = [m.start() for m in re.finditer(rf"\b{needle}\b", row)]
    return starts[occurrence] + 1


@pytest.mark.parametrize(
    ("line", "name", "occurrence", "expected"),
    [
        (1, "mod", 0, IMPORT),
        (3, "target", 0, FROM_IMPORT),
        (4, "target", 0, FROM_IMPORT),
        (6, "target", 0, DUNDER_ALL),
        (9, "target", 0, DECORATOR),
        (10, "target", 0, BASE_CLASS),
        (11, "target", 0, STRING),
        (13, "target", 0, OTHER_DEFINITION),
        (13, "target", 1, STRING),
        (14, "target", 0, SUPER_CALL),
        (15, "target", 0, SELF_ATTR),
        (16, "target", 0, SELF_ATTR),
        (17, "target", 0, MODULE_ATTR),
        (18, "target", 0, MODULE_ATTR),
        (19, "target", 0, CLASS_ATTR),
        (20, "target", 0, f"{NAME_ATTR}, x: {UNBOUND}"),
        (21, "target", 0, f"{NAME_ATTR}, x: {UNBOUND}"),
        (22, "target", 0, f"{NAME_CHAIN_ATTR}, x: {UNBOUND}"),
        (23, "target", 0, KEYWORD_ARG),
        (24, "target", 0, PLAIN_NAME),
        (24, "target", 1, PLAIN_NAME),
        (27, "target", 0, f"{NAME_ATTR}, x: {UNBOUND}"),
        (27, "target", 1, PLAIN_NAME),
        (29, "target", 0, ASSIGN_TARGET),
        (29, "target", 1, FSTRING),
        (30, "target", 0, ASSIGN_TARGET),
    ],
)
def test_categorize(line: int, name: str, occurrence: int, expected: str) -> None:
    column = _locate(CATEGORY_SOURCE, line, name, occurrence)
    assert categorize(_ctx(), line, column, name) == expected


def test_categorize_definition_site_and_unicode_columns() -> None:
    text = "x = '😀'; y = café\ndef café(): pass\n"
    ctx = _ctx(text)
    assert categorize(ctx, 1, 14, "café") == PLAIN_NAME
    assert categorize(ctx, 2, 5, "café", is_query_site=True) == DEFINITION_SITE
    assert categorize(ctx, 2, 5, "café") == OTHER_DEFINITION
    assert categorize(ctx, 1, 13, "café") == OTHER  # not at the identifier's start


def test_plain_names_are_split_by_file() -> None:
    assert split_plain_name(PLAIN_NAME, "a.py", "a.py") == PLAIN_NAME_SAME_FILE
    assert split_plain_name(PLAIN_NAME, "b.py", "a.py") == PLAIN_NAME_OTHER_FILE
    assert split_plain_name(SELF_ATTR, "b.py", "a.py") == SELF_ATTR


def test_categorizer_knows_corpus_and_stdlib_modules(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "m.py").write_text(
        "from sqlite3 import dbapi2 as Database\nfrom pkg import m\n"
    )
    categorizer = scoring.Categorizer(tmp_path)
    assert categorizer.context("pkg/m.py").module_aliases == {"Database", "m"}


def test_module_aliases_resolve_relative_imports() -> None:
    import ast

    tree = ast.parse(
        "import a.b\nimport c.d as e\nfrom . import sib, func\nfrom .. import up\n"
        "from x.y import Klass\n"
    )
    modules = {"pkg.sub.sib", "pkg.up"}
    names = module_alias_names(tree, "pkg/sub/mod.py", lambda d: d in modules)
    assert names == {"a", "e", "sib", "up"}


# -- LSP plumbing --------------------------------------------------------------------------------


def test_lsp_framing_roundtrip() -> None:
    payload = {"jsonrpc": "2.0", "id": 1, "result": {"text": "é😀"}}
    stream = io.BytesIO(encode_message(payload) + encode_message({"method": "x"}))
    assert read_message(stream) == payload
    assert read_message(stream) == {"method": "x"}
    assert read_message(stream) is None


def test_lsp_locations_are_normalised_to_code_points(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("s = '😀'; name = 1\n", encoding="utf-8")
    location = {
        "uri": (tmp_path / "m.py").as_uri(),
        "range": {"start": {"line": 0, "character": 11}, "end": {"line": 0, "character": 15}},
    }
    assert lsp_location_to_location(location, tmp_path) == ("m.py", 1, 11)
    outside = dict(location, uri="file:///usr/lib/python3/typing.py")
    assert lsp_location_to_location(outside, tmp_path) is None


# -- forge output --------------------------------------------------------------------------------


def test_parse_refs_output_tolerates_noise_errors_and_relative_paths(tmp_path: Path) -> None:
    out = "\n".join(
        [
            "warning: something on stdout",
            json.dumps(
                {
                    "query": "q1",
                    "locations": [
                        {"path": str(tmp_path / "a.py"), "line": 3, "column": 5},
                        {"path": "b/c.py", "line": 1, "column": 1},
                        {"path": "/elsewhere/x.py", "line": 1, "column": 1},
                    ],
                }
            ),
            json.dumps({"query": "q2", "error": "no symbol", "locations": []}),
            "{not json",
        ]
    )
    answers = forge_cli.parse_refs_output(out, tmp_path)
    assert answers["q1"].locations == {("a.py", 3, 5), ("b/c.py", 1, 1)}
    assert answers["q1"].outside == 1
    assert answers["q2"].error == "no symbol" and not answers["q2"].locations


# -- end to end with a fake forge ----------------------------------------------------------------

CORPUS = {
    "pkg/__init__.py": "from pkg.mod import helper\n__all__ = ['helper']\n",
    "pkg/mod.py": (
        "import os\n\n\ndef helper(x):\n    return x\n\n\nclass Thing:\n"
        "    def run(self):\n        return helper(1)\n\n    def again(self):\n"
        "        return self.run()\n"
    ),
    "pkg/use.py": (
        "from pkg import mod\nfrom pkg.mod import Thing, helper\n\n\nclass Sub(Thing):\n"
        "    def run(self):\n        return super().run() + mod.helper(2)\n\n\n"
        "def main():\n    t = Thing()\n    t.run()\n    return helper(x=3)\n"
    ),
}


def _grep(name: str) -> set[tuple[str, int, int]]:
    found = set()
    for rel, text in CORPUS.items():
        for number, line in enumerate(text.split("\n"), start=1):
            for match in re.finditer(rf"\b{name}\b", line):
                found.add((rel, number, match.start() + 1))
    return found


def _is_call(loc: tuple[str, int, int]) -> bool:
    """A use followed by "(" that is not its def line."""
    line = CORPUS[loc[0]].split("\n")[loc[1] - 1]
    rest = line[loc[2] - 1 :]
    return re.match(r"\w+\(", rest) is not None and not line[: loc[2] - 1].endswith("def ")


def _dotted(locs: set[tuple[str, int, int]]) -> set[tuple[str, int, int]]:
    lines = {rel: text.split("\n") for rel, text in CORPUS.items()}
    return {loc for loc in locs if lines[loc[0]][loc[1] - 1][: loc[2] - 1].endswith(".")}


def test_end_to_end_with_fake_forge(tmp_path: Path) -> None:
    root = tmp_path / "corpus"
    for rel, text in CORPUS.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    args = accuracy.parse_args([])
    counts = {"function": 2, "method": 3, "class": 2}
    symbols = choose_sample(accuracy.collect_definitions(root), 0, counts)
    assert len(symbols) == 7
    cache: dict = {"format": accuracy.CACHE_FORMAT, "jedi": {}, "pyright": {}, "runs": []}
    cache["pyright_calls"] = {}
    for symbol in symbols:
        everything = _grep(symbol.name)
        cache["pyright"][symbol.key] = {"status": "ok", "locations": sorted(everything)}
        cache["jedi"][symbol.key] = {"status": "ok", "locations": sorted(everything)}
        if symbol.kind in accuracy.CALL_KINDS:
            sites = sorted(loc for loc in everything if _is_call(loc))
            cache["pyright_calls"][symbol.key] = {"status": "ok", "locations": sites}
    timed_out = next(s for s in symbols if s.name == "main")
    cache["jedi"][timed_out.key] = {"status": "timeout", "seconds": 60}
    cache_path = tmp_path / "oracle.json"
    cache_path.write_text(json.dumps(cache))
    out = tmp_path / "acc"
    argv = ["--corpus", str(root), "--oracle-cache", str(cache_path), "--out", str(out)]
    argv += ["--functions", "2", "--methods", "3", "--classes", "2"]
    argv += ["--forge-cmd", f"{sys.executable} {FAKE_FORGE}"]
    assert accuracy.main(argv) == 0
    data = json.loads(Path(f"{out}-corpus.json").read_text())
    assert Path(f"{out}-corpus.md").read_text().startswith("# forge_lsp")
    summary = json.loads(Path(f"{out}.json").read_text())
    assert [row["corpus"] for row in summary["corpora"]] == ["corpus"]
    assert "| corpus-" not in Path(f"{out}.md").read_text()  # the row is named after the tree
    assert args.seed == data["meta"]["seed"] == 0

    scored = [s for s in symbols if s is not timed_out]
    union = {s.key: _grep(s.name) for s in scored}
    dotted = sum(len(_dotted(locs)) for locs in union.values())
    total = sum(len(locs) for locs in union.values())
    exact = data["forge"]["exact"]["union"]["overall"]
    assert data["scored_union"] == 6
    assert data["oracle_status"]["jedi"] == {"ok": 6, "timeout": 1}
    assert (exact["tp"], exact["fn"], exact["fp"]) == (total - dotted, dotted, 0)
    probable = data["forge"]["probable"]["union"]["overall"]
    assert (probable["tp"], probable["fn"], probable["fp"]) == (total, 0, 6)
    negatives = {
        row["category"]: row["count"] for row in data["forge"]["misses"]["false_negatives"]
    }
    # Both "run" methods have the same (grep) oracle set, so each dotted use counts twice.
    from_call = f"{NAME_ATTR}, x: assigned from a call"  # t = Thing(); t.run()
    assert negatives == {SELF_ATTR: 2, SUPER_CALL: 2, from_call: 2, MODULE_ATTR: 1}
    assert sum(negatives.values()) == dotted
    bogus = data["forge"]["misses"]["probable_false_positives"]
    assert [(row["category"], row["count"]) for row in bogus] == [(OTHER, 6)]  # the "from" keyword

    # incoming calls: the fake answers call sites not after a dot, the oracle has them all
    calls = data["forge"]["calls"]
    sites = {
        s.key: {loc for loc in _grep(s.name) if _is_call(loc)}
        for s in symbols
        if s.kind in accuracy.CALL_KINDS
    }
    dotted_calls = sum(len(_dotted(locs)) for locs in sites.values())
    total_calls = sum(len(locs) for locs in sites.values())
    assert calls["exact"]["overall"]["tp"] == total_calls - dotted_calls
    assert calls["exact"]["overall"]["fn"] == dotted_calls
    assert calls["exact"]["overall"]["fp"] == 0
    assert calls["missed_but_in_refs"] == 0  # exact refs skip dotted uses too
    call_negatives = {row["category"]: row["count"] for row in calls["misses"]["false_negatives"]}
    assert call_negatives == {SELF_ATTR: 2, SUPER_CALL: 2, from_call: 2, MODULE_ATTR: 1}
    assert summary["corpora"][0]["calls"]["exact"]["fn"] == dotted_calls


def test_percentile_is_nearest_rank() -> None:
    from bench.metrics import percentile

    values = [float(v) for v in range(1, 21)]  # 1..20
    assert percentile(values, 95) == 19.0
    assert percentile(values, 50) == 10.0
    assert percentile(values, 100) == 20.0
    assert percentile([3.0], 95) == 3.0


def test_pyright_serves_a_copy_when_the_corpus_has_its_own_config(tmp_path: Path) -> None:
    from bench.oracle_pyright import has_own_config, served_root

    plain = tmp_path / "plain"
    (plain / "pkg").mkdir(parents=True)
    (plain / "pkg" / "m.py").write_text("x = 1\n")
    with served_root(plain) as served:
        assert served == plain
    configured = tmp_path / "configured"
    (configured / "tests").mkdir(parents=True)
    (configured / "tests" / "t.py").write_text("y = 2\n")
    (configured / "pyproject.toml").write_text('[tool.pyright]\ninclude = ["src"]\n')
    assert has_own_config(configured) and not has_own_config(plain)
    with served_root(configured) as served:
        assert served != configured and served.name == configured.name
        assert (served / "tests" / "t.py").read_text() == "y = 2\n"
        assert json.loads((served / "pyrightconfig.json").read_text())["include"] == ["."]
    assert not served.exists()
    assert not (configured / "pyrightconfig.json").exists()
