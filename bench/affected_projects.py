"""Real projects with their own test suites, and what each test really executes.

The affected bench (``bench/affected_bench.py``) needs, per project: a git work tree of the
pinned sdist (so ``--since HEAD`` means "the probe I just inserted"), a venv of its own (never the
bench's), its suite's node ids, and the per-line coverage contexts of one full run
(``--cov-context=test``).  All of that is slow, so it is cached under
``bench/.cache/affected/<name>-<version>/`` and ``bench/.cache/venvs/<name>-<version>/``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.corpora import CACHE_DIR, fetch_sdist

TOOLS = ("pytest==8.3.4", "pytest-cov==6.0.0", "coverage==7.6.10")
"""Pinned runner for every project; a project adds what its own tests import."""

IGNORED = (".forge/", "__pycache__/", "*.egg-info/", ".coverage*", "build/", ".pytest_cache/")
"""Written into each work tree's ``.git/info/exclude``: byproducts that are no change."""

GIT = ("git", "-c", "user.name=bench", "-c", "user.email=bench@localhost")


@dataclass(frozen=True)
class Project:
    """A pinned PyPI sdist that ships its tests; ``package`` is what ``--cov`` measures."""

    key: str
    name: str  # sdist name as it unpacks (``more_itertools-10.7.0``)
    version: str
    package: str
    package_dir: str  # the package's directory inside the sdist
    style: str
    test_deps: tuple[str, ...] = ()

    @property
    def dirname(self) -> str:
        return f"{self.name}-{self.version}"


PROJECTS: dict[str, Project] = {
    p.key: p
    for p in (
        Project(
            "click", "click", "8.1.8", "click", "src/click",
            "pytest functions, fixtures (`runner`) in conftest.py, heavy parametrize",
        ),
        Project(
            "more-itertools", "more_itertools", "10.7.0", "more_itertools", "more_itertools",
            "unittest.TestCase classes, two big modules re-exported by the package",
        ),
        Project(
            "itsdangerous", "itsdangerous", "2.2.0", "itsdangerous", "src/itsdangerous",
            "pytest classes that inherit test methods and override fixtures",
            ("freezegun==1.4.0", "python-dateutil==2.9.0.post0", "six==1.16.0"),
        ),
    )
}  # fmt: skip


@dataclass
class Prepared:
    """A project ready to probe: its work tree, suite and per-line test contexts."""

    project: Project
    repo: Path
    suite: list[str]  # node ids, params stripped, in collection order
    contexts: dict[str, dict[int, set[str]]]  # repo-relative file -> line -> node ids


def node_id(context: str) -> str:
    """``tests/t.py::C::test_m[1-a]|run`` -> ``tests/t.py::C::test_m`` (phase, then params)."""
    return context.rsplit("|", 1)[0].split("[", 1)[0]


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run a setup step; fail loudly with its output, since nothing after it makes sense."""
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(
            f"{cmd} failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


def _has_pytest_config(repo: Path) -> bool:
    """Whether pytest would take ``repo`` as its rootdir by itself."""
    sections = {"pytest.ini": "", "pyproject.toml": "[tool.pytest.ini_options]",
                "tox.ini": "[pytest]", "setup.cfg": "[tool:pytest]"}  # fmt: skip
    return any(
        (repo / name).exists() and section in (repo / name).read_text()
        for name, section in sections.items()
    )


def work_tree(project: Project, cache: Path = CACHE_DIR) -> Path:
    """A committed git copy of the sdist, reset to that commit (a killed run may leave a probe)."""
    repo = cache / "affected" / project.dirname / "repo"
    if (repo / ".git").exists():
        _run([*GIT, "checkout", "--", "."], repo)
        return repo
    source = fetch_sdist(project.name, project.version, f"{project.package_dir}/__init__.py", cache)
    if not (source / "tests").is_dir():
        raise RuntimeError(f"{project.dirname} ships no tests/")
    shutil.rmtree(repo, ignore_errors=True)
    shutil.copytree(source, repo)
    if not _has_pytest_config(repo):  # else pytest walks up to forge's own pyproject.toml
        (repo / "pytest.ini").write_text("[pytest]\n")
    _run([*GIT, "init", "-q"], repo)
    (repo / ".git" / "info" / "exclude").write_text("\n".join(IGNORED) + "\n")
    _run([*GIT, "add", "-A"], repo)
    _run([*GIT, "commit", "-q", "-m", f"{project.dirname} sdist"], repo)
    return repo


def venv_python(project: Project, repo: Path, cache: Path = CACHE_DIR) -> Path:
    """The project's own venv with it installed editable from ``repo`` plus the pinned tools."""
    venv = cache / "venvs" / project.dirname
    python = venv / "bin" / "python"
    stamp = venv / "bench-stamp.json"
    wanted = json.dumps([str(repo), *TOOLS, *project.test_deps])
    if stamp.exists() and stamp.read_text() == wanted:
        return python
    shutil.rmtree(venv, ignore_errors=True)
    for stale in ("suite.json", "coverage.sqlite"):  # measured with the old venv
        (repo.parent / stale).unlink(missing_ok=True)
    _run([sys.executable, "-m", "venv", str(venv)], repo)
    pip = [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    _run([*pip, "-e", str(repo), *TOOLS, *project.test_deps], repo)
    stamp.write_text(wanted)
    return python


def _test_env() -> dict[str, str]:
    """No bytecode in the work tree, no coverage from the environment leaking in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE_"))}
    env.pop("VIRTUAL_ENV", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def collect_suite(python: Path, repo: Path) -> list[str]:
    """The suite's node ids as pytest collects them, params stripped, first occurrence kept."""
    out = _run(
        [str(python), "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        repo,
        _test_env(),
    )
    ids = (node_id(line.strip()) for line in out.splitlines() if "::" in line)
    return list(dict.fromkeys(ids))


_DUMP = """import json, sys
from coverage import CoverageData
data = CoverageData(sys.argv[1]); data.read()
print(json.dumps({f: data.contexts_by_lineno(f) for f in data.measured_files()}))
"""


def run_with_contexts(
    project: Project, python: Path, repo: Path, data: Path
) -> dict[str, dict[int, set[str]]]:
    """Run the whole suite once under coverage with one context per test phase; read it back.

    Every phase counts (``|setup`` included): fixture code run for a test is code the test runs.
    A line run only at import or collection time carries the empty context: it is kept with no
    node ids, so "executed, but by no test" stays distinguishable from "never executed".
    """
    if not data.exists():
        env = _test_env() | {"COVERAGE_FILE": str(data)}
        cmd = [str(python), "-m", "pytest", f"--cov={project.package}", "--cov-context=test",
               "--cov-report=", "-p", "no:cacheprovider", "-q"]  # fmt: skip
        done = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True)
        if done.returncode not in (0, 1) or not data.exists():  # 1: some tests failed, still data
            raise RuntimeError(f"test run failed ({done.returncode}):\n{done.stdout[-3000:]}")
    raw = json.loads(_run([str(python), "-c", _DUMP, str(data)], repo, _test_env()))
    contexts: dict[str, dict[int, set[str]]] = {}
    for path, lines in raw.items():
        rel = Path(path).resolve().relative_to(repo.resolve()).as_posix()
        contexts[rel] = {int(n): {node_id(c) for c in cs if c} for n, cs in lines.items()}
    return contexts


def prepare(project: Project, cache: Path = CACHE_DIR) -> Prepared:
    """Work tree, venv, suite and contexts of ``project``, each built once and cached."""
    repo = work_tree(project, cache)
    python = venv_python(project, repo, cache)
    suite_file = repo.parent / "suite.json"
    if not suite_file.exists():
        suite_file.write_text(json.dumps(collect_suite(python, repo)))
    contexts = run_with_contexts(project, python, repo, repo.parent / "coverage.sqlite")
    return Prepared(project, repo, json.loads(suite_file.read_text()), contexts)
