"""`forge-lsp affected` output: pytest node ids, JSON, GitHub workflow annotations, text.

Every path here is relative to the repository root, wherever the command runs: pytest node ids
and GitHub annotations must be, and the JSON and text say the same paths as they do.
"""

from __future__ import annotations

import os
from typing import Any

from forge_lsp.changes.affected import Affected, AffectedSymbol
from forge_lsp.changes.symbols import BODY, SymbolChange
from forge_lsp.graph.model import ImpactResult
from forge_lsp.render import edge_json


def pytest_lines(result: Affected) -> list[str]:
    return result.tests


def as_json(result: Affected, base: str, since: str | None) -> dict[str, Any]:
    return {
        "analysable": True,
        "since": since,
        "files": [_rel(p, base) for p in result.files],
        "changes": [_change_json(s, base) for s in result.symbols],
        "tests": result.tests,
    }


def unanalysable_json(reason: str, since: str | None) -> dict[str, Any]:
    return {"analysable": False, "since": since, "reason": reason, "tests": None}


def _change_json(item: AffectedSymbol, base: str) -> dict[str, Any]:
    change = item.change
    impact = item.impact
    return {
        "path": _rel(change.path, base),
        "line": change.line + 1,
        "symbol": change.qualname,
        "kind": change.kind,
        "status": change.status,
        "change": change.change,
        "reason": change.reason,
        "dependents": len(impact.nodes) if impact is not None else None,
        "callers": _callers(item),
        "tests": [
            {"id": test, "chain": [edge_json(e, lambda p: _rel(p, base)) for e in chain]}
            for test, chain in sorted(item.tests.items())
        ],
    }


def summary(item: AffectedSymbol) -> str:
    return change_summary(item.change, item.impact, len(item.tests))


def change_summary(change: SymbolChange, impact: ImpactResult | None, tests: int) -> str:
    """ "body-only change: 4 tests reach it", "signature changed: 17 callers in 6 files, ..."."""
    reach = f"{tests} test{'s' if tests != 1 else ''} reach it"
    if change.change == BODY:
        return f"body-only change: {reach}"
    callers = [n for n in impact.nodes if n.depth == 1] if impact is not None else []
    files = len({n.symbol.path for n in callers})
    what = {"new": "new", "deleted": "deleted"}.get(change.reason, f"{change.reason} changed")
    return (
        f"{what}: {len(callers)} caller{'s' if len(callers) != 1 else ''}"
        f" in {files} file{'s' if files != 1 else ''}, {reach}"
    )


def _callers(item: AffectedSymbol) -> int:
    return sum(1 for n in item.impact.nodes if n.depth == 1) if item.impact is not None else 0


def text(result: Affected, base: str) -> str:
    lines: list[str] = []
    for item in result.symbols:
        change = item.change
        name = change.qualname or "module-level code"
        lines.append(f"{_rel(change.path, base)}:{change.line + 1}: {name}: {summary(item)}")
        for test in sorted(item.tests):
            lines.append(f"  {test}")
    total = len(result.tests)
    lines.append(f"tests affected: {total}")
    return "\n".join(lines)


def github(result: Affected, base: str) -> list[str]:
    """One annotation per changed symbol, on its first changed line."""
    out = []
    for item in result.symbols:
        change = item.change
        level = "notice" if change.change == BODY else "warning"
        name = change.qualname or "module-level code"
        message = f"{name}: {summary(item)}".replace("%", "%25").replace("\n", "%0A")
        out.append(f"::{level} file={_rel(change.path, base)},line={change.line + 1}::{message}")
    out.append(f"::notice::forge-lsp affected: {len(result.tests)} tests")
    return out


def _rel(path: str, base: str) -> str:
    return os.path.relpath(path, base).replace(os.sep, "/")
