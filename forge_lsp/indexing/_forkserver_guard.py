"""Imported by the multiprocessing forkserver only (its preload): it dies with its parent."""

from forge_lsp.indexing.orphans import guard_forkserver

guard_forkserver()
