#!/usr/bin/env bash
# The team end-to-end suite (part of `npm run test:e2e`): two VS Code windows as two annotators on one real
# PostgreSQL (test/e2e/team.e2e.mjs starts the PostgreSQL server, both VS Code servers and the browser).
# Installs the host as scripts/e2e-run.sh does; packages the VSIX unless E2E_REUSE_VSIX is set and one is
# there (npm run test:e2e reuses the one the workbench suite just packaged). Logs and screenshots go to
# test-results/ (team-*).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
HOST_DIR=${E2E_HOST_DIR:-$ROOT/.e2e-host}
mkdir -p test-results

bash scripts/e2e-install-host.sh
source "$ROOT/scripts/e2e-vsix.sh"
E2E_ROOT="$ROOT" E2E_HOST_DIR="$HOST_DIR" E2E_VSIX="$VSIX" node test/e2e/team.e2e.mjs
