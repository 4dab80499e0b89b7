#!/usr/bin/env bash
# Install graphviz (`dot`) for the slow test that renders `impact --format dot`
# (tests/test_impact_graph.py). Idempotent; needs root (or passwordless sudo).
set -euo pipefail
if command -v dot >/dev/null 2>&1; then
    echo "install-graphviz: $(dot -V 2>&1) already installed"
    exit 0
fi
SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends graphviz
dot -V
