#!/usr/bin/env bash
# `npm run test:node24` (and `bash scripts/test-node.sh VERSION [vitest args...]` for any other Node): the
# store suites (the contract on SQLite and PostgreSQL, crash, locking, migrations) and the CLI tests again
# on another Node than the one running npm, so the driver and the code are exercised on both. That Node
# comes from the npm registry's `node` package (which installs the `node-<os>-<arch>` binary package) into
# .node-versions/VERSION, once; Node 24.21.0 is the e2e host's (scripts/e2e-install-host.sh), so it is
# reused from there when present. The CLI tests start the CLI with the Node that runs them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VERSION=${1:-24.21.0}
shift || true
NODE_BIN=""
HOST_NODE="${E2E_HOST_DIR:-$ROOT/.e2e-host}/node24/node_modules/.bin/node"
if [ "$VERSION" = 24.21.0 ] && [ -x "$HOST_NODE" ]; then NODE_BIN=$HOST_NODE; fi
if [ -z "$NODE_BIN" ]; then
  DIR="$ROOT/.node-versions/$VERSION"
  NODE_BIN="$DIR/node_modules/.bin/node"
  if [ ! -x "$NODE_BIN" ]; then
    mkdir -p "$DIR"
    [ -f "$DIR/package.json" ] || echo "{\"name\":\"node-$VERSION\",\"private\":true}" >"$DIR/package.json"
    # npm passes its npm_* environment to child npm runs as configuration; start from a clean one.
    (while IFS='=' read -r name _; do case "$name" in npm_*) unset "$name" 2>/dev/null || true ;; esac; done < <(env)
      cd "$DIR" && npm install --no-audit --no-fund --loglevel=error "node@$VERSION")
  fi
fi
echo "test-node: $("$NODE_BIN" --version) ($NODE_BIN)"
# The main project only: the pooled one checks the SQL behind PgBouncer, which does not depend on Node.
if [ $# -eq 0 ]; then set -- --project main test/store test/cli; fi
exec "$NODE_BIN" node_modules/vitest/vitest.mjs run "$@"
