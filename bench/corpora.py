"""Fetch benchmark corpora (third-party source nobody here wrote) into a local cache.

Each corpus is a source distribution fetched with pip from PyPI at a pinned version, so a fresh
machine can re-run the benchmarks without anything committed beyond this script.  Run
``python -m bench.corpora [NAME ...]`` to fetch ahead of time.

The accuracy corpora (``CORPORA``), each of a different style:

- ``django``: a large framework, dynamic, barely annotated.
- ``flask``: a small framework with its tests, partly annotated.
- ``httpx``: a strictly typed library: annotations everywhere, ``Optional``/``Union``, string
  forward references in type aliases, ``TYPE_CHECKING`` imports, many properties and setters.
- ``httpie``: a command-line application, dynamic (argparse namespaces, plugins), shipping its
  tests (``tests/``, about half of the sdist).
- ``rich``: a typed terminal-rendering library: forward references and string annotations
  everywhere, protocol-typed aliases (``RenderableType``), ``TYPE_CHECKING`` imports, NamedTuples.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"
DJANGO_VERSION = "5.2.19"
FLASK_VERSION = "3.1.2"


@dataclass(frozen=True)
class Corpus:
    """A pinned PyPI sdist: ``marker`` is a file it must contain, relative to its top directory."""

    name: str
    version: str
    marker: str

    @property
    def dirname(self) -> str:
        return f"{self.name}-{self.version}"


CORPORA: dict[str, Corpus] = {
    c.name: c
    for c in (
        Corpus("django", DJANGO_VERSION, "django/__init__.py"),
        Corpus("flask", FLASK_VERSION, "src/flask/__init__.py"),
        Corpus("httpx", "0.28.1", "httpx/__init__.py"),
        Corpus("httpie", "3.2.4", "httpie/__init__.py"),
        Corpus("rich", "13.9.4", "rich/__init__.py"),
    )
}


def django_dir(cache_dir: Path = CACHE_DIR, version: str = DJANGO_VERSION) -> Path:
    """Where the unpacked Django sdist lives inside the cache."""
    return cache_dir / f"django-{version}"


def _safe_members(archive: tarfile.TarFile, target: Path) -> list[tarfile.TarInfo]:
    """Members that unpack inside ``target`` (no absolute paths, no ``..``, no links out)."""
    members = []
    for member in archive.getmembers():
        destination = (target / member.name).resolve()
        if not destination.is_relative_to(target.resolve()):
            raise ValueError(f"unsafe path in sdist: {member.name}")
        if member.issym() or member.islnk():
            continue
        members.append(member)
    return members


def fetch_sdist(name: str, version: str, marker: str, cache_dir: Path = CACHE_DIR) -> Path:
    """The unpacked source distribution `name==version` (`marker`: a file it must contain,
    relative to its top directory), downloaded with pip first if it is missing."""
    target = cache_dir / f"{name}-{version}"
    if (target / marker).exists():
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as download:
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"{name}=={version}",
                "-d",
                download,
            ],
            check=True,
        )
        sdist = next(Path(download).glob("*.tar.gz"))
        with tarfile.open(sdist) as archive:
            members = _safe_members(archive, cache_dir)
            if hasattr(tarfile, "data_filter"):  # 3.11.4+: also strips odd modes and owners
                archive.extractall(cache_dir, members=members, filter="data")
            else:
                archive.extractall(cache_dir, members=members)
    if not (target / marker).exists():
        raise RuntimeError(f"sdist did not unpack to {target}")
    return target


def fetch_django(cache_dir: Path = CACHE_DIR, version: str = DJANGO_VERSION) -> Path:
    """Return the unpacked Django sdist directory, downloading it first if it is missing."""
    return fetch_sdist("django", version, "django/__init__.py", cache_dir)


def fetch_flask(cache_dir: Path = CACHE_DIR, version: str = FLASK_VERSION) -> Path:
    """The second real corpus: Flask's sdist (83 files), small enough for `--quick`."""
    return fetch_sdist("flask", version, "src/flask/__init__.py", cache_dir)


def fetch_corpus(name: str, cache_dir: Path = CACHE_DIR) -> Path:
    """The unpacked sdist of the accuracy corpus ``name`` (a key of ``CORPORA``)."""
    corpus = CORPORA[name]
    return fetch_sdist(corpus.name, corpus.version, corpus.marker, cache_dir)


def main() -> None:
    """Command line: fetch corpora (default: Django) and print where they are."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", default=["django"], help=", ".join(CORPORA))
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    args = parser.parse_args()
    unknown = [n for n in args.names if n not in CORPORA]
    if unknown:
        parser.error(f"unknown corpus: {', '.join(unknown)}")
    for name in args.names:
        print(fetch_corpus(name, args.cache_dir))


if __name__ == "__main__":
    main()
