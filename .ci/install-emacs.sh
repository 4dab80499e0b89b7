#!/usr/bin/env bash
# Install Emacs >= 30 (emacs-nox from Debian bookworm-backports; eglot is built in) for the
# editor integration tests (tests/editors/test_emacs.py).
#
# Idempotent: does nothing when `emacs --version` already reports 30 or later. Otherwise adds a
# bookworm-backports apt source that points at the same mirror this machine already uses for
# bookworm (read from its apt configuration at run time: no mirror is named here), installs
# emacs-nox from it, and checks the version. Exits non-zero when any step fails, so that the
# tests fail instead of skipping. Needs root (or passwordless sudo).
set -euo pipefail

MIN_MAJOR=30
SOURCE_FILE=/etc/apt/sources.list.d/forge-bookworm-backports.sources

emacs_major() {
    # Prints the major version of `emacs` on PATH, or nothing.
    command -v emacs >/dev/null 2>&1 || return 0
    emacs --version 2>/dev/null | sed -n '1s/^GNU Emacs \([0-9][0-9]*\).*/\1/p'
}

have_emacs() {
    local major
    major=$(emacs_major)
    [[ -n "$major" && "$major" -ge "$MIN_MAJOR" ]]
}

if have_emacs; then
    echo "install-emacs: $(emacs --version | head -n 1) already installed"
    exit 0
fi

SUDO=()
if [[ "$(id -u)" -ne 0 ]]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO=(sudo -n)
    else
        echo "install-emacs: not root and no sudo; cannot install Emacs" >&2
        exit 1
    fi
fi

# Is any bookworm-backports source already configured (deb822 or one-line format)?
has_backports_source() {
    local f
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        if grep -Ev '^[[:space:]]*#' "$f" | grep -Eq '(^|[[:space:]])bookworm-backports([[:space:]]|$)'; then
            return 0
        fi
    done
    return 1
}

# Prints "URI<TAB>SIGNED-BY" for the first enabled `deb` source of suite `bookworm`.
bookworm_source() {
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -f "$f" ]] || continue
        # deb822: blank-line separated stanzas of "Key: value" fields.
        awk '
            function flush() {
                if (types ~ /(^| )deb( |$)/ && suites ~ /(^| )bookworm( |$)/ && enabled != "no" && uri != "") {
                    printf "%s\t%s\n", uri, signed; found = 1; exit
                }
                types = ""; suites = ""; uri = ""; signed = ""; enabled = ""
            }
            /^[[:space:]]*#/ { next }
            /^[[:space:]]*$/ { flush(); next }
            {
                key = tolower($1); sub(/:$/, "", key)
                val = $0; sub(/^[^:]*:[[:space:]]*/, "", val)
                if (key == "types") types = val
                else if (key == "suites") suites = val
                else if (key == "uris") { split(val, u, /[[:space:]]+/); uri = u[1] }
                else if (key == "signed-by") signed = val
                else if (key == "enabled") enabled = tolower(val)
            }
            END { if (!found) flush() }
        ' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -f "$f" ]] || continue
        # One-line format: deb [options] URI SUITE COMPONENT...
        awk '
            /^[[:space:]]*#/ { next }
            $1 == "deb" {
                i = 2; signed = ""
                if ($i ~ /^\[/) {
                    while (i <= NF) {
                        opt = $i; gsub(/[\[\]]/, "", opt)
                        if (opt ~ /^signed-by=/) { signed = opt; sub(/^signed-by=/, "", signed) }
                        if ($i ~ /\]$/) { i++; break }
                        i++
                    }
                }
                if ($(i + 1) == "bookworm") { printf "%s\t%s\n", $i, signed; exit }
            }
        ' "$f"
    done
}

if has_backports_source; then
    echo "install-emacs: a bookworm-backports apt source is already configured"
else
    line=$(bookworm_source)
    line=${line%%$'\n'*}
    if [[ -z "$line" ]]; then
        echo "install-emacs: no apt source for Debian bookworm found in /etc/apt; cannot add bookworm-backports" >&2
        exit 1
    fi
    uri=${line%%$'\t'*}
    signed=${line#*$'\t'}
    echo "install-emacs: adding bookworm-backports from the mirror used for bookworm"
    {
        echo "# Added by forge-lsp's .ci/install-emacs.sh (Emacs 30 for the editor tests)."
        echo "Types: deb"
        echo "URIs: $uri"
        echo "Suites: bookworm-backports"
        echo "Components: main"
        if [[ -n "$signed" ]]; then
            echo "Signed-By: $signed"
        fi
    } | "${SUDO[@]}" tee "$SOURCE_FILE" >/dev/null
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends -t bookworm-backports emacs-nox

hash -r
if ! have_emacs; then
    echo "install-emacs: Emacs >= $MIN_MAJOR is still not on PATH after the install (found: $(emacs --version 2>&1 | head -n 1))" >&2
    exit 1
fi
echo "install-emacs: $(emacs --version | head -n 1) installed"
