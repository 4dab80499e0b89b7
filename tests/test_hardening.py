"""Bad input and hostile paths end as a clear line or a counted skip, never a crash, and nothing
from outside the workspace reaches the graph (issue 13). Real files, real indexes, real git."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from helpers import graph_differences
from raw_session import RawSession

from forge_lsp.cli import main
from forge_lsp.config import load_settings
from forge_lsp.graph.queries import GraphQuery
from forge_lsp.indexing.discovery import PathFilter, discover
from forge_lsp.indexing.indexer import index_workspace
from forge_lsp.live.disk import disk_work

SECRET = "def leaked_secret_function():\n    return 'hunter2'\n"


def _workspace(tmp_path: Path, git: bool) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text("def app():\n    return 1\n")
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "creds.py").write_text(SECRET)
    os.symlink(tmp_path / "secrets", root / "linked_dir")
    os.symlink(tmp_path / "secrets" / "creds.py", root / "linked_file.py")
    (root / "inside.py").symlink_to(root / "app.py")  # a link within the workspace is fine
    if git:
        subprocess.run(["git", "init", "-q", str(root)], check=True)
        subprocess.run(["git", "-C", str(root), "add", "-A"], check=True)
    return root


@pytest.mark.parametrize("git", [False, True], ids=["walk", "git"])
def test_links_out_of_the_workspace_are_skipped_and_counted(tmp_path: Path, git: bool) -> None:
    if git and shutil.which("git") is None:
        pytest.fail("git is needed for this test")
    root = _workspace(tmp_path, git)
    settings = load_settings(root, db=tmp_path / "graph.db")
    found = discover(settings)
    assert sorted(f.rel for f in found.files) == ["app.py", "inside.py"]
    reason = "symbolic link to outside the workspace"
    expected = (
        [("linked_file.py", reason)]
        if git
        else [("linked_dir", reason), ("linked_file.py", reason)]
    )
    assert sorted(found.skipped) == expected
    index_workspace(settings, jobs=1)
    query = GraphQuery.open(settings.db_path)
    try:
        assert query.workspace_symbols("leaked_secret_function") == []
        assert query.status()["skipped"] == {reason: len(expected)}
    finally:
        query.close()


def test_status_names_each_file_a_limit_or_a_fault_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _workspace(tmp_path, git=False)
    (root / "huge.py").write_text("x = 1\n" * 400_000)  # over the 2 MB default
    db = tmp_path / "graph.db"
    assert main(["index", str(root), "--db", str(db), "--jobs", "1"]) == 0
    capsys.readouterr()
    assert main(["status", "--db", str(db), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    outside = "symbolic link to outside the workspace"
    assert status["skippedFiles"] == [
        {"path": "huge.py", "reason": "too large (>2097152 bytes)"},
        {"path": "linked_dir", "reason": outside},
        {"path": "linked_file.py", "reason": outside},
    ]
    assert main(["status", "--db", str(db)]) == 0
    text = capsys.readouterr().out.splitlines()
    at = text.index(f"skipped: 2 {outside}, 1 too large")
    assert text[at + 1 : at + 4] == [
        "  huge.py: too large (>2097152 bytes)",
        f"  linked_dir: {outside}",
        f"  linked_file.py: {outside}",
    ]


def test_code_nested_too_deep_to_compile_is_counted_not_lost_silently(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One 1 MB line: 66,232 names in a chain of calls (CPython stops near 3,000 levels).
    root = tmp_path / "ws"
    root.mkdir()
    chain = "x = a" + "".join(f".m{i % 50}()" for i in range(66_232))
    (root / "deep.py").write_text(f"def a():\n    return 1\n\n{chain}\n")
    (root / "bad.py").write_bytes(b"def f():\n    return '\xff'\n")
    db = tmp_path / "graph.db"
    assert main(["index", str(root), "--db", str(db), "--jobs", "1"]) == 0
    capsys.readouterr()
    assert main(["status", "--db", str(db), "--json"]) == 0
    noted = json.loads(capsys.readouterr().out)["partlyIndexed"]
    assert noted == [
        {"path": "bad.py", "note": "invalid UTF-8 at byte 21; indexed with replacement characters"},
        {
            "path": "deep.py",
            "note": "code nested deeper than 8000 levels (which CPython cannot compile):"
            " 62235 names below that depth are not indexed",
        },
    ]
    # what lies above the limit is indexed: the chain's last calls sit at the top of the tree
    from forge_lsp.parsing.python import PythonExtractor

    facts = PythonExtractor().extract("deep.py", (root / "deep.py").read_bytes())
    last = len(chain) - len(".m31()") + 1
    assert ("m31", 3, last) in {(r.name, r.line, r.col) for r in facts.refs}


def test_a_file_name_that_is_not_utf8_is_skipped_and_counted(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "good.py").write_text("def good():\n    return 1\n")
    bad = os.fsencode(str(root)) + b"/bad\xff\xfe.py"
    with open(bad, "wb") as handle:
        handle.write(b"def bad():\n    return 2\n")
    settings = load_settings(root, db=tmp_path / "graph.db")
    report = index_workspace(settings, jobs=1)
    assert report.files == 1
    query = GraphQuery.open(settings.db_path)
    try:
        assert query.status()["skipped"] == {"file name is not valid UTF-8": 1}
        found = [(s.kind, s.display_name) for s in query.workspace_symbols("good")]
        assert found == [("function", "good"), ("module", "good")]
    finally:
        query.close()


def test_outside_paths_from_a_watcher_are_never_read(tmp_path: Path) -> None:
    root = _workspace(tmp_path, git=False)
    settings = load_settings(root, db=tmp_path / "graph.db")
    outside = f"{root.as_posix()}/../secrets/creds.py"
    work = disk_work(
        [outside, f"{root.as_posix()}/linked_file.py", f"{root.as_posix()}/app.py"],
        settings=settings,
        path_filter=PathFilter(settings),
        states={},
        skip=set(),
        git=False,
    )
    assert [job.path for job in work.jobs] == [f"{root.as_posix()}/app.py"]


def test_the_root_of_the_file_system_or_the_home_directory_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for root in ("/", str(Path.home())):
        had_index = (Path(root) / ".forge").exists()
        for db in (["--db", str(tmp_path / "x.db")], []):
            assert main(["index", root, *db]) == 2  # usage: not a project
            err = capsys.readouterr().err
            assert err.startswith(f"forge-lsp: not indexing {Path(root).resolve()} is the ")
            assert err.endswith("open a project directory (or use --force)\n")
        assert (Path(root) / ".forge").exists() == had_index  # nothing written there


@pytest.mark.parametrize("root", ["/", "home"])
def test_a_server_opened_on_the_file_system_root_or_home_refuses_the_folder(root: str) -> None:
    folder = Path("/") if root == "/" else Path.home()
    had_index = (folder / ".forge").exists()
    session = RawSession(folder)
    try:
        assert "capabilities" in session.initialize()["result"]
        session.message({"jsonrpc": "2.0", "method": "initialized", "params": {}})
        deadline = time.monotonic() + 20
        while (state := session.ask("forge/status", {})["folders"][0])["state"] != "failed":
            assert state["state"] in ("queued", "indexing"), state
            assert time.monotonic() < deadline, state
            time.sleep(0.05)
        assert state["error"].startswith(f"not indexing {folder.resolve()} is the ")
        assert (state["files"], state["live"]["watcher"]) == (0, "off")  # nothing watched
        assert (folder / ".forge").exists() == had_index  # nothing written there
        assert session.close() == 0  # and the session goes on until the client ends it
    finally:
        if session.process.poll() is None:
            session.process.kill()


def _big_workspace(root: Path, files: int = 600) -> None:
    for i in range(files):
        package = root / f"pkg{i % 20}"
        package.mkdir(parents=True, exist_ok=True)
        body = "".join(
            f"def f{i}_{j}(x):\n    return f{i}_{j - 1}(x) if x else {j}\n\n" for j in range(1, 60)
        )
        (package / f"mod{i}.py").write_text(f"def f{i}_0(x):\n    return x\n\n{body}")


def _children_when_parsing(process: subprocess.Popen[bytes], deadline: float = 30.0) -> list[int]:
    from forge_lsp.server.live import descendants

    waited = 0.0
    while waited < deadline:
        found = descendants(process.pid)
        if len(found) >= 2:
            return found
        time.sleep(0.05)
        waited += 0.05
    raise AssertionError("the index never started its parse workers")


def _gone(pids: list[int], deadline: float = 5.0) -> list[int]:
    """The pids still running (not exited, not zombies) after up to `deadline` seconds."""
    waited = 0.0
    while True:
        alive = []
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
                    if handle.read().rsplit(")", 1)[1].split()[0] != "Z":
                        alive.append(pid)
            except OSError:
                pass
        if not alive or waited >= deadline:
            return alive
        time.sleep(0.1)
        waited += 0.1


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_no_parse_worker_outlives_an_index_that_is_killed(tmp_path: Path, how: int) -> None:
    root = tmp_path / "ws"
    _big_workspace(root)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "forge_lsp",
            "index",
            str(root),
            "--jobs",
            "2",
            "--db",
            str(tmp_path / "g.db"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    workers = _children_when_parsing(process)
    process.send_signal(how)
    status = process.wait(timeout=10)
    assert _gone(workers) == []
    if how == signal.SIGTERM:
        assert status == 143
        assert process.stderr is not None
        assert b"terminated; nothing half-written was kept" in process.stderr.read()


def _serve(root: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "forge_lsp", "serve"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        cwd=root,
    )
    assert process.stdin is not None
    for message in (
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "processId": None,
                "rootUri": root.as_uri(),
                "capabilities": {},
                "initializationOptions": {"jobs": 2},
            },
        },
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
    ):
        body = json.dumps(message).encode()
        process.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
    process.stdin.flush()
    return process


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_no_process_outlives_a_server_stopped_mid_index(tmp_path: Path, how: int) -> None:
    root = tmp_path / "ws"
    _big_workspace(root)
    process = _serve(root)
    workers = _children_when_parsing(process)
    started = time.monotonic()
    process.send_signal(how)
    status = process.wait(timeout=10)
    if how == signal.SIGTERM:
        assert status == 0 and time.monotonic() - started < 2.0
    assert _gone(workers) == []


def test_the_watcher_survives_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    from forge_lsp.live.watcher import FileWatcher

    root = tmp_path / "ws"
    root.mkdir()
    seen: list[set[str]] = []
    settings = load_settings(root, db=tmp_path / "graph.db")
    watcher = FileWatcher(root, PathFilter(settings), seen.append, debounce_ms=50)
    watcher.start()
    try:
        assert watcher.wait_running(10)
        with open(os.fsencode(str(root)) + b"/bad\xff.py", "wb") as handle:
            handle.write(b"x = 1\n")
        time.sleep(0.5)
        (root / "good.py").write_text("y = 2\n")
        deadline = time.monotonic() + 10
        while not any((root / "good.py").as_posix() in batch for batch in seen):
            assert time.monotonic() < deadline, f"the watcher missed good.py: {watcher.state}"
            time.sleep(0.05)
        assert watcher.state in ("running", "polling")
    finally:
        watcher.stop()


def test_git_submodules_are_indexed(tmp_path: Path) -> None:
    def git(cwd: Path, *args: str) -> None:
        subprocess.run(
            [
                "git",
                "-c",
                "user.email=t@t",
                "-c",
                "user.name=t",
                "-c",
                "protocol.file.allow=always",
                *args,
            ],
            cwd=cwd,
            check=True,
            capture_output=True,
        )

    library = tmp_path / "library"
    library.mkdir()
    (library / "lib.py").write_text("def from_the_submodule():\n    return 1\n")
    git(library, "init", "-q")
    git(library, "add", "-A")
    git(library, "commit", "-qm", "lib")
    root = tmp_path / "ws"
    root.mkdir()
    (root / "app.py").write_text("def app():\n    return 1\n")
    git(root, "init", "-q")
    git(root, "submodule", "add", "-q", str(library), "vendor/library")
    (root / "notes.py").write_text("def untracked():\n    return 2\n")
    found = discover(load_settings(root, db=tmp_path / "graph.db"))
    assert found.git
    assert sorted(f.rel for f in found.files) == ["app.py", "notes.py", "vendor/library/lib.py"]


def test_a_tree_with_more_directories_than_watches_is_polled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from forge_lsp.live import watcher as watcher_module

    root = tmp_path / "ws"
    for i in range(12):
        (root / f"d{i}").mkdir(parents=True)
    budget = tmp_path / "max_user_watches"
    budget.write_text("16\n")  # half of it, 8, is fewer than the 13 directories
    monkeypatch.setattr(watcher_module, "_MAX_WATCHES", str(budget))
    seen: list[set[str]] = []
    settings = load_settings(root, db=tmp_path / "graph.db")
    watcher = watcher_module.FileWatcher(root, PathFilter(settings), seen.append, debounce_ms=50)
    watcher.start()
    try:
        assert watcher.wait_running(10)
        assert watcher.state == "polling"
        (root / "d3" / "new.py").write_text("x = 1\n")
        deadline = time.monotonic() + 10
        while not any((root / "d3" / "new.py").as_posix() in batch for batch in seen):
            assert time.monotonic() < deadline, "polling missed the new file"
            time.sleep(0.05)
    finally:
        watcher.stop()


def _same_as_cold(root: Path, db: Path, tmp_path: Path) -> list[str]:
    """What differs between the graph at `db`, after one more warm index, and a cold index."""
    index_workspace(load_settings(root, db=db), jobs=1)
    index_workspace(load_settings(root, db=tmp_path / "cold.db"), jobs=1)
    return graph_differences(db, tmp_path / "cold.db")


def _race_workspace(root: Path) -> None:
    for rel, text in {
        "app.py": "from pkg.core import run\nfrom core import run as bare\n\nrun()\nbare()\n",
        "pkg/__init__.py": "",
        "pkg/core.py": "def run():\n    return 1\n",
        "pkg/core_test.py": "from .core import run\n\n\ndef test_run():\n    run()\n",
        "core.py": "def run():\n    return 2\n",
    }.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


@pytest.mark.parametrize("cold", [True, False], ids=["cold", "warm"])
@pytest.mark.parametrize(
    "change",
    ["init vanishes", "module vanishes", "becomes binary", "init renamed"],
)
def test_files_that_change_between_discovery_and_reading_converge(
    tmp_path: Path, cold: bool, change: str
) -> None:
    from forge_lsp.indexing.updater import GraphUpdater

    root = tmp_path / "ws"
    _race_workspace(root)
    db = tmp_path / "graph.db"
    settings = load_settings(root, db=db)
    if not cold:  # the package is new to a graph that holds the rest
        (root / "pkg" / "__init__.py").unlink()
        index_workspace(settings, jobs=1)
        (root / "pkg" / "__init__.py").write_text("")
    found = discover(settings)  # what the index will read ...
    init, module = root / "pkg" / "__init__.py", root / "pkg" / "core.py"
    if change == "init vanishes":  # ... and what happens to the files before it reads them
        init.unlink()
    elif change == "module vanishes":
        module.unlink()
    elif change == "becomes binary":  # a tool that preallocates, then writes
        os.truncate(module, module.stat().st_size + 1)
    else:
        init.rename(root / "pkg" / "__init__.py.bak")
    updater = GraphUpdater.open(settings)
    try:
        updater.sync(found, workers=1)
    finally:
        updater.close()
    assert _same_as_cold(root, db, tmp_path) == []


def test_a_file_written_while_it_is_read_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Cut short between the worker's fstat and its read, then restored with its old mtime
    # (rsync -t, cp -p, tar): size and mtime match what was stored, the content does not.
    root = tmp_path / "ws"
    _race_workspace(root)
    victim = root / "pkg" / "core.py"
    data, before = victim.read_bytes(), victim.stat()
    real_fstat = os.fstat

    def fstat_then_truncate(fd: int) -> os.stat_result:
        found = real_fstat(fd)
        if os.readlink(f"/proc/self/fd/{fd}") == str(victim) and victim.stat().st_size:
            os.truncate(victim, 5)
        return found

    monkeypatch.setattr(os, "fstat", fstat_then_truncate)
    db = tmp_path / "graph.db"
    index_workspace(load_settings(root, db=db), jobs=1)
    monkeypatch.undo()
    victim.write_bytes(data)
    os.utime(victim, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert _same_as_cold(root, db, tmp_path) == []


@pytest.mark.slow  # kills processes at many points: seconds each
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_an_index_killed_at_random_points_converges_to_a_cold_index(tmp_path: Path) -> None:
    import random

    root = tmp_path / "ws"
    _big_workspace(root, files=240)
    db = tmp_path / "warm.db"
    command = [sys.executable, "-m", "forge_lsp", "index", str(root), "--jobs", "2", "--db"]
    chance = random.Random(13)
    for round_ in range(10):
        for path in chance.sample(sorted(root.rglob("*.py")), 5):  # the tree moves on too
            path.write_text(path.read_text() + f"\nROUND_{round_} = {round_}\n")
        process = subprocess.Popen(
            [*command, str(db)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        time.sleep(chance.uniform(0.05, 0.8))
        process.kill()
        process.wait(timeout=10)
    assert _same_as_cold(root, db, tmp_path) == []


@pytest.mark.slow  # kills processes at many points: seconds each
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_server_killed_during_live_batches_converges_to_a_cold_index(tmp_path: Path) -> None:
    import random

    root = tmp_path / "ws"
    _big_workspace(root, files=120)
    chance = random.Random(1313)
    for round_ in range(10):
        session = RawSession(root)
        try:
            session.initialize()
            session.message({"jsonrpc": "2.0", "method": "initialized", "params": {}})
            session.wait_ready()
            files = sorted(root.rglob("*.py"))
            changes = chance.sample(files, 40)  # a storm: bodies, interfaces, deletions
            stop_after = chance.randrange(1, 9)  # waves written before the kill
            for wave in range(stop_after):  # in waves, so that several live batches run
                for path in changes[wave * 5 : wave * 5 + 5]:
                    text = path.read_text()
                    kind = chance.randrange(4)
                    if kind == 0:
                        path.write_text(text + f"\nROUND_{round_} = {round_}\n")
                    elif kind == 1:  # a renamed function: its callers' references move
                        path.write_text(text.replace("_1(x):", f"_1r{round_}(x):", 1))
                    elif kind == 2:
                        path.unlink()
                    else:
                        (path.parent / f"new{round_}_{path.name}").write_text(text)
                time.sleep(chance.uniform(0.02, 0.15))
            time.sleep(chance.uniform(0.0, 0.2))  # somewhere in the live batches
        finally:
            session.process.kill()
            session.process.wait(timeout=10)
    assert _same_as_cold(root, root / ".forge" / "graph.db", tmp_path) == []


def test_a_full_disk_is_one_line_and_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from forge_lsp.graph import store

    root = tmp_path / "ws"
    _big_workspace(root, files=80)
    db = tmp_path / "graph.db"
    assert main(["index", str(root), "--db", str(db), "--jobs", "1"]) == 0
    before = GraphQuery.open(db)
    symbols = before.status()["symbols"]
    before.close()
    for path in sorted(root.rglob("mod*.py"))[:40]:  # enough new content to need new pages
        path.write_text(path.read_text() * 3)
    real = store._pragmas

    def full_disk(conn: object, *, readonly: bool) -> None:
        real(conn, readonly=readonly)  # type: ignore[arg-type]
        if not readonly:  # no page beyond those the file has now: as a full disk would
            pages = conn.execute("PRAGMA page_count").fetchall()[0][0]  # type: ignore[attr-defined]
            conn.execute(f"PRAGMA max_page_count={pages}")  # type: ignore[attr-defined]

    monkeypatch.setattr(store, "_pragmas", full_disk)
    capsys.readouterr()
    assert main(["index", str(root), "--db", str(db), "--jobs", "1"]) == 3  # not writable
    assert (
        capsys.readouterr().err
        == f"forge-lsp: {db}: the disk is full; the update was not written\n"
    )
    monkeypatch.undo()
    after = GraphQuery.open(db)
    try:
        assert after.status()["symbols"] == symbols  # the last good graph, whole
    finally:
        after.close()


def _private_mounts_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(
    not _private_mounts_work() and not os.environ.get("CI"),
    reason="needs `unshare -rm` (user and mount namespaces) to mount a small tmpfs",
)
def test_a_real_full_disk_is_one_line_and_loses_nothing(tmp_path: Path) -> None:
    # A 1 MB tmpfs in a private mount namespace: the first index fits, the second cannot.
    root, mount, out = tmp_path / "ws", tmp_path / "disk", tmp_path / "out"
    _big_workspace(root, files=10)
    mount.mkdir()
    out.mkdir()
    db = mount / "graph.db"
    forge = f"{sys.executable} -m forge_lsp"
    script = f"""
        mount -t tmpfs -o size=1m forge-test {mount} || exit 99
        {forge} index {root} --db {db} --jobs 1 >/dev/null 2>{out}/first.err; echo $? >{out}/first
        {forge} status --db {db} --json >{out}/before.json
        for i in $(seq 10 400); do cp {root}/pkg0/mod0.py {root}/pkg0/copy$i.py; done
        {forge} index {root} --db {db} --jobs 1 >/dev/null 2>{out}/second.err; echo $? >{out}/second
        {forge} status --db {db} --json >{out}/after.json
    """
    done = subprocess.run(["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert (out / "first").read_text() == "0\n", (out / "first.err").read_text()
    assert (out / "second").read_text() == "3\n"  # the index could not be written
    assert (out / "second.err").read_text() == (
        f"forge-lsp: {db}: the disk is full; the update was not written\n"
    )
    before, after = (json.loads((out / f"{n}.json").read_text()) for n in ("before", "after"))
    assert (after["files"], after["symbols"]) == (before["files"], before["symbols"]) == (10, 610)


def _as_a_plain_user(command: list[str]) -> list[str]:
    """`command` without the privilege that lets root write any file (CI runs as root)."""
    if os.geteuid() != 0:
        return command
    assert shutil.which("setpriv"), "setpriv (util-linux) is needed to drop root's file privileges"
    return ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner", *command]


def test_a_read_only_database_is_one_line_to_write_and_still_answers(tmp_path: Path) -> None:
    root, shelf = tmp_path / "ws", tmp_path / "shelf"
    root.mkdir()
    (root / "a.py").write_text("def f():\n    return 1\n\nf()\n")
    db = shelf / "graph.db"
    forge = [sys.executable, "-m", "forge_lsp"]
    subprocess.run([*forge, "index", str(root), "--db", str(db)], check=True, capture_output=True)
    db.chmod(0o444)
    shelf.chmod(0o555)  # a read-only copy: a CI artifact, a shared index
    try:
        runs = {
            name: subprocess.run(_as_a_plain_user([*forge, *args]), capture_output=True, text=True)
            for name, args in {
                "index": ["index", str(root), "--db", str(db)],
                "new": ["index", str(root), "--db", str(shelf / "new.db")],
                "refs": ["refs", "--db", str(db), f"{root}/a.py:1:5", "--json"],
            }.items()
        }
    finally:
        shelf.chmod(0o755)
    assert (runs["index"].returncode, runs["index"].stderr) == (
        3,
        f"forge-lsp: {db} is read-only\n",
    )
    assert (runs["new"].returncode, runs["new"].stderr) == (
        3,
        f"forge-lsp: {shelf} is read-only: the database needs it for its journal\n",
    )
    assert runs["refs"].returncode == 0, runs["refs"].stderr
    found = json.loads(runs["refs"].stdout)["locations"]
    assert [(at["line"], at["column"]) for at in found] == [(1, 5), (4, 1)]


def test_follow_symlinks_off_skips_every_link(tmp_path: Path) -> None:
    root = _workspace(tmp_path, git=False)
    (root / "package").mkdir()
    (root / "package" / "real.py").write_text("def real():\n    return 1\n")
    os.symlink(root / "package", root / "alias")  # inside: followed by default
    (root / "pyproject.toml").write_text("[tool.forge-lsp]\nfollow-symlinks = false\n")
    found = discover(load_settings(root, db=tmp_path / "graph.db"))
    assert sorted(f.rel for f in found.files) == ["app.py", "package/real.py"]
    assert sorted(found.skipped) == [
        ("alias", "symbolic link (follow-symlinks is off)"),
        ("inside.py", "symbolic link (follow-symlinks is off)"),
        ("linked_dir", "symbolic link to outside the workspace"),
        ("linked_file.py", "symbolic link (follow-symlinks is off)"),
    ]
    (root / "pyproject.toml").write_text("[tool.forge-lsp]\nfollow-symlinks = 'yes'\n")
    settings = load_settings(root, db=tmp_path / "graph.db")
    assert settings.follow_symlinks is True
    assert settings.problems == ("follow-symlinks must be true or false; using the default",)
    assert "alias/real.py" in {f.rel for f in discover(settings).files}


def test_a_read_only_index_answers_only_for_files_that_did_not_change(tmp_path: Path) -> None:
    """It cannot be refreshed: a changed file's positions would get the old symbols."""
    root, shelf = tmp_path / "ws", tmp_path / "shelf"
    root.mkdir()
    (root / "a.py").write_text("def f():\n    return 1\n\nf()\n")
    (root / "b.py").write_text("def g():\n    return 2\n")
    db = shelf / "graph.db"
    forge = [sys.executable, "-m", "forge_lsp"]
    subprocess.run([*forge, "index", str(root), "--db", str(db)], check=True, capture_output=True)
    (root / "a.py").write_text("\n\ndef f():\n    return 1\n\nf()\n")
    db.chmod(0o444)
    shelf.chmod(0o555)
    try:
        runs = {
            name: subprocess.run(_as_a_plain_user([*forge, *args]), capture_output=True, text=True)
            for name, args in {
                "changed": ["refs", "--db", str(db), f"{root}/a.py:3:5"],
                "unchanged": ["refs", "--db", str(db), f"{root}/b.py:1:5"],
                "as_it_is": ["refs", "--db", str(db), f"{root}/a.py:1:5", "--no-refresh"],
            }.items()
        }
    finally:
        shelf.chmod(0o755)
    changed = runs["changed"]
    assert changed.returncode == 3 and changed.stdout == ""
    assert changed.stderr.startswith(f"forge-lsp: {root}/a.py changed since it was indexed")
    assert changed.stderr.endswith("pass --no-refresh to answer from it as it is\n")
    assert runs["unchanged"].returncode == 0
    assert runs["unchanged"].stdout.startswith(f"{root}/b.py:1:5")
    assert runs["as_it_is"].returncode == 0  # the old graph, as asked
    assert runs["as_it_is"].stdout.splitlines() == [
        f"{root}/a.py:1:5: definition",
        f"{root}/a.py:4:1: call",
    ]


_POOL_TWICE = """
import os, sys
from pathlib import Path
from forge_lsp.indexing.worker import Job, JobPool
from forge_lsp.server.live import descendants

jobs = [Job(str(p), p.stat().st_size) for p in sorted(Path(sys.argv[1]).rglob("*.py"))]
for _ in range(2):
    with JobPool(2) as pool:
        results = list(pool.run(jobs))
        print(len(results), sum(r.facts is not None for r in results), len(descendants(os.getpid())) >= 3)
    print(descendants(os.getpid()))
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_a_closed_pool_leaves_no_process_and_the_next_one_starts_again(tmp_path: Path) -> None:
    # workers, the forkserver and the resource tracker all go with the last pool: a cold index
    # reaches its peak after the workers are done, and the helpers were 26 MB of it
    root = tmp_path / "ws"
    _big_workspace(root, files=100)
    run = subprocess.run(
        [sys.executable, "-c", _POOL_TWICE, str(root)], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["100 100 True", "[]"] * 2
    assert "leaked" not in run.stderr
