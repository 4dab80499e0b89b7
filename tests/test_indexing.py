"""Discovery and incremental indexing on real files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from helpers import graph_differences, index_tree, reindex, write_tree

from forge_lsp.config import load_settings
from forge_lsp.indexing import resolution
from forge_lsp.indexing.discovery import discover
from forge_lsp.indexing.indexer import index_workspace


def _rels(root: Path) -> list[str]:
    return [f.rel for f in discover(load_settings(root)).files]


def test_default_excludes_binary_oversized_and_counts(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "pkg/mod.py": "x = 1\n",
            ".venv/lib/site.py": "x = 1\n",
            "node_modules/a.py": "x = 1\n",
            "pkg/__pycache__/mod.py": "x = 1\n",
            "build/gen.py": "x = 1\n",
            "pkg/data.py": b"\x00\x01\x02binary",
            "pkg/huge.py": "x = 1\n" * 10,
            "README.md": "not python",
        },
    )
    (tmp_path / "pyproject.toml").write_text("[tool.forge-lsp]\nmax-file-size = 40\n")
    result = discover(load_settings(tmp_path))
    assert [f.rel for f in result.files] == ["pkg/mod.py"]
    assert sorted(result.skipped) == [
        ("pkg/data.py", "binary"),
        ("pkg/huge.py", "too large (>40 bytes)"),
    ]


def test_pyproject_include_and_exclude_globs(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "src/app/a.py": "",
            "src/app/generated/b.py": "",
            "scripts/c.py": "",
            "pyproject.toml": '[tool.forge-lsp]\ninclude = ["src/**"]\nexclude = ["generated"]\n',
        },
    )
    assert _rels(tmp_path) == ["src/app/a.py"]


def test_bad_settings_are_reported_and_defaulted(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.forge-lsp]\nmax-file-size = "big"\ncolour = 1\n'
    )
    settings = load_settings(tmp_path)
    assert settings.max_file_bytes == 2 * 1024 * 1024
    assert any("max-file-size" in p for p in settings.problems)
    assert any("colour" in p for p in settings.problems)


def test_gitignore_is_honoured_inside_a_git_repo(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {"kept.py": "", "ignored.py": "", "out/x.py": "", ".gitignore": "ignored.py\nout/\n"},
    )
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert _rels(tmp_path) == ["kept.py"]


def test_root_that_git_ignores_is_walked(tmp_path: Path) -> None:
    write_tree(tmp_path, {".gitignore": "cache/\n", "cache/corpus/m.py": "x = 1\n"})
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    assert _rels(tmp_path / "cache" / "corpus") == ["m.py"]


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    write_tree(tmp_path, {"a/m.py": "x = 1\n"})
    os.symlink(tmp_path / "a", tmp_path / "a" / "loop")
    os.symlink(tmp_path, tmp_path / "a" / "up")
    assert _rels(tmp_path) == ["a/m.py"]


def test_unreadable_file_is_skipped_with_reason(tmp_path: Path) -> None:
    write_tree(tmp_path, {"ok.py": "", "secret.py": "x = 1\n"})
    secret = tmp_path / "secret.py"
    secret.chmod(0)
    try:
        if os.access(secret, os.R_OK):  # running as root: permissions do not apply
            return
        result = discover(load_settings(tmp_path))
        assert [f.rel for f in result.files] == ["ok.py"]
        assert result.skipped[0][0] == "secret.py" and result.skipped[0][1].startswith("unreadable")
    finally:
        secret.chmod(0o644)


def test_rerun_skips_unchanged_and_reresolves_dependents(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {
            "lib.py": "def old():\n    pass\n",
            "user.py": "from lib import new\n\ndef go():\n    return new()\n",
            "other.py": "import lib\nlib.old()\n",
        },
    )
    assert ws.report.parsed == 3
    assert ws.query.symbol_at(ws.path("user.py"), *ws.pos("user.py", "new()")) is None

    noop = reindex(ws)
    assert (noop.parsed, noop.unchanged) == (0, 3)

    (ws.root / "lib.py").write_text("def new():\n    pass\n")
    report = reindex(ws)
    assert report.parsed == 1 and report.reresolved_files >= 2
    new = ws.symbol("lib.py", "new")
    assert ws.ref_set(new) == {
        ws.at("lib.py", "new"),
        ws.at("user.py", "new"),
        ws.at("user.py", "new()"),
    }
    # `lib.old()` lost its target: it must not point at a symbol that no longer exists
    assert ws.query.symbol_at(ws.path("other.py"), *ws.pos("other.py", "old")) is None


def test_body_only_edit_touches_no_other_file(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path,
        {"lib.py": "def f():\n    return 1\n", "user.py": "from lib import f\nf()\n"},
    )
    (ws.root / "lib.py").write_text("def f():\n    x = 2\n    return x\n")
    report = reindex(ws)
    assert report.parsed == 1 and report.reresolved_files == 0
    assert ws.ref_set(ws.symbol("lib.py", "f")) == {
        ws.at("lib.py", "def f", offset=4),
        ws.at("user.py", "import f", offset=7),
        ws.at("user.py", "f()"),
    }


def test_same_content_new_mtime_is_not_reparsed(tmp_path: Path) -> None:
    ws = index_tree(tmp_path, {"a.py": "x = 1\n"})
    os.utime(ws.root / "a.py", ns=(1, 1))
    report = reindex(ws)
    assert (report.parsed, report.unchanged) == (0, 1)


def test_deleted_file_disappears_and_its_users_unresolve(tmp_path: Path) -> None:
    ws = index_tree(
        tmp_path, {"gone.py": "def f():\n    pass\n", "user.py": "from gone import f\nf()\n"}
    )
    (ws.root / "gone.py").unlink()
    report = reindex(ws)
    assert report.removed == 1
    assert ws.query.file_id(ws.path("gone.py")) is None
    assert ws.query.symbol_at(ws.path("user.py"), *ws.pos("user.py", "f()")) is None


def test_parallel_and_serial_indexing_agree(tmp_path: Path) -> None:
    files = {
        f"pkg/m{i}.py": f"from pkg.m{(i + 1) % 80} import f{(i + 1) % 80}\n\ndef f{i}():\n    return f{(i + 1) % 80}()\n"
        for i in range(80)
    }
    files["pkg/__init__.py"] = ""
    serial = index_tree(tmp_path / "s", files, jobs=1)
    parallel = index_tree(tmp_path / "p", files, jobs=2)

    def dump(ws: object) -> list[tuple[object, ...]]:
        conn = ws.query.conn  # type: ignore[attr-defined]
        return sorted(
            conn.execute(
                "SELECT f.path, r.line, r.col, r.role, ts.qualname FROM refs r JOIN files f ON f.id = r.file_id"
                " LEFT JOIN symbols ts ON ts.id = r.target_id"
            ).fetchall()
        )

    s_rows = [(p.split("/ws/", 1)[1], *rest) for p, *rest in dump(serial)]
    p_rows = [(p.split("/ws/", 1)[1], *rest) for p, *rest in dump(parallel)]
    assert s_rows == p_rows and len(s_rows) == 80 * 4  # pkg, module, imported name, call


def test_forgetting_memoised_answers_during_a_cold_index_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A cold index forgets its memo every MEMO_FILES files (resolution.py); every answer, and
    what each file's resolution consulted (file_deps, module_deps with their names), is the
    same as with the memo kept throughout."""
    files = {
        f"pkg/m{i}.py": (
            f"from pkg.m{(i + 1) % 12} import C{(i + 1) % 12}, f{(i + 1) % 12}\n"
            f"from pkg import m{(i + 2) % 12} as other\n\n"
            f"class C{i}(C{(i + 1) % 12}):\n    def run(self) -> int:\n"
            f"        return self.run() + other.f{(i + 2) % 12}() + f{(i + 1) % 12}()\n\n"
            f"def f{i}() -> C{i}:\n    return C{i}()\n"
        )
        for i in range(12)
    }
    files["pkg/__init__.py"] = "from pkg.m0 import f0\n"
    kept = index_tree(tmp_path / "kept", files)
    monkeypatch.setattr(resolution, "MEMO_FILES", 1)
    forgotten = index_workspace(load_settings(kept.root, db=tmp_path / "forgotten.db"))
    assert forgotten.parsed == 13
    assert graph_differences(kept.db, tmp_path / "forgotten.db") == []
