"""pytest plugin: `pytest --forge-affected=REV` runs only the tests the change since REV can
reach (the work tree against REV, as `forge-lsp affected --since REV` sees it) and deselects the
rest. When the change cannot be analysed it deselects nothing and says why.

Registered through the `pytest11` entry point, so it loads in every pytest run where forge-lsp
is installed: nothing is imported or done unless the option is given.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

_NOTE = "forge_lsp_note"


def pytest_addoption(parser: Any) -> None:
    group = parser.getgroup("forge-lsp")
    group.addoption(
        "--forge-affected",
        metavar="REV",
        default=None,
        help="run only the tests that the change since REV (a git revision) can reach",
    )


def pytest_collection_modifyitems(session: Any, config: Any, items: list[Any]) -> None:
    rev = config.getoption("forge_affected")
    if not rev:
        return
    from forge_lsp.changes.affected import Unanalysable
    from forge_lsp.changes.run import AffectedError, run_affected

    root = Path(str(config.rootpath))
    try:
        result, _base = run_affected(root, since=rev, test_base=root)
    except (AffectedError, Unanalysable) as exc:
        config.stash[_key()] = f"cannot analyse the change since {rev} ({exc}): running every test"
        return
    selected = set(result.tests)
    keep: list[Any] = []
    drop: list[Any] = []
    for item in items:
        (keep if is_selected(item.nodeid, selected) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    config.stash[_key()] = (
        f"{len(keep)} of {len(keep) + len(drop)} tests can observe the change since {rev};"
        f" {len(drop)} deselected"
    )


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    note = config.stash.get(_key(), None)
    if note:
        terminalreporter.write_line(f"forge-lsp: {note}")


def is_selected(nodeid: str, selected: set[str]) -> bool:
    """A collected test (parameters and all) is selected when its node id without parameters,
    or a file or class holding it, was named."""
    name = nodeid.split("[", 1)[0]
    if name in selected:
        return True
    parts = name.split("::")
    return any("::".join(parts[:i]) in selected for i in range(1, len(parts)))


_STASH_KEY: Any = None


def _key() -> Any:
    global _STASH_KEY
    if _STASH_KEY is None:
        import pytest

        _STASH_KEY = pytest.StashKey[str]()
    return _STASH_KEY
