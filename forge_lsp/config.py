"""Settings: defaults, `[tool.forge-lsp]` in the workspace's pyproject.toml, then explicit overrides.

Every value is validated here, once, so that a bad setting becomes one clear message and a safe
default instead of a failure deep inside indexing.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

DEFAULT_EXCLUDES = (
    ".git",
    ".hg",
    ".svn",
    ".forge",
    ".venv",
    "venv",
    "env",
    ".env",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "__pycache__",
    "node_modules",
    "site-packages",
    "build",
    "dist",
    ".eggs",
)
DEFAULT_MAX_FILE_BYTES = 2 * 1024 * 1024
DB_ENV = "FORGE_LSP_DB"
_FIELDS = {
    "max-file-size": "max_file_bytes",
    "follow-symlinks": "follow_symlinks",
    "watch-max-directories": "watch_max_directories",
}


class ConfigError(ValueError):
    """A setting with a bad value; the message names the setting."""


@dataclass(frozen=True, slots=True)
class Settings:
    root: Path
    db_path: Path
    include: tuple[str, ...] = ()  # glob patterns relative to root; empty = everything supported
    exclude: tuple[str, ...] = ()  # glob patterns relative to root, on top of DEFAULT_EXCLUDES
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    jobs: int = field(default_factory=lambda: max(1, min(os.cpu_count() or 1, 8)))
    # follow symbolic links whose target is inside the root (never one leading outside)
    follow_symlinks: bool = True
    # more directories than this to watch and the watcher polls instead; None: half the
    # kernel's inotify watches (where known), 0: always poll
    watch_max_directories: int | None = None
    problems: tuple[str, ...] = ()  # settings that were ignored, with why


def _validate(key: str, value: Any, problems: list[str]) -> Any:
    if key in ("include", "exclude"):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            problems.append(f"{key} must be a list of glob strings; ignored")
            return None
        return tuple(value)
    if key == "max-file-size" or key == "max_file_bytes":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            problems.append(f"{key} must be a positive number of bytes; using the default")
            return None
        return value
    if key == "jobs":
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            problems.append("jobs must be a positive integer; using the default")
            return None
        return value
    if key == "watch-max-directories":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            problems.append(
                "watch-max-directories must be an integer >= 0 (0: always poll); using the default"
            )
            return None
        return value
    if key == "follow-symlinks":
        if not isinstance(value, bool):
            problems.append("follow-symlinks must be true or false; using the default")
            return None
        return value
    if key == "db":
        if not isinstance(value, str) or not value:
            problems.append("db must be a path string; using the default")
            return None
        return value
    problems.append(f"unknown setting {key!r}; ignored")
    return None


def _from_pyproject(root: Path, problems: list[str]) -> dict[str, Any]:
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        problems.append(f"{path}: cannot read [tool.forge-lsp] ({exc}); using defaults")
        return {}
    section = data.get("tool", {}).get("forge-lsp", {})
    if not isinstance(section, dict):
        problems.append(f"{path}: [tool.forge-lsp] must be a table; ignored")
        return {}
    return section


def load_settings(
    root: Path,
    *,
    db: str | os.PathLike[str] | None = None,
    overrides: dict[str, Any] | None = None,
) -> Settings:
    """Settings for a workspace: defaults < pyproject.toml < overrides (< explicit db)."""
    root = root.resolve()
    problems: list[str] = []
    merged: dict[str, Any] = {}
    for source in (_from_pyproject(root, problems), overrides or {}):
        for key, value in source.items():
            checked = _validate(key, value, problems)
            if checked is not None:
                merged[_FIELDS.get(key, key)] = checked
    db_value = db or os.environ.get(DB_ENV) or merged.get("db")
    db_path = Path(db_value).expanduser() if db_value else root / ".forge" / "graph.db"
    if not db_path.is_absolute():
        db_path = root / db_path if db_value == merged.get("db") else db_path.resolve()
    settings = Settings(root=root, db_path=db_path, problems=tuple(problems))
    return replace(
        settings,
        include=merged.get("include", ()),
        exclude=merged.get("exclude", ()),
        max_file_bytes=merged.get("max_file_bytes", DEFAULT_MAX_FILE_BYTES),
        jobs=merged.get("jobs", settings.jobs),
        follow_symlinks=merged.get("follow_symlinks", True),
        watch_max_directories=merged.get("watch_max_directories"),
    )
