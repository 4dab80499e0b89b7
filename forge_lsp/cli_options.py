"""The grammar of the `forge-lsp` command line: every command, flag and default, in one place.

Kept apart from `cli.py`, which runs the commands, so that what a user can type is read in one
screenful and help texts stay next to the flags they describe.
"""

from __future__ import annotations

import argparse

from forge_lsp import __version__
from forge_lsp.config import DB_ENV
from forge_lsp.graph.impact import DEFAULT_MAX_NODES


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forge-lsp", description="Index a workspace, ask its code graph, serve editors."
    )
    parser.add_argument("--version", action="version", version=f"forge-lsp {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def query_command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument(
            "--db", help=f"graph database (default: ${DB_ENV}, else the nearest .forge/graph.db)"
        )
        cmd.add_argument("--json", action="store_true", help="machine-readable output")
        return cmd

    index = sub.add_parser("index", help="build or update the graph of a workspace")
    index.add_argument("root", nargs="?", default=".", help="workspace root (default: .)")
    index.add_argument(
        "--db", help=f"graph database (default: ${DB_ENV}, else ROOT/.forge/graph.db)"
    )
    index.add_argument("--jobs", "-j", type=int, help="worker processes (default: CPU count)")
    index.add_argument("--json", action="store_true", help="print the summary as JSON")
    index.add_argument(
        "--force", action="store_true", help="index even `/`, the home or a system directory"
    )

    refs = query_command("refs", "references of the symbol at each position")
    refs.add_argument("positions", nargs="+", metavar="FILE:LINE:COL")
    refs.add_argument(
        "--probable", action="store_true", help="add uses on receivers of unknown type"
    )
    refs.add_argument(
        "--no-declaration", action="store_true", help="leave out the definition itself"
    )

    defn = query_command("definition", "where the symbol at a position is defined")
    defn.add_argument("position", metavar="FILE:LINE:COL")
    defn.add_argument("--probable", action="store_true")

    calls = query_command("calls", "callers or callees of the function at a position")
    calls.add_argument("position", metavar="FILE:LINE:COL")
    direction = calls.add_mutually_exclusive_group(required=True)
    direction.add_argument("--incoming", action="store_true")
    direction.add_argument("--outgoing", action="store_true")
    calls.add_argument("--probable", action="store_true")

    imp = query_command("impact", "everything that transitively depends on symbols or files")
    imp.add_argument("targets", nargs="+", metavar="FILE[:LINE[:COL]]")
    imp.add_argument("--depth", type=int, help="stop after N levels (default: a fixed point)")
    imp.add_argument(
        "--max-nodes", type=int, default=DEFAULT_MAX_NODES, help="stop after N dependents"
    )
    imp.add_argument("--probable", action="store_true")
    imp.add_argument("--format", choices=("text", "json", "mermaid", "dot"), default="text")

    aff = sub.add_parser("affected", help="the tests a change can break (for CI)")
    aff.add_argument("--since", metavar="REV", help="compare the work tree with REV (default HEAD)")
    aff.add_argument(
        "--diff", metavar="FILE", help="read the change as a unified diff (- for stdin)"
    )
    aff.add_argument("--format", choices=("text", "json", "pytest", "github"), default="text")
    aff.add_argument(
        "--db", help=f"graph database (default: ${DB_ENV}, else the nearest .forge/graph.db)"
    )
    aff.add_argument(
        "--probable",
        action="store_true",
        help="also follow uses of rarely defined names on receivers of unknown type",
    )

    sym = query_command("symbols", "search symbols by name (exact, prefix, then fuzzy)")
    sym.add_argument("query")
    sym.add_argument("--limit", type=int, default=50)

    query_command("status", "what the graph holds")

    serve = sub.add_parser("serve", help="run the language server (stdio by default)")
    serve.add_argument(
        "--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)"
    )
    serve.add_argument("--tcp", action="store_true", help="listen on TCP instead, for debugging")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=2087)
    serve.add_argument(
        "--log-level",
        choices=("error", "warning", "info", "debug"),
        default="info",
        help="server log verbosity (initializationOptions.logLevel overrides it)",
    )
    serve.add_argument("--log-file", help="log to this file instead of stderr")
    return parser
