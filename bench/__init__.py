"""Benchmarks for forge_lsp: accuracy against independent oracles (jedi, basedpyright)."""
