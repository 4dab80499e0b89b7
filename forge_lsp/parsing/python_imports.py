"""Python imports: every import statement becomes an ImportFact, the names it binds go into
their scope, and each dotted part and imported name becomes a reference (role import) whose
receiver says which module it is looked up in.

Part of the extraction in parsing/python.py (runs with its state).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tree_sitter import Node

from forge_lsp.parsing.facts import ImportFact
from forge_lsp.parsing.python_syntax import IMPORTED, Scope, identifiers_in, split_alias

if TYPE_CHECKING:
    from forge_lsp.parsing.python import _FileExtraction


def collect_imports(x: _FileExtraction, nodes: list[Node]) -> None:
    for node in nodes:
        scope = x.scope_at(node.start_byte)
        module_level = scope is x.module
        line = node.start_point[0]
        if node.type == "import_statement":
            for child in node.named_children:
                dotted, alias = split_alias(child)
                if dotted is None:
                    continue
                parts = [x.text(p) for p in dotted.named_children]
                module = ".".join(parts)
                alias_name = x.text(alias) if alias is not None else None
                _module_path_refs(x, dotted, 0, "")
                x.facts.imports.append(ImportFact(module, None, alias_name, 0, line, module_level))
                if alias is not None:
                    x.skip.add(alias.start_byte)
                    bound = (IMPORTED, "<0|" + ".".join(parts[:-1]) + ">", parts[-1])
                    _bind_import(x, scope, alias_name or parts[-1], bound)
                else:
                    _bind_import(x, scope, parts[0], (IMPORTED, "<0|>", parts[0]))
            continue
        level, module = 0, ""
        module_node = node.child_by_field_name("module_name")
        if module_node is not None:
            if module_node.type == "relative_import":
                for c in module_node.named_children:
                    if c.type == "import_prefix":
                        level = c.end_byte - c.start_byte
                    elif c.type == "dotted_name":
                        module = x.text(c)
                        _module_path_refs(x, c, level, "")
            else:
                module = x.text(module_node)
                _module_path_refs(x, module_node, 0, "")
        receiver = f"<{level}|{module}>"
        for child in node.named_children:
            if child.type == "wildcard_import":
                x.has_star_import = True
                x.facts.imports.append(ImportFact(module, "*", None, level, line, module_level))
                continue
            if child == module_node:
                continue
            dotted, alias = split_alias(child)
            if dotted is None:
                continue
            name = x.text(dotted)
            alias_name = x.text(alias) if alias is not None else None
            for ident in identifiers_in(dotted):
                x.import_refs.append((ident, name, receiver))
                x.skip.add(ident.start_byte)
            if alias is not None:
                x.skip.add(alias.start_byte)
                if alias_name == name:  # `from .m import x as x`: an explicit re-export
                    x.import_refs.append((alias, name, receiver))
            x.facts.imports.append(ImportFact(module, name, alias_name, level, line, module_level))
            _bind_import(x, scope, alias_name or name, (IMPORTED, receiver, name))


def _module_path_refs(x: _FileExtraction, dotted: Node, level: int, prefix: str) -> None:
    parts = prefix
    for ident in dotted.named_children:
        name = x.text(ident)
        x.import_refs.append((ident, name, f"<{level}|{parts}>"))
        x.skip.add(ident.start_byte)
        parts = f"{parts}.{name}" if parts else name


def _bind_import(x: _FileExtraction, scope: Scope, name: str, binding: tuple[Any, ...]) -> None:
    if scope is x.module:
        scope.bindings.setdefault(name, binding)
    elif scope.kind != "class":
        scope.bindings[name] = binding


# ----- decorators and bases --------------------------------------------------------------
