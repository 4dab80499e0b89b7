"""`forge/impact`: the blast radius of the symbol at (or around) a position, or of a file.

Limits are those of the command line (graph.impact.check_limits): no depth means a fixed point,
under the node cap. When the document has unsaved edits, the answer also says what kind of
change they are to the symbol asked about (`pendingChange`, classified as `forge-lsp affected`
classifies a diff): "body-only change: 4 tests reach it", "signature changed: 17 callers in
6 files". The answer's schema is in docs/lsp.md.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams

from forge_lsp.changes.pending import pending_changes
from forge_lsp.changes.report import change_summary
from forge_lsp.changes.symbols import INTERFACE, SymbolChange
from forge_lsp.graph.impact import DEFAULT_MAX_NODES, LimitError, check_limits
from forge_lsp.graph.model import ImpactResult, Symbol
from forge_lsp.server.app import ForgeServer, request
from forge_lsp.server.cancellation import check
from forge_lsp.server.convert import Converter
from forge_lsp.server.documents import TextSnapshot
from forge_lsp.server.first_answers import first_index
from forge_lsp.server.requests import fresh, symbol_around


def _int_or_none(raw: dict[str, Any], name: str) -> int | None:
    value = raw.get(name)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise JsonRpcInvalidParams(f"{name} must be an integer")
    return value


def impact_params(raw: Any, default_probable: bool) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise JsonRpcInvalidParams("forge/impact expects an object with textDocument")
    document = raw.get("textDocument")
    if not isinstance(document, dict) or not isinstance(document.get("uri"), str):
        raise JsonRpcInvalidParams("textDocument.uri is required")
    position = raw.get("position")
    if position is not None:
        if not (
            isinstance(position, dict)
            and all(
                isinstance(position.get(k), int)
                and not isinstance(position.get(k), bool)
                and position[k] >= 0
                for k in ("line", "character")
            )
        ):
            raise JsonRpcInvalidParams("position must be {line, character} with integers >= 0")
        position = types.Position(line=position["line"], character=position["character"])
    probable = raw.get("includeProbable", default_probable)
    if not isinstance(probable, bool):
        raise JsonRpcInvalidParams("includeProbable must be true or false")
    depth = _int_or_none(raw, "depth")
    max_nodes = _int_or_none(raw, "maxNodes")
    max_nodes = DEFAULT_MAX_NODES if max_nodes is None else max_nodes
    try:
        check_limits(depth, max_nodes)
    except LimitError as exc:
        raise JsonRpcInvalidParams(str(exc)) from None
    return {
        "uri": document["uri"],
        "position": position,
        "depth": depth,
        "max_nodes": max_nodes,
        "include_probable": probable,
    }


def empty_impact(target: dict[str, Any], depth: int | None, partial: bool) -> dict[str, Any]:
    return {
        "target": target,
        "root": None,
        "roots": [],
        "depth": depth,
        "truncated": False,
        "truncatedBy": None,
        "unexpanded": 0,
        "count": 0,
        "exactCount": 0,
        "probableCount": 0,
        "files": [],
        "tests": [],
        "testFiles": [],
        "pendingChange": None,
        "partial": partial,
    }


def pending_change(
    text: TextSnapshot, path: str, root: Symbol, result: ImpactResult
) -> dict[str, Any] | None:
    """What the unsaved edit of the document does to the symbol asked about (None: nothing)."""
    edited = text.open_text(path)
    if edited is None:
        return None
    try:
        saved = Path(path).read_bytes().decode("utf-8", "surrogateescape")
    except OSError:
        return None
    changes = [c for c in pending_changes(path, saved, edited) if _concerns(c, root)]
    if not changes:
        return None
    first = next((c for c in changes if c.change == INTERFACE), changes[0])
    return {
        "change": first.change,
        "reason": first.reason,
        "symbols": [c.qualname for c in changes],
        "summary": change_summary(first, result, len(result.tests)),
    }


def _concerns(change: SymbolChange, root: Symbol) -> bool:
    """A change to the symbol, to something inside it, or (for a file) anything in the file."""
    if root.kind == "module":
        return True
    name, inner = root.qualname, change.qualname
    return inner == name or inner.startswith(f"{name}.") or name.startswith(f"{inner}.")


async def forge_impact(ls: ForgeServer, params: Any) -> dict[str, Any]:
    args = impact_params(params, ls.options.include_probable)
    position: types.Position | None = args["position"]
    target: dict[str, Any] = {
        "uri": args["uri"],
        "kind": "file" if position is None else "symbol",
    }
    if position is not None:
        target["position"] = {"line": position.line, "character": position.character}
    located = ls.locate(args["uri"])
    if located is None:
        return empty_impact(target, args["depth"], False)
    folder, path = located
    await first_index(ls, folder)
    text = ls.snapshot()
    seq = folder.editor_seq

    def work(cancel: threading.Event) -> dict[str, Any]:
        is_fresh = fresh(ls, folder, seq, cancel)
        check(cancel)
        partial = not is_fresh or folder.live.state != "ready"
        answer = empty_impact(target, args["depth"], partial)
        with folder.pool.query(cancel) as query:
            root = None
            if query is not None and query.file_id(path) is not None:
                root = (
                    query.module_symbol(path)
                    if position is None
                    else symbol_around(query, text, path, position)
                )
            if query is not None and root is not None:
                whole_file = position is None or root.kind == "module"
                result = folder.live.queries.impact(
                    query,
                    symbol=None if whole_file else root,
                    path=path if whole_file else None,
                    depth=args["depth"],
                    max_nodes=args["max_nodes"],
                    probable=args["include_probable"],
                )
                check(cancel)
                answer = Converter(folder, text).impact(result, target=target, root=root)
                answer["pendingChange"] = pending_change(text, path, root, result)
                answer["partial"] = partial
        if not is_fresh:
            answer["pending"] = [
                Converter(folder, text).uri(p) for p in folder.live.scheduler.pending_paths()
            ]
        return answer

    return await ls.run(work)


def register(server: ForgeServer) -> None:
    request(server, "forge/impact")(forge_impact)
