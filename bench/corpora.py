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


def fetch_django(cache_dir: Path = CACHE_DIR, version: str = DJANGO_VERSION) -> Path:
    """Return the unpacked Django sdist directory, downloading it first if it is missing."""
    target = django_dir(cache_dir, version)
    if (target / "django" / "__init__.py").exists():
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
                f"django=={version}",
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
    if not (target / "django" / "__init__.py").exists():
        raise RuntimeError(f"sdist did not unpack to {target}")
    return target


def main() -> None:
    """Command line: fetch the corpus and print where it is."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache-dir", type=Path, default=CACHE_DIR)
    parser.add_argument("--version", default=DJANGO_VERSION)
    args = parser.parse_args()
    print(fetch_django(args.cache_dir, args.version))


if __name__ == "__main__":
    main()
