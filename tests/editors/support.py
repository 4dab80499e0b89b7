"""Shared helpers for the tests that drive real editors (Neovim, Emacs) against `forge-lsp serve`.

An editor that is not installed skips its tests on a developer's machine, but fails them when
`FORGE_REQUIRE_EDITORS=1` (set by `.ci/run`, which installs the editors itself): a broken install
must show up as a failure in CI, never as a quiet skip.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo"
EDITORS = REPO / "editors"


def required() -> bool:
    """Whether a missing editor is a failure rather than a skip."""
    return os.environ.get("FORGE_REQUIRE_EDITORS", "") not in ("", "0")


def find_binary(name: str, env_var: str) -> str:
    """The editor binary: `env_var` if set, else `name` on PATH (the venv's bin first)."""
    explicit = os.environ.get(env_var)
    if explicit:
        if Path(explicit).is_file() and os.access(explicit, os.X_OK):
            return explicit
        message = f"{env_var}={explicit} is not an executable file"
    else:
        venv_bin = str(Path(sys.executable).parent)
        found = shutil.which(name, path=os.pathsep.join([venv_bin, os.environ.get("PATH", "")]))
        if found:
            return found
        message = f"{name} not found on PATH (set {env_var} to its path)"
    if required():
        pytest.fail(f"{message}; FORGE_REQUIRE_EDITORS is set, so this is a failure")
    pytest.skip(message)


def server_command() -> list[str]:
    """How the editors start the server under test: this interpreter's forge_lsp."""
    return [sys.executable, "-m", "forge_lsp", "serve"]


def demo_workspace(tmp_path: Path) -> Path:
    """A fresh copy of the bundled example, so each test indexes from scratch in its own folder."""
    root = tmp_path / "demo"
    shutil.copytree(DEMO, root, ignore=shutil.ignore_patterns(".forge", "__pycache__"))
    return root
