"""`python -m forge_lsp` is the same as the `forge-lsp` console script."""

from forge_lsp.cli import main

raise SystemExit(main())
