#!/usr/bin/env bash
# `npm run test:e2e`: the workbench in a real VS Code (1.139.1 server from code-server@4.139.1 on
# Node 24), with the packaged VSIX installed into a fresh --extensions-dir, driven by Debian
# chromium through playwright-core. Screenshots and logs go to test-results/.
# E2E_SCRIPT picks the driver (default test/e2e/workbench.e2e.mjs, which runs test/e2e/steps/ in order;
# scripts/e2e-bench.mjs for the benchmark). E2E_EXTRA_EXTENSIONS: extension folders (space-separated,
# relative to the repository) packaged and installed beside the VSIX (the benchmark's empty-webview
# reference).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
HOST_DIR=${E2E_HOST_DIR:-$ROOT/.e2e-host}
SCRIPT=${E2E_SCRIPT:-test/e2e/workbench.e2e.mjs}
# A port the kernel says is free now (a random one collided with another run's server under load: EADDRINUSE).
PORT=${E2E_PORT:-$(node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')}
mkdir -p test-results

bash scripts/e2e-install-host.sh
NODE24="$HOST_DIR/node24/node_modules/.bin/node"
SERVER="$HOST_DIR/node_modules/code-server/lib/vscode/out/server-main.js"

source "$ROOT/scripts/e2e-vsix.sh"

STATE=$(mktemp -d /tmp/discretion-e2e-XXXX)
WS="$STATE/workspace"
mkdir -p "$STATE"/{server-data,user-data,extensions} "$WS/.vscode"
# At the end, pass or fail (and on Ctrl-C): the server's process group stopped (SIGTERM, SIGKILL after 5 s), and
# a check that no process this script started is left (its descendants, that group, anything naming $STATE);
# one left fails the run (test/e2e/processes.mjs).
cleanup() {
  local rc=$? left=0
  trap - EXIT INT TERM
  node "$ROOT/test/e2e/processes.mjs" --root $$ --pgid "$(cat "$STATE/server.pid" 2>/dev/null || echo 0)" --marker "$STATE" || left=1
  cp "$STATE/server.log" test-results/e2e-server.log 2>/dev/null || true
  [ -n "${E2E_KEEP:-}" ] || rm -rf "$STATE"
  [ "$rc" = 0 ] && [ "$left" = 1 ] && rc=1
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

EXTENSIONS_GALLERY='{}' "$NODE24" "$SERVER" --extensions-dir "$STATE/extensions" --install-extension "$VSIX" --force > "$STATE/install.log" 2>&1 \
  || { cat "$STATE/install.log"; exit 1; }

for EXT in ${E2E_EXTRA_EXTENSIONS:-}; do
  EXTRA_VSIX="$STATE/$(basename "$EXT").vsix"
  (cd "$ROOT/$EXT" && node "$ROOT/node_modules/@vscode/vsce/vsce" package --no-dependencies --skip-license --allow-missing-repository --out "$EXTRA_VSIX") > "$STATE/extra.log" 2>&1 \
    || { cat "$STATE/extra.log"; exit 1; }
  EXTENSIONS_GALLERY='{}' "$NODE24" "$SERVER" --extensions-dir "$STATE/extensions" --install-extension "$EXTRA_VSIX" --force > "$STATE/install.log" 2>&1 \
    || { cat "$STATE/install.log"; exit 1; }
done

# The database inside the workspace: a workspace setting naming a database outside its folder asks the user
# first (a modal the suite does not answer), as a repository's settings must not pick any file on disk.
mkdir -p "$WS/.discretion"
export E2E_STATE="$STATE" E2E_WS="$WS" E2E_DB="$WS/.discretion/e2e.db" E2E_PORT="$PORT" E2E_ROOT="$ROOT"
node "$ROOT/test/e2e/prepare.mjs"

EXTENSIONS_GALLERY='{}' setsid "$NODE24" "$SERVER" \
  --host 127.0.0.1 --port "$PORT" --without-connection-token --accept-server-license-terms \
  --enable-smoke-test-driver --disable-telemetry --disable-workspace-trust \
  --server-data-dir "$STATE/server-data" --user-data-dir "$STATE/user-data" \
  --extensions-dir "$STATE/extensions" --default-folder "$WS" \
  > "$STATE/server.log" 2>&1 < /dev/null &
echo $! > "$STATE/server.pid"
for i in $(seq 1 120); do
  curl -fs -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && break
  [ "$i" = 120 ] && { echo "e2e: the VS Code server did not come up"; cat "$STATE/server.log"; exit 1; }
  sleep 0.5
done
node "$ROOT/$SCRIPT"
