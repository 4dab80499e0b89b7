"""How long `forge-lsp affected` takes on Django, the whole process, on a warm index.

A git copy of the Django sdist (``bench/.cache/affected-speed/django-<version>``) is indexed
once; then each round inserts a statement into one function body, times
``forge-lsp affected --since HEAD --format pytest`` (the first run after the change: the index
is brought up to date, then the walk), times it again (nothing left to update), and restores the
file. Beside it, in the same rounds, the floor of any answer: a process that imports the CLI and
opens the graph (`forge-lsp status`). Bar: ≤ 2 s for the first run.

    python -m bench.affected_speed [--rounds 5] [--forge forge-lsp]
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import statistics
import subprocess
import time
from pathlib import Path

from bench.corpora import CACHE_DIR, DJANGO_VERSION, django_dir

# (file, a line inside a function body, the function) — popular and quiet ones
TARGETS = [
    ("django/utils/html.py", "    return SafeString(html.escape(str(text)))", "escape"),
    ("django/utils/text.py", "    return x[0].upper() + x[1:]", "capfirst"),
    (
        "django/db/models/sql/query.py",
        "        obj = self.clone()\n        if klass",
        "Query.chain",
    ),
]


def _copy() -> Path:
    work = CACHE_DIR / "affected-speed" / f"django-{DJANGO_VERSION}"
    if not (work / ".git").exists():
        shutil.rmtree(work, ignore_errors=True)
        shutil.copytree(django_dir(), work, ignore=shutil.ignore_patterns(".forge"))
        commit = ["-c", "user.email=b@b", "-c", "user.name=b", "commit", "-qm", "sdist"]
        for args in (["init", "-q"], ["add", "-A"], commit):
            subprocess.run(["git", "-C", str(work), *args], check=True)
    return work


def _timed(command: list[str], cwd: Path) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode not in (0, 3):
        raise SystemExit(f"{shlex.join(command)} failed: {done.stderr.strip()}")
    return time.perf_counter() - started, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--forge", default="forge-lsp")
    args = parser.parse_args()
    forge = shlex.split(args.forge)
    work = _copy()
    subprocess.run([*forge, "index", "."], cwd=work, check=True, capture_output=True)
    first, again, floor = [], [], []
    for i in range(args.rounds):
        rel, needle, name = TARGETS[i % len(TARGETS)]
        path = work / rel
        original = path.read_text()
        assert needle in original, (rel, needle)
        indent = needle[: len(needle) - len(needle.lstrip())]
        path.write_text(original.replace(needle, f"{indent}_probe = 0\n{needle}", 1))
        try:
            seconds, out = _timed(
                [*forge, "affected", "--since", "HEAD", "--format", "pytest"], work
            )
            first.append(seconds)
            again.append(
                _timed([*forge, "affected", "--since", "HEAD", "--format", "pytest"], work)[0]
            )
            floor.append(_timed([*forge, "status"], work)[0])
            print(f"{name}: {seconds:.2f} s, {len(out.splitlines())} tests")
        finally:
            path.write_text(original)
    median = statistics.median
    print(
        f"affected after a one-function change: median {median(first):.2f} s, max {max(first):.2f} s"
        f" (bar ≤ 2 s); again, nothing to update: {median(again):.2f} s;"
        f" floor (process + open the graph): {median(floor):.2f} s;"
        f" ratio to the floor {median(first) / median(floor):.1f}×"
    )


if __name__ == "__main__":
    main()
