"""The benchmark suite's own logic: the synthetic generator, statistics, accuracy against peers,
parsing the peers' answers, the report and its plots. No tool is timed here."""

from __future__ import annotations

import ast
import hashlib
from pathlib import Path
from typing import Any

import pytest

from bench import synthetic
from bench.live_bench import summarize
from bench.metrics import percentile
from bench.peers import _last_run, incoming_locations, locations
from bench.run import accuracy, corpus_rows, ratio, render
from bench.textpos import corpus_location, path_to_uri

# ----- the generator -----------------------------------------------------------------------------


def test_same_seed_same_bytes_and_another_seed_other_bytes() -> None:
    assert synthetic.digest(400, seed=3) == synthetic.digest(400, seed=3)
    assert synthetic.digest(400, seed=3) != synthetic.digest(400, seed=4)


@pytest.mark.parametrize("files", [4, 5, 26, 27, 777, 1000, 1500])
def test_exactly_the_asked_number_of_distinct_files_all_valid_python(files: int) -> None:
    generated = list(synthetic.generate(files))
    paths = [p for p, _ in generated]
    assert len(paths) == files == len(set(paths))
    for path, text in generated:
        assert path.endswith(".py")
        ast.parse(text, filename=path)  # a SyntaxError fails the test


def test_a_file_does_not_depend_on_the_order_of_generation() -> None:
    """Module k's text is a function of (seed, k, size): the stream can be written lazily."""
    layout = synthetic.Layout(1000, 0)
    assert (
        synthetic.module_text(layout, 700)
        == dict(synthetic.generate(1000))[layout.module_path(700)]
    )


def test_the_hub_has_exactly_hub_users_callers() -> None:
    files = dict(synthetic.generate(2500))
    callers = [p for p, t in files.items() if f'{synthetic.HUB_FUNCTION}("' in t]
    assert len(callers) == synthetic.hub_users(2500) == 1000
    assert all(f"from acme.core.hub import {synthetic.HUB_FUNCTION}" in files[p] for p in callers)


def test_the_import_graph_points_backwards_and_reaches_real_names() -> None:
    """Every absolute `from acme… import X` names a module that exists and defines X."""
    files = dict(synthetic.generate(1200))
    defined: dict[str, set[str]] = {}
    for path, text in files.items():
        module = path[:-3].replace("/", ".").removesuffix(".__init__")
        tree = ast.parse(text)
        names = {n.name for n in tree.body if isinstance(n, ast.ClassDef | ast.FunctionDef)}
        names |= {
            a.asname or a.name for n in tree.body if isinstance(n, ast.ImportFrom) for a in n.names
        }
        defined[module] = names
    checked = 0
    for text in files.values():
        for node in ast.parse(text).body:
            if (
                isinstance(node, ast.ImportFrom)
                and node.level == 0
                and (node.module or "").startswith("acme")
            ):
                module = node.module or ""
                assert module in defined, module
                for alias in node.names:
                    assert alias.name in defined[module], (module, alias.name)
                checked += 1
    assert checked > 500


def test_write_workspace_writes_what_generate_yields(tmp_path: Path) -> None:
    stats = synthetic.write_workspace(tmp_path, 60, seed=1)
    on_disk = hashlib.sha256()
    for rel, text in synthetic.generate(60, seed=1):
        assert (tmp_path / rel).read_text() == text
        on_disk.update(text.encode())
    assert stats == {
        "files": 60,
        "bytes": sum(len(t.encode()) for _, t in synthetic.generate(60, 1)),
    }


# ----- statistics and accuracy -------------------------------------------------------------------


def test_percentiles_are_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.0
    assert percentile(values, 95) == 95.0
    assert summarize([4.0, 1.0, 3.0, 2.0]) == {
        "n": 4,
        "p50": 2.0,
        "p95": 4.0,
        "max": 4.0,
        "mean": 2.5,
    }


A = ("a.py", 1, 1)
B = ("b.py", 2, 5)
C = ("c.py", 3, 9)


def test_accuracy_is_scored_against_the_union_of_the_other_tools() -> None:
    answers: dict[str, dict[str, set[Any] | None]] = {
        "s1": {"forge_lsp": {A, B}, "basedpyright": {A}, "jedi": {A, C}},
        "s2": {"forge_lsp": {A}, "basedpyright": {A}, "jedi": {A}},
        "s3": {"forge_lsp": {B}, "basedpyright": None, "jedi": {B}},  # a peer failed: not scored
    }
    forge = accuracy(answers, "forge_lsp", ["basedpyright", "jedi"])
    # truth s1 = {A, C}, s2 = {A}: forge found A, A (tp 2), missed C, added B
    assert forge == {
        "against": "basedpyright ∪ jedi",
        "symbols": 2,
        "recall": 0.667,
        "precision": 0.667,
    }
    jedi = accuracy(answers, "jedi", ["forge_lsp", "basedpyright"])
    assert jedi["recall"] == 0.667 and jedi["precision"] == 0.667  # truth {A, B} and {A}


def test_ratios_say_how_many_times_the_peer_figure_is_forges() -> None:
    assert ratio(30.0, 3.0) == 10.0
    assert ratio(1.0, 4.0) == 0.2  # forge slower: below 1
    assert ratio(None, 1.0) is None and ratio(1.0, None) is None and ratio(1.0, 0.0) is None


def test_the_first_complete_answer_is_the_start_of_the_final_run() -> None:
    one, two = frozenset({A}), frozenset({A, B})
    answers = [(0.1, one), (0.2, two), (0.3, one), (0.4, two), (0.5, two), (0.6, two)]
    assert [t for t, _ in reversed(_last_run(answers))] == [0.4, 0.5, 0.6]


# ----- parsing the peers' answers ----------------------------------------------------------------


def test_lsp_answers_are_normalised_to_code_point_columns(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text("x = '😀'; total()\ntotal = 1\n", encoding="utf-8")
    uri = path_to_uri(tmp_path / "m.py")
    # `total` after an astral character: utf-16 column 12 is code point column 11 (0-based)
    answer = [
        {"uri": uri, "range": {"start": {"line": 0, "character": 12}, "end": {}}},
        {"uri": uri, "range": {"start": {"line": 1, "character": 0}, "end": {}}},
        {"uri": "file:///elsewhere/site.py", "range": {"start": {"line": 0, "character": 0}}},
    ]
    assert locations(tmp_path, answer) == {("m.py", 1, 12), ("m.py", 2, 1)}
    assert (
        corpus_location(tmp_path, "file:///elsewhere/site.py", {"line": 0, "character": 0}) is None
    )
    calls = [{"from": {"uri": uri}, "fromRanges": [{"start": {"line": 0, "character": 12}}]}]
    assert incoming_locations(tmp_path, calls) == {("m.py", 1, 12)}
    assert locations(tmp_path, None) == set()


# ----- the report --------------------------------------------------------------------------------


def _corpus() -> dict[str, Any]:
    tools: dict[str, dict[str, Any]] = {
        "forge_lsp": {
            "first_answer_cold_s": 2.0,
            "first_answer_warm_s": 0.5,
            "references_ms": [1.0, 2.0, 3.0],
            "incoming_ms": [1.0],
            "impact_ms": [4.0],
            "keystroke_ms": [5.0, 6.0],
            "server_peak_rss_mb": 100.0,
            "index_s": 3.0,
            "index_peak_rss_mb": 150.0,
            "db_mb": 10.0,
        },
        "basedpyright": {
            "first_answer_cold_s": 20.0,
            "first_answer_warm_s": None,
            "references_ms": [10.0, 20.0, 30.0],
            "incoming_ms": [7.0],
            "keystroke_ms": [50.0],
            "server_peak_rss_mb": 500.0,
        },
        "jedi": {"first_answer_cold_s": 8.0, "references_ms": [300.0], "server_peak_rss_mb": 90.0},
    }
    acc = {"recall": 0.9, "precision": 1.0, "symbols": 3, "against": "x"}
    return {
        "name": "tiny",
        "files": 3,
        "source_mb": 0.1,
        "symbols": 3,
        "callables": 1,
        "keystrokes": 2,
        "probe": "a.py:1:1",
        "figures": tools,
        "accuracy": {"references": {t: acc for t in tools}, "incoming": {"forge_lsp": acc}},
    }


def test_rows_carry_every_tool_and_the_peer_ratios() -> None:
    rows = {r["figure"]: r for r in corpus_rows(_corpus())}
    cold = rows["first complete references answer, cold start"]
    assert (cold["forge_lsp"], cold["basedpyright_ratio"], cold["jedi_ratio"]) == (2.0, 10.0, 4.0)
    assert rows["references p50"]["basedpyright_ratio"] == 10.0
    assert rows["peak RSS (server or worker)"]["jedi_ratio"] == 0.9
    assert rows["impact, depth 3 p50"]["basedpyright"] is None
    assert rows["peak RSS of the cold index (process tree)"]["forge_lsp"] == 150.0


def test_every_speed_row_of_the_report_shows_accuracy_beside_it() -> None:
    data = {
        "command": "python -m bench --quick",
        "engine": "abc1234",
        "machine": "2 CPUs",
        "date": "2026-11-24",
        "seconds": 12.0,
        "corpora": [_corpus()],
        "scale": [],
    }
    report = render(data)
    speed_rows = [line for line in report.splitlines() if line.startswith("| references p")]
    assert len(speed_rows) == 2
    for line in speed_rows:
        assert "0.9 / 1" in line  # recall / precision in the same row
    assert "| 10× |" in report


def test_plots_are_written_as_png(tmp_path: Path) -> None:
    from bench import plots

    name = plots.latency_plot(_corpus(), tmp_path / "lat.png")
    scale_rows = [
        {"files": n, "cold_s": n / 700, "cold_peak_rss_mb": 50 + n / 200} for n in (1000, 10_000)
    ]
    other = plots.scale_plot(scale_rows, tmp_path / "scale.png")
    for file in (name, other):
        data = (tmp_path / file).read_bytes()
        assert data.startswith(b"\x89PNG") and len(data) > 5000
