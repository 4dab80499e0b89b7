"""The names a symbol's references can be spelled with: what a question about its uses must
read every file holding, and nothing else (a first index answers such a question early by
indexing only those files and what their resolution consults)."""

from __future__ import annotations

import json
from collections.abc import Iterable

import apsw

from forge_lsp.graph.model import Symbol


def spellings(conn: apsw.Connection, symbol: Symbol, classes: Iterable[int]) -> set[str]:
    """In the graph as it stands: the symbol's name and those of the `classes` whose `C(...)`
    is a use of it (a constructor's), the names its references already carry, and every alias
    an import gives one of them (`from m import X as Y`, `import a.X as Y`), to a fixed point:
    an alias of an alias counts too. Asked again as the graph grows, the set only grows."""
    ids = json.dumps([symbol.id, *classes])
    names = {symbol.name}
    names.update(
        text
        for (text,) in conn.execute(
            "SELECT n.text FROM symbols s JOIN names n ON n.id = s.name_id"
            " WHERE s.id IN (SELECT value FROM json_each(?1))"
            " UNION SELECT n.text FROM refs r JOIN names n ON n.id = r.name_id"
            " WHERE r.target_id IN (SELECT value FROM json_each(?1))",
            (ids,),
        )
    )
    aliases = conn.execute(
        # the aliased few of import_rows, by id, before their texts (the imports view would
        # spell out every row's module first)
        "SELECT DISTINCT m.text, n.text, a.text FROM import_rows i"
        " JOIN names a ON a.id = i.alias_id JOIN names m ON m.id = i.module_id"
        " LEFT JOIN names n ON n.id = i.name_id WHERE i.alias_id IS NOT NULL"
    ).fetchall()
    while True:
        more = {
            alias
            for module, name, alias in aliases
            if alias not in names and (name or module.rsplit(".", 1)[-1]) in names
        }
        if not more:
            return names
        names |= more
