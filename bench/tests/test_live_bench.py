"""Unit tests for the live bench's pure helpers: generators, keystrokes, trace, report.

Fast and offline: no Django, no server, no timing assertions.
"""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bench import live_bench as lb
from forge_lsp.parsing.incremental import SourceText

SAMPLE = b'''"""A module to type into."""

import os


def first(path, mode="r"):
    """Open it."""
    handle = open(path, mode)
    value = 1e5 + 0x1F + 1.e3
    if value > 10:
        handle.close()  # a comment with words
    return f"{path}" + rb"raw" + os.sep


class Thing:
    def method(self, items):
        total = 0
        for item in items:
            total += len(item)
        return total

    @property
    def size(self):
        return self.method([])
'''


# -- synthetic workspaces ----------------------------------------------------------------------


def test_synthetic_workspace_is_deterministic_and_valid() -> None:
    one = lb.synthetic_workspace(100, seed=4)
    assert one == lb.synthetic_workspace(100, seed=4)
    assert one != lb.synthetic_workspace(100, seed=5)
    assert len(one) == 100
    assert one["pkg/core.py"] == lb.CORE
    for rel, text in one.items():
        ast.parse(text, rel)
    # modules import each other and the core
    assert sum("from pkg.mod_" in text for text in one.values()) >= 90
    assert all("from pkg.core import" in t for r, t in one.items() if r.startswith("pkg/mod_"))


def test_synthetic_workspace_needs_three_files() -> None:
    with pytest.raises(ValueError):
        lb.synthetic_workspace(2)


def test_fanout_workspace_rows_match_the_edits() -> None:
    files = lb.fanout_workspace(12)
    assert len(files) == 14
    assert files == lb.fanout_workspace(12)
    core = SourceText(files["pkg/core.py"].encode())
    assert core.line(lb.FANOUT_NAME_ROW)[4:10] == b"target"
    assert core.line(lb.FANOUT_BODY_ROW) == b"    return a + 1"
    assert files["pkg/user_0007.py"].count("target(7)") == 1


def test_write_tree_writes_exact_bytes(tmp_path: Path) -> None:
    files = lb.synthetic_workspace(5, seed=1)
    lb.write_tree(tmp_path, files)
    assert {
        p.relative_to(tmp_path).as_posix(): p.read_text() for p in tmp_path.rglob("*.py")
    } == files


# -- keystrokes --------------------------------------------------------------------------------


def test_body_rows_are_inside_function_bodies() -> None:
    rows = lb.body_rows(SAMPLE)
    text = SourceText(SAMPLE)
    lines = [text.line(r).strip() for r in rows]
    assert b'"""Open it."""' in lines
    assert b"return self.method([])" in lines
    assert not any(line.startswith((b"def ", b"class ", b"@", b"import")) for line in lines)
    assert b"" not in lines
    assert lb.body_rows(SAMPLE, min_row=15) == [r for r in rows if r >= 15]
    assert lb.body_rows(b"def broken(:\n    pass\n") == []


def test_identifiers_skip_keywords_prefixes_and_exponents() -> None:
    line = b'    value = 1e5 + 0x1F + 1.e3 if f"x" else rb"y" and not None'
    words = {line[a:b] for a, b in lb._identifiers(line)}
    assert words == {b"value"}
    assert lb._identifiers(b"ab c", min_len=2) == [(0, 2)]


def test_keystrokes_are_seeded_and_keep_the_text_valid() -> None:
    one = lb.keystrokes(SAMPLE, 300, seed=3)
    assert one == lb.keystrokes(SAMPLE, 300, seed=3)
    assert one != lb.keystrokes(SAMPLE, 300, seed=4)
    kinds = Counter(k.kind for k in one)
    assert set(kinds) == {"type", "newline", "delete"}
    assert kinds["type"] > kinds["newline"] + kinds["delete"]
    text = SourceText(SAMPLE)
    for stroke in one:
        if stroke.kind == "type":
            assert len(stroke.text) == 1 and stroke.start == stroke.end
        elif stroke.kind == "delete":
            assert stroke.text == b"" and stroke.end[1] == stroke.start[1] + 1
        else:
            assert stroke.text.startswith(b"\n") and not stroke.text.strip()
        text.edit(stroke.start, stroke.end, stroke.text)
    ast.parse(text.data)


def test_keystrokes_respect_min_row() -> None:
    assert all(k.start[0] >= 15 for k in lb.keystrokes(SAMPLE, 100, seed=0, min_row=15))


def test_typist_text_follows_its_edits() -> None:
    typist = lb.Typist(SAMPLE, seed=1)
    shadow = SourceText(SAMPLE)
    for _ in range(50):
        stroke, edit = typist.step()
        assert shadow.edit(stroke.start, stroke.end, stroke.text) == edit
    assert shadow.data == typist.text.data
    assert all(typist.text.line(r).strip() for r in typist.rows)  # never a blank row


def test_typist_only_types_when_asked() -> None:
    typist = lb.Typist(SAMPLE, seed=2)
    assert {typist.step("type")[0].kind for _ in range(30)} == {"type"}
    empty = lb.Typist(b"x = 1\n", seed=0)  # a file without functions can still be held
    with pytest.raises(ValueError):
        empty.step()


# -- trace and figures -------------------------------------------------------------------------


def test_trace_is_seeded_with_zipf_popularity() -> None:
    trace = lb.make_trace(2000, 40, 5, seed=0)
    assert trace == lb.make_trace(2000, 40, 5, seed=0)
    assert trace != lb.make_trace(2000, 40, 5, seed=1)
    edits = [e for e in trace if e[0] == "edit"]
    nav = [e for e in trace if e[0] == "nav"]
    assert 200 < len(edits) < 400
    assert {e[1] for e in edits} == set(range(5))
    assert {e[1] for e in nav} == set(lb.NAV_KINDS)
    popularity = Counter(e[2] for e in nav)
    assert popularity[0] > 3 * popularity[39]
    assert lb.zipf_weights(3) == [1.0, 0.5, 1 / 3]


def test_summarize_uses_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert lb.summarize(values) == {"n": 100, "p50": 50.0, "p95": 95.0, "max": 100.0, "mean": 50.5}
    assert lb.summarize([])["p95"] is None


def test_symbol_position() -> None:
    assert lb._symbol_position(SAMPLE, rb"^class (Thing)\b") == (14, 6)
    with pytest.raises(ValueError):
        lb._symbol_position(SAMPLE, rb"^class (Missing)")


def _ms(p95: float) -> dict[str, Any]:
    return {"n": 10, "p50": p95 / 2, "p95": p95, "max": p95 * 2, "mean": p95 / 2}


def _engine() -> dict[str, Any]:
    return {"updates": 3, "updateLatencyMs": _ms(4.0), "fileProcessingMs": _ms(2.0)}


def _data(hit_rate: float) -> dict[str, Any]:
    disk = {
        "files": 200,
        "writes": 10,
        "server_start_s": 1.0,
        "write_ms": _ms(50.0),
        "delete_ms": _ms(150.0),
        "write_samples_ms": [1.0],
        "polls_per_probe_max": 9,
        "engine": _engine(),
    }
    return {
        "date": "today",
        "machine": "m, 2 CPUs",
        "command": "python -m bench.live_bench --quick",
        "quick": True,
        "engine": "abc1234 (clean)",
        "bench_seconds": 1.0,
        "corpus": "django",
        "keystrokes": {
            "engine_run": {
                "file": lb.QUERY_FILE,
                "bytes": 107026,
                "keystrokes": 60,
                "mix": {"type": 48},
                "final_text_parses": True,
                "index_s": 6.0,
                "interface_keystrokes": [
                    {"keystroke": 3, "ms": 70.0, "reresolvedFiles": 9, "line": "self.x = 1"}
                ],
                "ms": _ms(20.0),
                "engine": _engine(),
            },
            "lsp": {
                "symbol": "BaseIterable",
                "references_before": 6,
                "server_start_s": 8.0,
                "ms": _ms(30.0),
                "engine": _engine(),
            },
        },
        "disk_synthetic": disk,
        "disk_django": disk,
        "fanout": {
            "users": 1000,
            "index_s": 1.0,
            "renames": 2,
            "rename_ms": _ms(40.0),
            "reresolved": [1000, 1000],
            "consistent_edits": 2,
            "body_ms": _ms(1.0),
            "body_reresolved_max": 0,
            "body_interface_max": 0,
            "engine": _engine(),
        },
        "speedup": {
            "files": 100,
            "symbols": 1,
            "references": 2,
            "cold_ms": [70.0],
            "cold_median_ms": 70.0,
            "disk_ms": _ms(2.0),
            "disk_median_ms": 2.0,
            "disk_engine_median_ms": 1.5,
            "buffer_ms": _ms(1.0),
            "buffer_median_ms": 1.0,
            "disk_speedup": 35.0,
            "buffer_speedup": 70.0,
            "engine": _engine(),
        },
        "cache": {
            "events": 2000,
            "navigation": 1700,
            "edits": 300,
            "hits": 1500,
            "misses": 200,
            "compulsory_misses": 150,
            "hit_rate": hit_rate,
            "hit_rate_ceiling": 0.91,
            "hit_rate_after_first_ask": 0.97,
            "needless_misses": 10,
            "per_kind_hits_misses": {},
            "hit_ms": _ms(0.01),
            "miss_ms": _ms(1.0),
            "edit_ms": _ms(3.0),
            "interface_edits": 0,
            "working_files": ["a.py"],
            "mismatches": 0,
            "mismatch_examples": [],
            "engine": _engine(),
        },
        "equivalence": {
            "operations": 30,
            "log": ["op"],
            "cold_index_s": 6.0,
            "rows": {},
            "equal": True,
            "differences": [],
            "engine": _engine(),
        },
    }


def test_every_figure_has_a_bar_and_a_verdict() -> None:
    rows = lb.bar_rows(_data(0.95))
    assert len(rows) == 15
    verdicts = {r[1]: r[4] for r in rows}
    assert not any(ok for figure, ok in verdicts.items() if "deleted" in figure)  # p95 150 > 100
    assert not any(ok for figure, ok in verdicts.items() if "on disk" in figure)  # 35x < 50x
    assert all(r[2] for r in rows)
    report = lb.render(_data(0.95))
    assert report.count("PASS") + report.count("**FAIL**") == 15
    assert "python -m bench.live_bench --quick" in report and "2 CPUs" in report
    hit_row = next(r for r in lb.bar_rows(_data(0.85)) if "hit rate" in r[1])
    assert hit_row[3] == "85.0%" and not hit_row[4]
