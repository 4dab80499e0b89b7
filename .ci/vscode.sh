#!/usr/bin/env bash
# CI for the VS Code extension (editors/vscode): install from the lockfile, type-check, unit-test,
# bundle and package into a .vsix. Needs Node >= 20 and npm; nothing else (VS Code is not needed).
set -euo pipefail
cd "$(dirname "$0")/../editors/vscode"

step() { printf '\n== %s\n' "$*"; }

step "node $(node --version), npm $(npm --version 2>/dev/null)"
step "npm ci"
npm ci --no-audit --no-fund

step "type check (tsc --noEmit)"
npm run --silent typecheck

step "unit tests (node --test)"
npm test

step "bundle (esbuild)"
npm run --silent build

# End to end without VS Code: the real bundle, a stub `vscode` module and the real server on
# examples/demo. Needs a Python with forge_lsp: $FORGE_PYTHON, else the repository's CI or dev
# virtualenv. FORGE_REQUIRE_SMOKE=1 turns "no interpreter" into a failure.
step "smoke test (extension + forge-lsp serve)"
python=${FORGE_PYTHON:-}
if [[ -z "$python" ]]; then
  for candidate in ../../.ci-venv/bin/python ../../.venv/bin/python; do
    if [[ -x "$candidate" ]] && "$candidate" -c 'import forge_lsp' 2>/dev/null; then
      python=$(cd "$(dirname "$candidate")" && pwd)/$(basename "$candidate")
      break
    fi
  done
fi
if [[ -n "$python" ]]; then
  FORGE_PYTHON="$python" npm run --silent smoke
elif [[ "${FORGE_REQUIRE_SMOKE:-0}" != 0 ]]; then
  echo "no Python with forge_lsp found (set FORGE_PYTHON)" >&2
  exit 1
else
  echo "skipped: no Python with forge_lsp found (set FORGE_PYTHON to run it)"
fi

step "package (vsce)"
rm -f ./*.vsix
# stdin from /dev/null: vsce must never wait for an answer in CI.
npm run --silent package </dev/null

vsix=$(ls ./*.vsix)
version=$(node -p "require('./package.json').version")
[[ "$vsix" == "./forge-lsp-$version.vsix" ]] || { echo "unexpected package name: $vsix" >&2; exit 1; }

step "contents of $vsix"
# The bundle, manifest, README and LICENSE are in; sources, tests and node_modules are not.
node scripts/check-vsix.mjs "$vsix"
