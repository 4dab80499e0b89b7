"""What a change to the workspace can break: diffs in, changed symbols and the tests that can
observe them out (the `forge-lsp affected` command and the pytest plugin)."""
