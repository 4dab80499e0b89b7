"""`forge/status` (and the `forge-lsp.status` command): per folder, what the graph holds, how
the live updates and the query cache are doing; never waits for the first index, and says the
graph is partial while it runs. The schema is in docs/lsp.md."""

from __future__ import annotations

from typing import Any

from forge_lsp import __version__
from forge_lsp.server.app import ForgeServer, request


async def forge_status(ls: ForgeServer, params: Any) -> dict[str, Any]:
    return await ls.run(lambda cancel: status(ls))


def status(ls: ForgeServer) -> dict[str, Any]:
    """The forge/status answer (schema in docs/lsp.md); runs on a query thread."""
    folders = []
    totals = {"files": 0, "symbols": 0, "references": 0, "pendingFiles": 0}
    cache = {"size": 0, "hits": 0, "misses": 0, "evictions": 0, "invalidated": 0}
    live = {"pendingUpdates": 0, "updates": 0, "reresolvedFiles": 0, "interfaceChanges": 0}
    last_seconds: float | None = None
    for folder in list(ls.workspaces.folders):
        graph_live = folder.live
        with folder.pool.query() as query:
            graph = query.status() if query is not None else {}
        report = graph_live.report
        live_status = graph_live.status()
        cache_status = graph_live.cache.stats()
        entry = {
            "uri": folder.uri,
            "root": folder.root,
            "db": str(folder.settings.db_path),
            "state": graph_live.state,
            "files": graph.get("files", 0),
            "symbols": graph.get("symbols", 0),
            "references": graph.get("references", 0),
            "resolvedPercent": graph.get("resolvedPercent"),
            "pendingFiles": graph_live.pending_files,
            "lastIndexSeconds": graph.get("lastIndexSeconds"),
            "lastIndexTime": graph.get("lastIndexTime"),
            "indexRuns": graph_live.runs,
            "skipped": graph.get("skipped", {}),
            "skippedFiles": graph.get("skippedFiles", []),
            "partlyIndexed": graph.get("partlyIndexed", []),
            "warnings": len(report.warnings) if report else 0,
            "error": graph_live.error,
            "live": live_status,
            "cache": cache_status,
        }
        folders.append(entry)
        for key in totals:
            totals[key] += entry[key] or 0
        for key in cache:
            cache[key] += cache_status[key]
        for key in live:
            live[key] += live_status[key]
        if entry["lastIndexSeconds"] is not None:
            last_seconds = max(last_seconds or 0.0, float(entry["lastIndexSeconds"]))
    indexing = any(f["state"] in ("queued", "indexing") for f in folders)
    asked = cache["hits"] + cache["misses"]
    return {
        "version": __version__,
        "state": "indexing" if indexing else "ready",
        "partial": indexing,
        **totals,
        "lastIndexSeconds": last_seconds,
        "positionEncoding": ls.encoding,
        "includeProbable": ls.options.include_probable,
        "requests": dict(ls.counters),
        "live": live,
        "cache": {**cache, "hitRate": round(cache["hits"] / asked, 4) if asked else None},
        "folders": folders,
    }


def register(server: ForgeServer) -> None:
    request(server, "forge/status")(forge_status)
