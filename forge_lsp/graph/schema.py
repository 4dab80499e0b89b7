"""The graph's schema and its forward migrations.

The schema version lives in `PRAGMA user_version`. A database from an older version is migrated
forward on open; one from a newer or unknown version is not trusted and gets rebuilt.
Bulk indexes are separate from the tables so that a cold load can insert first and index after.
"""

from __future__ import annotations

SCHEMA_VERSION = 10

# Import statements, their texts as name ids (module texts alone were a tenth of the rows'
# bytes); the writer writes `import_rows`, everything else reads the `imports` view, which spells
# them out.
_IMPORT_ROWS = """
CREATE TABLE IF NOT EXISTS import_rows(
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    line INTEGER NOT NULL,
    module_id INTEGER NOT NULL,
    name_id INTEGER,
    alias_id INTEGER,
    level INTEGER NOT NULL,
    module_level INTEGER NOT NULL,
    target_file_id INTEGER
) STRICT;
CREATE VIEW IF NOT EXISTS imports AS
    SELECT i.id, i.file_id, i.line, m.text AS module, n.text AS name, a.text AS alias, i.level,
        i.module_level, i.target_file_id
    FROM import_rows i JOIN names m ON m.id = i.module_id
    LEFT JOIN names n ON n.id = i.name_id LEFT JOIN names a ON a.id = i.alias_id;
"""

# What `forge/status` counts at every ask, a few rows each: without them it scanned every file
# twice (0.2 s at 100,000 files), and editors ask while an index runs. Not bulk indexes: a cold
# index adds entries only for files that fail to parse or lose something.
_STATUS_INDEXES = """
CREATE INDEX IF NOT EXISTS files_noted ON files(path) WHERE note IS NOT NULL;
CREATE INDEX IF NOT EXISTS files_unparsed ON files(id) WHERE parse_ok = 0;
"""

TABLES = (
    _IMPORT_ROWS
    + """
CREATE TABLE IF NOT EXISTS meta(
    key TEXT PRIMARY KEY,
    value ANY
) STRICT;
CREATE TABLE IF NOT EXISTS files(
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL UNIQUE,
    language TEXT NOT NULL,
    content_hash BLOB NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    interface_hash BLOB NOT NULL,
    parse_ok INTEGER NOT NULL,
    is_ascii INTEGER NOT NULL,
    is_test INTEGER NOT NULL,
    exports TEXT,  -- `__all__` as a JSON list; NULL when the file has none
    note TEXT  -- what a limit or a fault cost this file (replaced bytes, code nested too deep)
) STRICT;
"""
    + _STATUS_INDEXES
    + """
CREATE TABLE IF NOT EXISTS modules(
    name TEXT NOT NULL,
    file_id INTEGER NOT NULL,
    rank INTEGER,  -- 0: the name the file is shown by (from its package root); NULL before v8
    PRIMARY KEY(name, file_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS names(
    id INTEGER PRIMARY KEY,
    text TEXT NOT NULL UNIQUE
) STRICT;
CREATE TABLE IF NOT EXISTS symbols(
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    name_id INTEGER NOT NULL,
    qualname TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id INTEGER,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    end_line INTEGER NOT NULL,
    end_col INTEGER NOT NULL,
    sel_line INTEGER NOT NULL,
    sel_col INTEGER NOT NULL,
    sel_end_col INTEGER NOT NULL,
    signature TEXT NOT NULL,
    type_id INTEGER  -- names.id of the symbol's type expression (SymbolFact.type); NULL: none
) STRICT;
CREATE TABLE IF NOT EXISTS refs(
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL,
    line INTEGER NOT NULL,
    col INTEGER NOT NULL,
    end_col INTEGER NOT NULL,
    name_id INTEGER NOT NULL,
    role INTEGER NOT NULL,
    scope_id INTEGER NOT NULL,
    target_id INTEGER,
    receiver_id INTEGER
) STRICT;
CREATE TABLE IF NOT EXISTS skipped(
    path TEXT PRIMARY KEY,
    reason TEXT NOT NULL
) STRICT;
CREATE TABLE IF NOT EXISTS file_deps(
    file_id INTEGER NOT NULL,
    dep_id INTEGER NOT NULL,
    names BLOB,
    PRIMARY KEY(file_id, dep_id)
) STRICT, WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS module_deps(
    file_id INTEGER NOT NULL,
    name_id INTEGER NOT NULL,
    names BLOB,
    PRIMARY KEY(file_id, name_id)
) STRICT, WITHOUT ROWID;
"""
)

INDEXES = """
CREATE INDEX IF NOT EXISTS refs_target ON refs(target_id) WHERE target_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS refs_position ON refs(file_id, line, col);
CREATE INDEX IF NOT EXISTS refs_unresolved ON refs(name_id) WHERE target_id IS NULL;
CREATE INDEX IF NOT EXISTS symbols_position ON symbols(file_id, sel_line);
CREATE INDEX IF NOT EXISTS symbols_name ON symbols(name_id);
CREATE INDEX IF NOT EXISTS symbols_parent ON symbols(parent_id);
CREATE INDEX IF NOT EXISTS modules_file ON modules(file_id);
CREATE INDEX IF NOT EXISTS imports_file ON import_rows(file_id);
CREATE INDEX IF NOT EXISTS imports_target ON import_rows(target_file_id);
CREATE INDEX IF NOT EXISTS file_deps_dep ON file_deps(dep_id);
CREATE INDEX IF NOT EXISTS module_deps_name ON module_deps(name_id);
"""

INDEX_NAMES = (
    "refs_target",
    "refs_position",
    "refs_unresolved",
    "symbols_position",
    "symbols_name",
    "symbols_parent",
    "modules_file",
    "imports_file",
    "imports_target",
    "file_deps_dep",
    "module_deps_name",
)

# What a migration that cannot fill in what older versions never recorded deletes, so that the
# next index is a cold one (file_deps and module_deps exist from v3 on; deleting from them
# before is harmless once v3 created them). For migrations before v9, which made `imports` a view.
_DROP_CONTENT = "".join(
    f"DELETE FROM {table};\n"
    for table in ("files", "modules", "names", "symbols", "refs", "imports", "skipped")
)

# version -> statements that bring a database at `version - 1` to `version`.
MIGRATIONS: dict[int, str] = {
    # v1 had no `skipped` table and kept no per-file `exports`.
    2: """
    CREATE TABLE IF NOT EXISTS skipped(path TEXT PRIMARY KEY, reason TEXT NOT NULL) STRICT;
    ALTER TABLE files ADD COLUMN exports TEXT;
    """,
    # v3 records what each file's resolution consulted (file_deps, module_deps), and stores
    # `__all__` as JSON (v2 read an empty `__all__` back as none). Older graphs have no such
    # record, and propagation cannot be trusted without it: their content is dropped.
    3: """
    CREATE TABLE IF NOT EXISTS file_deps(
        file_id INTEGER NOT NULL, dep_id INTEGER NOT NULL, PRIMARY KEY(file_id, dep_id)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS module_deps(
        file_id INTEGER NOT NULL, name_id INTEGER NOT NULL, PRIMARY KEY(file_id, name_id)
    ) STRICT, WITHOUT ROWID;
    """
    + _DROP_CONTENT,
    # v4 stores each symbol's declared or inferred type, and references in string
    # annotations, `__all__` and overloads: older graphs lack them, so their content is dropped.
    4: "ALTER TABLE symbols ADD COLUMN type_id INTEGER;\n"
    + _DROP_CONTENT
    + "DELETE FROM file_deps;\nDELETE FROM module_deps;\n",
    # v5: `usefixtures` strings are references to fixtures; autouse fixtures are marked; a
    # test's fixture parameters hold what the fixture gives (`&db`). Older facts lack them: re-extract.
    5: _DROP_CONTENT + "DELETE FROM file_deps;\nDELETE FROM module_deps;\n",
    # v6 keeps, per file, what a limit or a fault cost it (`note`); older rows have none.
    6: "ALTER TABLE files ADD COLUMN note TEXT;\n",
    # v7 lists, per dependency, the names of the references that read it (graph/consulted.py);
    # older rows get NULL, "every reference", which stays true: nothing is dropped.
    7: "ALTER TABLE file_deps ADD COLUMN names BLOB;\n"
    "ALTER TABLE module_deps ADD COLUMN names BLOB;\n",
    # v8 ranks a file's module names so that a module is shown by one (`httpx._client`, not
    # `src.httpx._client`); older rows get NULL until the next writer ranks them (`modules_unranked`,
    # GraphWriter.rank_modules).
    8: "ALTER TABLE modules ADD COLUMN rank INTEGER;\n"
    "INSERT OR REPLACE INTO meta(key, value) VALUES ('modules_unranked', 1);\n",
    # v9 stores the texts of import statements as name ids (`import_rows`, read through the
    # `imports` view): the rows are moved over, nothing is re-extracted.
    9: "ALTER TABLE imports RENAME TO imports_v8;\n"
    + _IMPORT_ROWS
    + """
    INSERT OR IGNORE INTO names(text) SELECT module FROM imports_v8
        UNION SELECT name FROM imports_v8 WHERE name IS NOT NULL
        UNION SELECT alias FROM imports_v8 WHERE alias IS NOT NULL;
    INSERT INTO import_rows SELECT i.id, i.file_id, i.line, m.id, n.id, a.id, i.level,
        i.module_level, i.target_file_id
        FROM imports_v8 i JOIN names m ON m.text = i.module
        LEFT JOIN names n ON n.text = i.name LEFT JOIN names a ON a.text = i.alias;
    DROP TABLE imports_v8;
    CREATE INDEX IF NOT EXISTS imports_file ON import_rows(file_id);
    CREATE INDEX IF NOT EXISTS imports_target ON import_rows(target_file_id);
    """,
    # v10 indexes what forge/status counts (_STATUS_INDEXES).
    10: _STATUS_INDEXES,
}

ROLE_CODES = {
    "call": 0,
    "read": 1,
    "write": 2,
    "import": 3,
    "inherit": 4,
    "decorate": 5,
    "attribute": 6,
    "export": 7,
}
ROLE_NAMES = {code: name for name, code in ROLE_CODES.items()}
