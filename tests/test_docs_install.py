"""The install commands the READMEs give work on a fresh machine: every shell block of README.md,
editors/*/README.md and bench/README.md that installs the server is run, in a fresh virtualenv
and a copy of the checkout, then the `forge-lsp` commands beside it (or an index of the bundled
example). Paths the docs leave to the reader (`/path/to/forge-lsp`) become the copy.

Slow (a virtualenv and an install each): in the `slow` group, which CI runs.
"""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted(ROOT.glob("editors/*/README.md")), ROOT / "bench/README.md"]
_BLOCK = re.compile(r"^ *```(?:sh|bash|console)\n(.*?)^ *```", re.M | re.S)
_PLACEHOLDERS = ("/path/to/forge-lsp", "~/src/forge-lsp")


def install_lines() -> dict[str, list[str]]:
    """Each distinct install command of the docs' shell blocks, with the `forge-lsp` commands
    that follow it on its line; where a README gives it, for the failure message."""
    found: dict[str, list[str]] = {}
    for doc in DOCS:
        for block in _BLOCK.findall(doc.read_text(encoding="utf-8")):
            for line in block.splitlines():
                command = line.split(" #", 1)[0].strip()
                if not re.search(r"\bpipx? install\b", command):
                    continue
                steps = [s.strip() for s in command.split("&&")]
                install = next(s for s in steps if re.search(r"\bpipx? install\b", s))
                runs = [s for s in steps if s.startswith("forge-lsp ")]
                found.setdefault(install, []).extend(runs)
    return found


def test_the_docs_give_install_commands_and_none_from_the_package_index() -> None:
    lines = install_lines()
    assert "pip install ." in lines and "pip install -e '.[test]'" in lines
    for doc in [*DOCS, *ROOT.glob("editors/**/*.lua"), *ROOT.glob("editors/*/src/*.ts")]:
        text = doc.read_text(encoding="utf-8")
        # nobody else's `forge-lsp` from the package index: only a checkout is ours
        assert not re.search(r"pipx? install forge-lsp\b", text), doc


@pytest.mark.slow
@pytest.mark.parametrize("install", sorted(install_lines()))
def test_an_install_command_of_the_docs_works_in_a_fresh_virtualenv(
    install: str, tmp_path: Path
) -> None:
    checkout = tmp_path / "forge-lsp"
    _copy_checkout(checkout)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    command = install
    for placeholder in _PLACEHOLDERS:
        command = command.replace(placeholder, shlex.quote(str(checkout)))
    runs = install_lines()[install] or ["forge-lsp index examples/demo"]
    script = " && ".join([f". {shlex.quote(str(venv / 'bin/activate'))}", command, *runs])
    result = subprocess.run(
        ["bash", "-c", script], cwd=checkout, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, f"{script}\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert (venv / "bin/forge-lsp").exists()


def _copy_checkout(target: Path) -> None:
    """The files git tracks (no virtualenvs, caches or databases of this checkout)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.split(b"\0")
    for rel in filter(None, (name.decode() for name in listed)):
        source = ROOT / rel
        if source.is_file():
            (target / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / rel)
