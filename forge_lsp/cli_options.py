"""The grammar of the `forge-lsp` command line: every command, flag and default, in one place.

Kept apart from `cli.py`, which runs the commands, so that what a user can type is read in one
screenful and help texts stay next to the flags they describe.
"""

from __future__ import annotations

import argparse

from forge_lsp import __version__
from forge_lsp.config import DB_ENV
from forge_lsp.graph.impact import DEFAULT_MAX_NODES
from forge_lsp.render_graph import GRAPH_NODES

EXIT_STATUSES = """exit status:
  0  an answer was printed
  1  no result: no symbol at the position, nothing found, a file not in the index
  2  usage: a bad flag, position, path or configuration
  3  the index cannot answer: none found, unreadable or not writable, or `affected`
     cannot analyse the change (run every test)
  4  internal error (FORGE_LSP_DEBUG=1 shows the traceback)"""

POSITION_HELP = "FILE:LINE:COL, 1-based; COL counts characters; FILE relative or absolute"
PROBABLE_HELP = "also list uses of the name on receivers of unknown type (default: exact only)"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="forge-lsp",
        description="Index a workspace, ask its code graph, serve editors.",
        epilog=EXIT_STATUSES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    version = f"forge-lsp {__version__}"
    parser.add_argument("--version", action="version", version=version)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(
            name,
            help=help_text,
            description=help_text[0].upper() + help_text[1:] + ".",
            epilog=EXIT_STATUSES,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.add_argument("--version", action="version", version=version)
        return cmd

    def query_command(name: str, help_text: str) -> argparse.ArgumentParser:
        cmd = command(name, help_text)
        cmd.add_argument(
            "--db", help=f"graph database (default: ${DB_ENV}, else the nearest .forge/graph.db)"
        )
        cmd.add_argument(
            "--json", action="store_true", help="machine-readable output (default: text)"
        )
        cmd.add_argument(
            "--no-refresh",
            action="store_true",
            help="answer from the index as it is (default: first reparse the files changed"
            " since it was built)",
        )
        return cmd

    index = command("index", "build or update the graph of a workspace")
    index.add_argument("root", nargs="?", default=".", help="workspace root (default: .)")
    index.add_argument(
        "--db", help=f"graph database (default: ${DB_ENV}, else ROOT/.forge/graph.db)"
    )
    index.add_argument(
        "--jobs",
        "-j",
        type=int,
        help="worker processes (default: `jobs` in the config, else the CPUs, at most 8)",
    )
    index.add_argument(
        "--json", action="store_true", help="print the summary as JSON (default: one line)"
    )
    index.add_argument(
        "--force",
        action="store_true",
        help="index even `/`, the home or a system directory (default: refused)",
    )

    refs = query_command("refs", "references of the symbol at each position")
    refs.add_argument("positions", nargs="+", metavar="FILE:LINE:COL", help=POSITION_HELP)
    refs.add_argument("--probable", action="store_true", help=PROBABLE_HELP)
    refs.add_argument(
        "--no-declaration",
        action="store_true",
        help="leave out the definition itself (default: included)",
    )

    defn = query_command("definition", "where the symbol at a position is defined")
    defn.add_argument("position", metavar="FILE:LINE:COL", help=POSITION_HELP)
    defn.add_argument("--probable", action="store_true", help=PROBABLE_HELP)

    calls = query_command("calls", "callers or callees of the function at a position")
    calls.add_argument("position", metavar="FILE:LINE:COL", help=POSITION_HELP)
    direction = calls.add_mutually_exclusive_group(required=True)
    direction.add_argument(
        "--incoming",
        action="store_true",
        help="who calls it, with each site (this or --outgoing required)",
    )
    direction.add_argument(
        "--outgoing", action="store_true", help="what it calls, with each site (or --incoming)"
    )
    calls.add_argument("--probable", action="store_true", help=PROBABLE_HELP)

    imp = query_command("impact", "everything that transitively depends on symbols or files")
    imp.add_argument(
        "targets",
        nargs="+",
        metavar="FILE[:LINE[:COL]]",
        help="a whole file, the function or class holding a line, or the name at a position",
    )
    imp.add_argument(
        "--depth", type=int, help="stop after N levels of edges (default: to a fixed point)"
    )
    imp.add_argument(
        "--max-nodes",
        type=int,
        default=DEFAULT_MAX_NODES,
        help=f"stop after N dependents (default: {DEFAULT_MAX_NODES})",
    )
    imp.add_argument(
        "--probable",
        action="store_true",
        help="also follow uses on receivers of unknown type (default: exact edges only)",
    )
    imp.add_argument(
        "--format",
        choices=("text", "json", "mermaid", "dot"),
        default="text",
        help="output: text, json (as --json), mermaid or graphviz dot (default: text)",
    )
    imp.add_argument(
        "--graph-nodes",
        type=int,
        default=GRAPH_NODES,
        help="with --format mermaid|dot: draw the N dependents nearest the roots, the rest as"
        f" one '+N more' node (default: {GRAPH_NODES})",
    )

    aff = command("affected", "the tests a change can break (for CI)")
    aff.add_argument(
        "--since", metavar="REV", help="compare the work tree with REV (default: HEAD)"
    )
    aff.add_argument(
        "--diff",
        metavar="FILE",
        help="read the change as a unified diff, - for stdin (default: git, see --since)",
    )
    aff.add_argument(
        "--format",
        choices=("text", "json", "pytest", "github"),
        default="text",
        help="text, json, pytest node ids, or GitHub annotations (default: text)",
    )
    aff.add_argument(
        "--db", help=f"graph database (default: ${DB_ENV}, else the nearest .forge/graph.db)"
    )
    aff.add_argument(
        "--probable",
        action="store_true",
        help="also follow uses of rarely defined names on receivers of unknown type"
        " (default: exact edges only)",
    )

    sym = query_command("symbols", "search symbols by name (exact, prefix, then fuzzy)")
    sym.add_argument("query", help="a name, or the start of one")
    sym.add_argument("--limit", type=int, default=50, help="at most N symbols (default: 50)")

    query_command("status", "what the graph holds")

    serve = command("serve", "run the language server (stdio by default)")
    serve.add_argument(
        "--stdio", action="store_true", help="talk LSP over stdin/stdout (the default)"
    )
    serve.add_argument(
        "--tcp", action="store_true", help="listen on TCP instead, for debugging (default: off)"
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="with --tcp: address to listen on (default: 127.0.0.1)"
    )
    serve.add_argument(
        "--port", type=int, default=2087, help="with --tcp: port to listen on (default: 2087)"
    )
    serve.add_argument(
        "--log-level",
        choices=("error", "warning", "info", "debug"),
        default="info",
        help="server log verbosity; initializationOptions.logLevel overrides it (default: info)",
    )
    serve.add_argument("--log-file", help="log to this file (default: stderr)")
    return parser
