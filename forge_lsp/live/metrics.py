"""Live-update metrics: counters and rolling latency percentiles, as `forge/status` shows them.

Optionally every applied batch is also logged as one JSON line (logger `forge_lsp.metrics`), so
that a session's update behaviour can be replayed and graphed from the log alone.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from typing import Any

from forge_lsp.indexing.report import IndexReport

metrics_log = logging.getLogger("forge_lsp.metrics")

_WINDOW = 1000  # samples kept per distribution: recent behaviour, bounded memory


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100): the smallest value with at least q% at or below it."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


class Distribution:
    """The last samples of a duration, in milliseconds."""

    def __init__(self) -> None:
        self._samples: deque[float] = deque(maxlen=_WINDOW)
        self.count = 0

    def add(self, ms: float) -> None:
        self._samples.append(ms)
        self.count += 1

    def summary(self) -> dict[str, Any]:
        values = list(self._samples)
        if not values:
            return {"count": 0, "p50": None, "p95": None, "max": None}
        return {
            "count": self.count,
            "p50": round(percentile(values, 50), 2),
            "p95": round(percentile(values, 95), 2),
            "max": round(max(values), 2),
        }


class LiveMetrics:
    """What the updates of one folder did; written by its updater thread, read by status."""

    def __init__(self, log_json: bool = False) -> None:
        self.log_json = log_json
        self._lock = threading.Lock()
        self.updates = 0
        self.files = 0
        self.reresolved_files = 0
        self.retargeted = 0
        self.interface_changes = 0
        self.errors = 0
        self.latency = Distribution()  # change notice -> graph updated and cache invalidated
        self.file_time = Distribution()  # per file: parse, extract, write, resolve
        self.last: dict[str, Any] | None = None

    def record(
        self,
        report: IndexReport,
        *,
        kind: str,
        latencies: list[float],
        parse_ms: dict[str, float],
        invalidated: int,
        seconds: float,
    ) -> None:
        with self._lock:
            self.updates += 1
            self.files += report.parsed + report.removed
            self.reresolved_files += report.reresolved_files
            self.retargeted += report.retargeted
            self.interface_changes += report.interface_changed
            for ms in latencies:
                self.latency.add(ms)
            for delta in report.deltas:
                self.file_time.add(1000 * delta.seconds + parse_ms.get(delta.path, 0.0))
            self.last = {
                "kind": kind,
                "files": report.parsed,
                "removed": report.removed,
                "unchanged": report.unchanged,
                "interfaceChanged": report.interface_changed,
                "reresolvedFiles": report.reresolved_files,
                "reresolvedReferences": report.reresolved_refs,
                "retargetedReferences": report.retargeted,
                "symbolsChanged": sum(
                    d.symbols_added + d.symbols_removed + d.symbols_changed for d in report.deltas
                ),
                "referencesChanged": sum(d.refs_added + d.refs_removed for d in report.deltas),
                "invalidatedAnswers": invalidated,
                "ms": round(1000 * seconds, 2),
            }
            line = dict(self.last)
        if self.log_json:
            line["event"] = "update"
            line["latencyMs"] = [round(v, 2) for v in latencies]
            metrics_log.info("%s", json.dumps(line, separators=(",", ":")))

    def failed(self) -> None:
        with self._lock:
            self.errors += 1

    def summary(self) -> dict[str, Any]:
        with self._lock:
            return {
                "updates": self.updates,
                "filesUpdated": self.files,
                "reresolvedFiles": self.reresolved_files,
                "retargetedReferences": self.retargeted,
                "interfaceChanges": self.interface_changes,
                "errors": self.errors,
                "updateLatencyMs": self.latency.summary(),
                "fileProcessingMs": self.file_time.summary(),
                "lastUpdate": self.last,
            }
