"""Fetch benchmark corpora (third-party source nobody here wrote) into a local cache.

The Django source distribution is fetched with pip from PyPI, so a fresh machine can re-run the
benchmarks without anything committed beyond this script.  Run ``python -m bench.corpora`` to
fetch ahead of time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
CACHE_DIR = BENCH_DIR / ".cache"
DJANGO_VERSION = "5.2.19"
FLASK_VERSION = "3.1.2"


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


def main() -> None:
    """Command line: fetch the corpus and print where it is."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--version", default=DJANGO_VERSION)
    args = parser.parse_args()
    print(fetch_django(args.cache_dir, args.version))


if __name__ == "__main__":
    main()
