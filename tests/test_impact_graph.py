"""`impact --format dot|mermaid`: capped, clustered by file, tests and roots styled; the dot
output rendered by graphviz itself (slow group: CI installs graphviz)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from helpers import write_tree
from test_cli import run

CALLERS_PER_FILE, FILES = 5, 30


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("graph")
    files = {"hub.py": "def hub():\n    return 1\n", "tests/test_hub.py": ""}
    for f in range(FILES):
        files[f"mods/m{f:02d}.py"] = "from hub import hub\n" + "".join(
            f"\n\ndef use_{f}_{k}():\n    return hub()\n" for k in range(CALLERS_PER_FILE)
        )
    files["tests/test_hub.py"] = "from hub import hub\n\n\ndef test_hub():\n    assert hub()\n"
    write_tree(root, files)
    assert run(root, "index", ".").returncode == 0
    return root


def _dependents(root: Path) -> int:
    data = json.loads(run(root, "impact", "hub.py:1:5", "--json").stdout)
    return sum(len(f["dependents"]) for f in data["files"])


def _dot(root: Path, *args: str) -> str:
    result = run(root, "impact", "hub.py:1:5", "--format", "dot", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_graph_holds_the_nearest_dependents_and_counts_the_rest(hub: Path) -> None:
    total = _dependents(hub)
    assert total == FILES * CALLERS_PER_FILE + 1
    out = _dot(hub)
    nodes = re.findall(r"^    s\d+ \[label=\"([^\"]+)\"", out, re.M)
    assert len(nodes) == 1 + 100 and nodes[0] == "hub"  # the root, then 100 dependents
    assert f'more [label="+{total - 100} more"' in out
    assert "test_hub" in nodes  # at the same depth, tests come first: they must run
    # one box per file drawn: hub.py, the test file, then 99 callers from 20 files (5 each)
    assert out.count("subgraph cluster_") == 2 + 20
    mermaid = run(hub, "impact", "hub.py:1:5", "--format", "mermaid", "--graph-nodes", "10")
    assert mermaid.stdout.count("-->|call|") == 10 and f'+{total - 10} more"]' in mermaid.stdout


def test_tests_are_filled_and_the_root_is_marked(hub: Path) -> None:
    out = _dot(hub, "--graph-nodes", "1000")
    assert "more [" not in out  # nothing left out
    [root] = [line for line in out.splitlines() if 'label="hub"' in line]
    assert "shape=doubleoctagon" in root
    [test] = [line for line in out.splitlines() if 'label="test_hub"' in line]
    assert 'fillcolor="#d9f2d9"' in test
    assert out.count('fillcolor="#d9f2d9"') == 1  # only the test
    usage = run(hub, "impact", "hub.py:1:5", "--format", "dot", "--graph-nodes", "0")
    assert usage.returncode == 2 and "--graph-nodes must be at least 1" in usage.stderr


@pytest.mark.slow
def test_graphviz_renders_the_capped_graph(hub: Path, tmp_path: Path) -> None:
    dot = shutil.which("dot")
    assert dot, "graphviz is needed: .ci/run installs it (apt-get install graphviz)"
    svg = subprocess.run(
        [dot, "-Tsvg"], input=_dot(hub), capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert f"+{_dependents(hub) - 100} more" in svg and "test_hub" in svg
    box = re.search(r'viewBox="0\.00 0\.00 ([\d.]+) ([\d.]+)"', svg)
    assert box is not None
    assert max(float(box.group(1)), float(box.group(2))) < 32767  # drawable: uncapped was not
