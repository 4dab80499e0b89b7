"""Which files belong to the workspace: git's view when there is one, a guarded walk otherwise.

Every file left out for a reason the user may care about (binary, too large, unreadable) is
counted with that reason; files that are simply not source (images, data) are not.
"""

from __future__ import annotations

import fnmatch
import os
import stat
import subprocess
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from forge_lsp.config import DEFAULT_EXCLUDES, Settings
from forge_lsp.parsing import supported_suffixes

SNIFF_BYTES = 8192
_DIRECTORIES_KEPT = 65536


@dataclass(slots=True)
class SourceFile:
    path: str  # absolute, with forward slashes
    rel: str  # relative to the root
    size: int
    mtime_ns: int


@dataclass(slots=True)
class Discovery:
    files: list[SourceFile] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (rel path, reason)
    git: bool = False  # the file list is git's (so .gitignore applies to new files too)

    def skip_counts(self) -> Counter[str]:
        return Counter(reason for _, reason in self.skipped)


class PathFilter:
    """Default excludes and the workspace's include/exclude globs, shared with the file watcher."""

    def __init__(self, settings: Settings) -> None:
        self.excluded_dirs = frozenset(DEFAULT_EXCLUDES)
        self.include = settings.include
        self.exclude = settings.exclude
        self.suffixes = supported_suffixes()
        # whether no directory on the way to a file is a default exclude, by directory: a
        # restart checks 100,000 paths in a few thousand directories
        self._directories: dict[str, bool] = {}

    def dir_allowed(self, rel_dir: str) -> bool:
        name = rel_dir.rsplit("/", 1)[-1]
        if name in self.excluded_dirs or name.endswith(".egg-info"):
            return False
        return not any(_match(rel_dir, pattern) for pattern in self.exclude)

    def tree_allowed(self, rel_dir: str) -> bool:
        """Whether discovery walks into a directory: it and each of its ancestors allowed."""
        parts = rel_dir.split("/")
        return all(self.dir_allowed("/".join(parts[: i + 1])) for i in range(len(parts)))

    def file_allowed(self, rel: str) -> bool:
        if not rel.endswith(self.suffixes):
            return False
        directory = rel.rpartition("/")[0]
        allowed = self._directories.get(directory)
        if allowed is None:
            if len(self._directories) >= _DIRECTORIES_KEPT:  # a long-lived watcher's filter
                self._directories.clear()
            allowed = self._directories[directory] = not any(
                part in self.excluded_dirs or part.endswith(".egg-info")
                for part in directory.split("/")
            )
        if not allowed:
            return False
        if self.exclude and any(_match(rel, pattern) for pattern in self.exclude):
            return False
        return not self.include or any(_match(rel, pattern) for pattern in self.include)


def _match(rel: str, pattern: str) -> bool:
    """Glob match where a pattern without a slash matches any path component, like .gitignore."""
    pattern = pattern.rstrip("/")
    if "/" not in pattern:
        return any(fnmatch.fnmatchcase(part, pattern) for part in rel.split("/"))
    if fnmatch.fnmatchcase(rel, pattern):
        return True
    return pattern.endswith("/**") and rel.startswith(pattern[:-3] + "/")


def unsafe_root(root: Path) -> str | None:
    """Why indexing this directory is surely a mistake (the file system's root, the home
    directory, a system directory), or None."""
    resolved = root.resolve()
    home = Path.home().resolve()
    if resolved == Path(resolved.anchor):
        return f"{resolved} is the root of the file system"
    if resolved == home:
        return f"{resolved} is the home directory"
    if resolved.parts[1:2] and resolved.parts[1] in ("proc", "sys", "dev", "run"):
        return f"{resolved} is a system directory"
    return None


def discover(
    settings: Settings,
    under: str = "",
    *,
    git: bool | None = None,
    known: Mapping[str, tuple[int, int]] | None = None,
) -> Discovery:
    """The workspace's files, or only those below the directory `under` (relative to the root).

    `git`: whether the root's file list is git's, as an earlier discovery of the whole root
    found; None decides it now. A root outside any work tree, or one that git ignores (a cache,
    a vendored tree), is walked. `known`: (size, mtime) by absolute path of the files indexed
    as text before; one that still matches is not opened again to sniff for binary content.
    """
    root = settings.root
    path_filter = PathFilter(settings)
    rels: list[str] | None = None
    if git is not False:
        rels = _git_files(root, under)
        if git is None:
            git = bool(rels)
    if not git or rels is None:
        rels = _walk(root, path_filter, under, follow=settings.follow_symlinks)
    result = Discovery(git=bool(git))
    root_text = root.as_posix()
    for rel in rels:
        if rel.startswith(_OUTSIDE):
            linked = rel[len(_OUTSIDE) :]
            target = os.path.realpath(f"{root_text}/{linked}")
            out = not inside(target, os.path.realpath(root_text))
            reason = "to outside the workspace" if out else "(follow-symlinks is off)"
            result.skipped.append((linked, f"symbolic link {reason}"))
            continue
        if not path_filter.file_allowed(rel):
            continue
        unreadable = readable_name(rel)
        if unreadable is not None:
            result.skipped.append((escaped(rel), unreadable))
            continue
        absolute = f"{root_text}/{rel}"
        before = known.get(absolute) if known else None
        found = check_file(
            absolute,
            rel,
            settings.max_file_bytes,
            before,
            root_text,
            follow=settings.follow_symlinks,
        )
        if isinstance(found, SourceFile):
            result.files.append(found)
        elif found is not None:
            result.skipped.append((rel, found))
    result.files.sort(key=lambda f: f.rel)
    return result


def inside(path: str, root: str) -> bool:
    """Whether a posix path is `root` or lies below it (by spelling: resolve first)."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def readable_name(rel: str) -> str | None:
    """Why a file name cannot be stored (not valid UTF-8), or None. Such a file is skipped
    and counted, under its name with the undecodable bytes escaped."""
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError:
        return "file name is not valid UTF-8"
    return None


def escaped(rel: str) -> str:
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _leads_out(absolute: str, root: str, resolve: bool, follow: bool = True) -> str | None:
    """Why the file must not be read: a link out of the root (or any link, not `follow`)."""
    try:
        link = stat.S_ISLNK(os.lstat(absolute).st_mode)
    except OSError:
        return None
    if link and not follow:
        return "symbolic link (follow-symlinks is off)"
    if (link or resolve) and not inside(os.path.realpath(absolute), root):
        return "symbolic link to outside the workspace"
    return None


def check_file(
    absolute: str,
    rel: str,
    max_bytes: int,
    known: tuple[int, int] | None = None,
    root: str | None = None,
    *,
    resolve: bool = False,
    follow: bool = True,
) -> SourceFile | str | None:
    """The file to index, or the reason it is skipped, or None when it is not a file at all.
    `known`: the (size, mtime) it had when it was last indexed as text; if it still has them,
    its content is not sniffed again (a restart on 100,000 files would open every one).
    `root`: nothing outside it is read: a symbolic link whose target lies outside is skipped
    (with `resolve`, every directory on the way is followed too, for paths from outside)."""
    try:
        st = os.stat(absolute)
    except FileNotFoundError:
        return None  # deleted since git listed it, or a dangling link
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if not stat.S_ISREG(st.st_mode):
        return None
    if st.st_size > max_bytes:
        return f"too large (>{max_bytes} bytes)"
    if known is not None and known == (st.st_size, st.st_mtime_ns):
        return SourceFile(absolute, rel, st.st_size, st.st_mtime_ns)
    # Only a file about to be read is checked: one whose size and mtime match is not read.
    refused = _leads_out(absolute, root, resolve, follow) if root is not None else None
    if refused is not None:
        return refused
    try:
        with open(absolute, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if b"\0" in head:
        return "binary"
    return SourceFile(absolute, rel, st.st_size, st.st_mtime_ns)


def _git_files(root: Path, under: str = "") -> list[str] | None:
    """Tracked files, those of submodules included, and untracked-but-not-ignored ones; None
    when root is not in a git work tree. (git will not list both kinds in one call with
    `--recurse-submodules`: two calls.)"""
    tracked = _git_list(root, ["--cached", "--recurse-submodules"], under)
    if tracked is None:
        return None
    untracked = _git_list(root, ["--others", "--exclude-standard"], under) or []
    return list(dict.fromkeys([*tracked, *untracked]))


def _git_list(root: Path, options: list[str], under: str) -> list[str] | None:
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", *options, "--", under or "."],
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if proc.returncode != 0:
        return None
    return [os.fsdecode(raw) for raw in proc.stdout.split(b"\0") if raw]


def git_ignored(root: Path, rels: list[str]) -> set[str]:
    """Which of these paths git ignores (tracked files never are), as `git ls-files` would."""
    if not rels:
        return set()
    try:
        proc = subprocess.run(
            ["git", "-C", str(root), "check-ignore", "-z", "--stdin"],
            input=b"\0".join(os.fsencode(r) for r in rels),
            capture_output=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return set()
    return {os.fsdecode(raw) for raw in proc.stdout.split(b"\0") if raw}


def walked_directories(
    root: Path, path_filter: PathFilter, *, follow: bool = True
) -> dict[str, tuple[int, int]]:
    """Every directory the guarded walk enters, by absolute posix path (the root first), with
    its (device, inode): what the file watcher watches, one watch each, so that an excluded
    tree costs none. `_walk`'s rules: each directory once under its first name, links only
    inside the root, unreadable directories left out (no watch could be put on them)."""
    out: dict[str, tuple[int, int]] = {}
    root_text = root.as_posix()
    root_real = os.path.realpath(root_text)
    key = walk_key(root_text, root_real, follow=True)
    if key is None:
        return out
    seen = {key}
    stack = [(root_text, "", key)]
    while stack:
        directory, prefix, key = stack.pop()
        names: list[str] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        if entry.is_dir() and path_filter.dir_allowed(prefix + entry.name):
                            names.append(entry.name)
                    except OSError:
                        continue
        except OSError:
            continue
        out[directory] = key
        claimed: list[tuple[str, str, tuple[int, int]]] = []
        for name in sorted(names):
            full = f"{directory}/{name}"
            found = walk_key(full, root_real, follow=follow)
            if found is not None and found not in seen:
                seen.add(found)
                claimed.append((full, f"{prefix}{name}/", found))
        stack.extend(reversed(claimed))  # in name order, as the walk goes
    return out


def walk_key(path: str, root_real: str, *, follow: bool) -> tuple[int, int] | None:
    """(device, inode) of the directory at `path` if the walk would enter it: a directory, or a
    link to one when links are followed and it stays inside `root_real`; else None."""
    try:
        if stat.S_ISLNK(os.lstat(path).st_mode) and not (
            follow and inside(os.path.realpath(path), root_real)
        ):
            return None
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else None


_OUTSIDE = "\0outside:"  # _walk's mark for a directory link that leads out of the workspace


def _walk(
    root: Path, path_filter: PathFilter, under: str = "", *, follow: bool = True
) -> list[str]:
    """A walk that follows directory links once each, so that link cycles cannot hang it,
    and never out of the root (such a link is listed with the _OUTSIDE mark, to be counted).
    What os.walk(followlinks=True) lists, from one scandir a directory: a no-op re-index is
    mostly this walk."""
    out: list[str] = []
    visited: set[tuple[int, int]] = set()
    root_text = str(root)
    root_real = os.path.realpath(root_text)
    start_prefix = under.strip("/") + "/" if under.strip("/") else ""
    start = os.path.join(root_text, under) if under else root_text
    try:
        st = os.stat(start)
    except OSError:
        return out
    visited.add((st.st_dev, st.st_ino))
    stack = [(start, start_prefix)]
    while stack:
        directory, prefix = stack.pop()
        subdirs: list[tuple[str, str, bool]] = []
        try:
            with os.scandir(directory) as entries:
                for entry in entries:
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if not is_dir:
                        out.append(prefix + entry.name)
                    elif path_filter.dir_allowed(prefix + entry.name):
                        subdirs.append((entry.name, entry.path, entry.is_symlink()))
        except OSError:
            continue
        claimed: list[tuple[str, str]] = []
        for name, full, link in sorted(subdirs):  # a directory met twice: the first name wins
            try:
                if link and not (follow and inside(os.path.realpath(full), root_real)):
                    out.append(f"{_OUTSIDE}{prefix}{name}")
                    continue
                st = os.stat(full)
            except OSError:
                continue
            key = (st.st_dev, st.st_ino)
            if key not in visited:
                visited.add(key)
                claimed.append((full, f"{prefix}{name}/"))
        stack.extend(reversed(claimed))  # popped in name order, as os.walk goes
    return out
