"""`initializationOptions`: validated once, each bad value reported and replaced by its default.

Editors pass these options from user configuration that nobody type-checks, so a wrong type must
never stop the server: it becomes one clear `window/showMessage` warning and the safe default.
Options that are also workspace settings (include, exclude, maxFileSize, dbPath, jobs,
followSymlinks, watchMaxDirectories) are handed to `forge_lsp.config.load_settings` as
overrides, so that `[tool.forge-lsp]` in the workspace's pyproject.toml applies underneath them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from forge_lsp.live.interface import LiveOptions

LOG_LEVELS = {
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "warn": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
}

# What `leaveToOtherServers` may name: requests another Python server (Pylance, basedpyright,
# jedi) answers too, which forge-lsp then does not offer (server/lifecycle.py).
LEAVABLE = ("references", "definition", "callHierarchy", "documentSymbol", "workspaceSymbol")

# initializationOptions name -> [tool.forge-lsp] key understood by load_settings
_SETTING_KEYS = {
    "include": "include",
    "exclude": "exclude",
    "maxFileSize": "max-file-size",
    "jobs": "jobs",
    "dbPath": "db",
    "followSymlinks": "follow-symlinks",
    "watchMaxDirectories": "watch-max-directories",
}


@dataclass(frozen=True, slots=True)
class ServerOptions:
    """What the client asked for, after validation."""

    overrides: dict[str, Any] = field(default_factory=dict)  # for load_settings
    include_probable: bool = False
    log_level: int | None = None  # None: keep the command line's level
    debounce_ms: int = 0  # how long a change waits for more before the graph is updated
    cache_size: int = 4096  # query answers kept per folder
    watch_files: bool = True  # run our own file watcher (changes made outside the editor)
    metrics_log: bool = False  # one JSON log line per graph update
    first_index_wait_ms: int = 60_000  # how long a request waits for the first index to end
    freshness_timeout_ms: int = 2000  # how long a request waits for the edits before it
    leave_to_other_servers: tuple[str, ...] = ()  # of LEAVABLE: not offered in capabilities
    problems: tuple[str, ...] = ()

    def live(self) -> LiveOptions:
        return LiveOptions(
            debounce=self.debounce_ms / 1000,
            cache_size=self.cache_size,
            watch=self.watch_files,
            metrics_log=self.metrics_log,
        )


def _string_list(name: str, value: Any, problems: list[str]) -> list[str] | None:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    what = "names" if name == "leaveToOtherServers" else "glob strings"
    problems.append(f"{name} must be a list of {what}; ignored")
    return None


def _positive_int(name: str, value: Any, problems: list[str], low: int = 1) -> int | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= low:
        return value
    kind = "a positive integer" if low > 0 else "an integer >= 0"
    problems.append(f"{name} must be {kind}; using the default")
    return None


def _boolean(name: str, value: Any, default: bool, problems: list[str]) -> bool:
    if isinstance(value, bool):
        return value
    problems.append(f"{name} must be true or false; using {str(default).lower()}")
    return default


def parse_options(raw: Any) -> ServerOptions:
    """Validate `initializationOptions` (any JSON value); never raises."""
    if raw is None:
        return ServerOptions()
    if not isinstance(raw, dict):
        return ServerOptions(problems=("initializationOptions must be an object; ignored",))
    problems: list[str] = []
    overrides: dict[str, Any] = {}
    for name in ("include", "exclude"):
        if name in raw:
            value = _string_list(name, raw[name], problems)
            if value is not None:
                overrides[_SETTING_KEYS[name]] = value
    for name in ("maxFileSize", "jobs"):
        if name in raw:
            number = _positive_int(name, raw[name], problems)
            if number is not None:
                overrides[_SETTING_KEYS[name]] = number
    if "watchMaxDirectories" in raw:
        number = _positive_int("watchMaxDirectories", raw["watchMaxDirectories"], problems, 0)
        if number is not None:
            overrides["watch-max-directories"] = number
    if "followSymlinks" in raw:
        if isinstance(raw["followSymlinks"], bool):
            overrides["follow-symlinks"] = raw["followSymlinks"]
        else:
            problems.append("followSymlinks must be true or false; using the default")
    if "dbPath" in raw:
        if isinstance(raw["dbPath"], str) and raw["dbPath"].strip():
            overrides["db"] = raw["dbPath"].strip()
        else:
            problems.append("dbPath must be a non-empty path string; using the default")
    log_level = None
    if "logLevel" in raw:
        level = raw["logLevel"]
        if isinstance(level, str) and level.lower() in LOG_LEVELS:
            log_level = LOG_LEVELS[level.lower()]
        else:
            problems.append(
                f"logLevel must be one of {', '.join(sorted(LOG_LEVELS))}; keeping the default"
            )
    include_probable = (
        _boolean("includeProbable", raw["includeProbable"], False, problems)
        if "includeProbable" in raw
        else False
    )
    leave: tuple[str, ...] = ()
    if "leaveToOtherServers" in raw:
        value = raw["leaveToOtherServers"]
        names = _string_list("leaveToOtherServers", value, problems) or []
        leave = tuple(dict.fromkeys(n for n in names if n in LEAVABLE))
        unknown = [n for n in names if n not in LEAVABLE]
        if unknown:
            problems.append(
                f"leaveToOtherServers: {', '.join(map(repr, unknown))} ignored:"
                f" it may name {', '.join(LEAVABLE)}"
            )
    live: dict[str, Any] = {}
    for name, attr, low in _LIVE_INTS:
        if name in raw:
            number = _positive_int(name, raw[name], problems, low)
            if number is not None:
                live[attr] = number
    for name, attr in _LIVE_FLAGS:
        if name in raw:
            live[attr] = _boolean(name, raw[name], getattr(ServerOptions(), attr), problems)
    known = {*_SETTING_KEYS, "logLevel", "includeProbable", "leaveToOtherServers"}
    known.update(name for name, *_ in (*_LIVE_INTS, *_LIVE_FLAGS))
    for name in sorted(set(raw) - known):
        problems.append(f"unknown option {name!r}; ignored")
    return ServerOptions(
        overrides=overrides,
        include_probable=include_probable,
        log_level=log_level,
        leave_to_other_servers=leave,
        problems=tuple(problems),
        **live,
    )


# initializationOptions name, ServerOptions attribute, smallest value
_LIVE_INTS = (
    ("debounceMs", "debounce_ms", 0),
    ("cacheSize", "cache_size", 1),
    ("freshnessTimeoutMs", "freshness_timeout_ms", 1),
    ("firstIndexWaitMs", "first_index_wait_ms", 0),
)
_LIVE_FLAGS = (("watchFiles", "watch_files"), ("metricsLog", "metrics_log"))
