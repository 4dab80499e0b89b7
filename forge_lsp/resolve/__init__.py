"""Resolution: what each name means across files. Pure Python over rows; no SQL, no LSP."""
