"""Opening the graph database: WAL, schema migrations, and rebuilding what cannot be trusted.

One writer connection per process does every write inside a transaction; readers open their own
connections (see graph.queries) and, in WAL mode, never wait for the writer.
"""

from __future__ import annotations

import logging
import os
from contextlib import suppress
from pathlib import Path
from urllib.parse import quote

import apsw

from forge_lsp.graph.schema import INDEX_NAMES, INDEXES, MIGRATIONS, SCHEMA_VERSION, TABLES

log = logging.getLogger(__name__)

APPLICATION_ID = 0x46524745  # "FRGE": tells our database from any other SQLite file


class StoreError(Exception):
    """A database that cannot be opened or created at all (e.g. a read-only directory)."""


# SQLite's page cache, per connection. The OS keeps the file's pages cached anyway: 64 MB
# instead of 16 bought a cold index of 10,000 files no time (16.2-16.7 s either way) and cost
# it 53 MB, and a live server 48 MB.
CACHE_KIB = 16384
SORT_CACHE_KIB = 2048  # building the bulk indexes (create_bulk_indexes)
_READER_MMAP_BYTES = 64 << 20


def _pragmas(conn: apsw.Connection, *, readonly: bool) -> None:
    # One statement at a time: apsw stops a multi-statement execute at the first row-returning one.
    conn.setbusytimeout(5000)
    if not readonly:
        conn.execute("PRAGMA journal_mode=WAL").fetchall()
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # checkpoints happen when idle, not mid-burst
    conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
    conn.execute("PRAGMA temp_store=MEMORY")
    # Readers map the first 64 MB of the file: queries read those pages without copying them.
    # Every mapped page a server touches counts in its RSS; 256 MB mapped cost it up to 118 MB
    # at 100,000 files and bought no query time (references and impact p95 equal, same run).
    # The writer maps nothing: every page a cold index reads back would count against it.
    conn.execute(f"PRAGMA mmap_size={_READER_MMAP_BYTES if readonly else 0}")


def remove_database(path: Path) -> None:
    """Delete a graph database and its WAL side files."""
    for suffix in ("", "-wal", "-shm"):
        with suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


_FULL_CHECK_BYTES = 8 << 20


def _pages(conn: apsw.Connection) -> tuple[int, int]:
    """(page count, page size) of the open database, write-ahead log included."""
    pages, size = (
        conn.execute(f"PRAGMA {p}").fetchall()[0][0] for p in ("page_count", "page_size")
    )
    return pages, size


def _checked_tables(conn: apsw.Connection) -> list[str]:
    """What to integrity-check on open: everything while that is cheap (up to 8 MB, a few
    hundred files: 15 ms); above that, the small tables every start reads. A whole check costs
    about 0.1 s per 40 MB, as much as everything else a no-op re-index of those files does,
    and a restart on a 100,000-file graph (1 GB) would miss its bar. Damage elsewhere still
    surfaces as `CorruptError` on the query that meets it."""
    pages, size = _pages(conn)
    if pages * size <= _FULL_CHECK_BYTES:
        return ["1"]
    return ["meta", "files", "names", "modules"]


def _truncation(conn: apsw.Connection, path: Path) -> str | None:
    """Why the file is shorter than its pages, if it is. SQLite reads a missing tail as empty
    pages and quick_check passes them, so a cut-off copy would lose rows silently. Pages that
    are only in the write-ahead log are not in the file yet: then only whole pages are checked."""
    pages, size = _pages(conn)
    try:
        length = path.stat().st_size
        wal = os.stat(f"{path}-wal").st_size if os.path.exists(f"{path}-wal") else 0
    except OSError:
        return None
    if length % size or (wal == 0 and length < pages * size):
        return f"it is truncated ({length} bytes for {pages} pages of {size})"
    return None


class ForeignDatabase(StoreError):
    """A file at the database path that is not ours: never replaced."""


def _check(conn: apsw.Connection, path: Path) -> str | None:
    """Why this database cannot be used as it is, or None if it can (after migration).
    Raises ForeignDatabase for a file that is not ours: only ours, or an empty file, is ever
    rebuilt (a garbage file inside our own `.forge` directory counts as ours)."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchall()[0][0]
        version = conn.execute("PRAGMA user_version").fetchall()[0][0]
        tables = conn.execute("SELECT count(*) FROM sqlite_schema").fetchall()[0][0]
        if tables == 0 and app_id == 0:
            return None  # a new, empty file
        if app_id != APPLICATION_ID:
            raise ForeignDatabase(
                f"{path} is a SQLite database of another program: not replacing it"
                " (remove it, or choose another --db)"
            )
        if (
            version > SCHEMA_VERSION
            or version < 1
            or (version < SCHEMA_VERSION and version + 1 not in MIGRATIONS)
        ):
            return f"schema version {version} is not supported (this build writes {SCHEMA_VERSION})"
        truncated = _truncation(conn, path)
        if truncated is not None:
            return truncated
        for table in _checked_tables(conn):
            result = conn.execute(f"PRAGMA quick_check({table})").fetchall()[0][0]
            if result != "ok":
                return f"integrity check failed: {result}"
    except (apsw.NotADBError, apsw.CorruptError) as exc:
        if path.parent.name != ".forge":
            raise ForeignDatabase(
                f"{path} is not a forge-lsp database ({exc}): not replacing it"
                " (remove it, or choose another --db)"
            ) from None
        return f"it is corrupt ({exc})"
    return None


def _migrate(conn: apsw.Connection) -> None:
    version = conn.execute("PRAGMA user_version").fetchall()[0][0]
    tables = conn.execute("SELECT count(*) FROM sqlite_schema").fetchall()[0][0]
    with conn:
        if tables == 0:
            conn.execute(TABLES)
            conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        else:
            while version < SCHEMA_VERSION:
                version += 1
                log.info("migrating graph database to schema version %d", version)
                conn.execute(MIGRATIONS[version])
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")


def _writable(path: Path) -> None:
    """A clear error, naming the path, for a database the writer cannot have."""
    if path.is_dir():
        raise StoreError(f"{path} is a directory, not a database file")
    if path.parent.exists() and not path.parent.is_dir():
        raise StoreError(f"{path.parent} is not a directory")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.parent.name == ".forge":
            ignore = path.parent / ".gitignore"
            if not ignore.exists():
                ignore.write_text("*\n")
    except OSError as exc:
        raise StoreError(f"cannot create {path.parent}: {exc.strerror or exc}") from None
    if path.exists() and not os.access(path, os.W_OK):
        raise StoreError(f"{path} is read-only")
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreError(f"{path.parent} is read-only: the database needs it for its journal")


def open_writer(path: Path) -> apsw.Connection:
    """Open (creating, migrating or rebuilding as needed) the database for writing."""
    _writable(path)
    for attempt in range(2):
        try:
            conn = apsw.Connection(str(path))
        except apsw.CantOpenError as exc:
            raise StoreError(f"cannot open database {path}: {exc}") from exc
        # before the checks read it: a process that died mid-write leaves the log for the
        # next opener to recover, and another connection may hold the lock for a moment
        conn.setbusytimeout(5000)
        try:
            problem = _check(conn, path)
        except ForeignDatabase:
            conn.close()
            raise
        if problem is None:
            try:
                _pragmas(conn, readonly=False)
                _migrate(conn)
                return conn
            except (apsw.ReadOnlyError, apsw.CantOpenError, apsw.IOError) as exc:
                conn.close()
                raise StoreError(f"cannot write database {path}: {exc}") from exc
            except apsw.FullError as exc:
                conn.close()
                raise StoreError(f"cannot write database {path}: the disk is full") from exc
            except (apsw.NotADBError, apsw.CorruptError, apsw.SQLError) as exc:
                problem = f"it could not be prepared ({exc})"
        conn.close()
        if attempt:
            break
        log.warning("forge-lsp: rebuilding database %s: %s", path, problem)
        remove_database(path)
    raise StoreError(f"cannot create a usable database at {path}")


def _open_read_only(name: str, flags: int) -> apsw.Connection:
    conn = apsw.Connection(name, flags=flags)
    try:
        _pragmas(conn, readonly=True)
    except apsw.Error:
        conn.close()
        raise
    return conn


def open_reader(path: Path, *, any_version: bool = False) -> apsw.Connection:
    """A read-only connection; raises StoreError when there is no usable index at `path`.
    With `any_version`, a graph of an older or newer schema is opened too: its `meta` table says
    where it was indexed from, which is all a writer needs to migrate or rebuild it."""
    if not path.exists():
        raise StoreError(f"no index at {path}: run `forge-lsp index` first")
    try:
        try:
            conn = _open_read_only(str(path), flags=apsw.SQLITE_OPEN_READONLY)
        except apsw.ReadOnlyError:
            # A WAL database needs its -shm file, which a read-only directory or a read-only
            # copy (a CI artifact, a shared index) cannot give; nothing writes such a copy, so
            # it is read as immutable.
            uri = f"file:{quote(path.as_posix())}?immutable=1"
            conn = _open_read_only(uri, flags=apsw.SQLITE_OPEN_READONLY | apsw.SQLITE_OPEN_URI)
        version = conn.execute("PRAGMA user_version").fetchall()[0][0]
        app_id = conn.execute("PRAGMA application_id").fetchall()[0][0]
    except (apsw.NotADBError, apsw.CorruptError, apsw.CantOpenError, apsw.ReadOnlyError) as exc:
        raise StoreError(
            f"the index at {path} is unreadable ({exc}): run `forge-lsp index`"
        ) from exc
    if app_id != APPLICATION_ID or (version != SCHEMA_VERSION and not any_version):
        conn.close()
        raise StoreError(f"the index at {path} is from another version: run `forge-lsp index`")
    return conn


def drop_bulk_indexes(conn: apsw.Connection) -> None:
    for name in INDEX_NAMES:
        conn.execute(f"DROP INDEX IF EXISTS {name}")


TOTALS = ("symbols", "references", "resolved")  # meta keys: graph totals as last counted


def graph_totals(conn: apsw.Connection) -> tuple[int, int, int]:
    """(symbols, references, resolved references). The totals the last index run stored while
    no update has deleted them (GraphWriter.forget_counts): exact, where counting ten million
    references takes a third of a second; counted otherwise."""
    stored = stored_totals(conn)
    return stored if stored is not None else count_totals(conn)


def stored_totals(conn: apsw.Connection) -> tuple[int, int, int] | None:
    """(symbols, references, resolved references) as stored, or None where they are not."""
    keys = ", ".join(f"'{k}'" for k in TOTALS)
    stored = dict(conn.execute(f"SELECT key, value FROM meta WHERE key IN ({keys})"))
    if len(stored) != len(TOTALS):
        return None
    symbols, refs, resolved = (int(stored[k]) for k in TOTALS)
    return symbols, refs, resolved


def count_totals(conn: apsw.Connection) -> tuple[int, int, int]:
    symbols = conn.execute("SELECT count(*) FROM symbols").fetchall()[0][0]
    refs, resolved = conn.execute("SELECT count(*), count(target_id) FROM refs").fetchall()[0]
    return symbols, refs, resolved


def create_bulk_indexes(conn: apsw.Connection) -> None:
    # Building an index is a sort; SQLite's sorter may use a helper thread per core for it.
    conn.execute(f"PRAGMA threads={min(4, os.cpu_count() or 1)}")
    # The sorts spill to temporary files rather than memory: on 100,000 files they would hold
    # hundreds of megabytes at once. Each sorter's runs are as large as the page cache: with
    # 64 MB the index phase of 100,000 files held 240 MB and took 12.1 s; with 8 MB, 25 MB
    # and 9.2-9.3 s; with 2 MB, 2 MB and 8.9-9.8 s (bigger runs buy nothing, the merge of
    # small ones is cheap). This phase is a cold index's peak: what it holds is on top.
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute(f"PRAGMA cache_size=-{SORT_CACHE_KIB}")
    try:
        conn.execute(INDEXES)
    finally:
        conn.execute("PRAGMA threads=0")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")


def wal_bytes(db_path: Path) -> int:
    """The size of the database's write-ahead log (0 when there is none)."""
    with suppress(OSError):
        return os.stat(f"{db_path}-wal").st_size
    return 0


def checkpoint(conn: apsw.Connection, *, passive: bool = False) -> None:
    """Fold the WAL back into the database; done when idle so that queries never pay for it.
    `passive`: as far as readers allow, without waiting, and the file is not truncated (between
    the batches of a long run of commits, which would otherwise grow the WAL without bound)."""
    with suppress(apsw.BusyError):
        conn.execute(f"PRAGMA wal_checkpoint({'PASSIVE' if passive else 'TRUNCATE'})").fetchall()
