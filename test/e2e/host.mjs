// VS Code servers for the team end-to-end suite, started from Node: one per annotator, each with its own
// --user-data-dir (so its own user settings: annotator name, database), --extensions-dir (the VSIX
// installed there), --server-data-dir and workspace folder, so every window has its own extension host
// and profile. Flags as scripts/e2e-run.sh starts its one server (see ../shared/e2e/README.md).
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      // (a TCP listener's address is an AddressInfo; a string is a pipe's path)
      if (address === null || typeof address === 'string') {
        srv.close();
        return reject(new Error(`no TCP port: ${address}`));
      }
      const { port } = address;
      srv.close(() => resolve(port));
    });
  });
}

/** The host's Node 24 and VS Code server entry (installed by scripts/e2e-install-host.sh). */
export function hostPaths(hostDir) {
  return {
    node24: join(hostDir, 'node24', 'node_modules', '.bin', 'node'),
    serverMain: join(hostDir, 'node_modules', 'code-server', 'lib', 'vscode', 'out', 'server-main.js'),
  };
}

/**
 * Prepares one server's folders and installs the VSIX into its own extensions folder (no server yet).
 * `userSettings`: the user's settings.json (the server's user-data folder); `name`: a label for logs.
 */
export function prepareServer({ name, hostDir, vsix, userSettings }) {
  const { node24, serverMain } = hostPaths(hostDir);
  const state = mkdtempSync(join(tmpdir(), `discretion-e2e-${name}-`));
  const ws = join(state, 'workspace');
  for (const d of ['server-data', join('user-data', 'User'), 'extensions', join('workspace', '.vscode')])
    mkdirSync(join(state, d), { recursive: true });
  writeFileSync(join(state, 'user-data', 'User', 'settings.json'), JSON.stringify(userSettings, null, 2));
  writeFileSync(join(ws, 'README.txt'), `Discretion team e2e workspace of ${name}\n`);
  const r = spawnSync(
    node24,
    [serverMain, '--extensions-dir', join(state, 'extensions'), '--install-extension', vsix, '--force'],
    { encoding: 'utf8', env: { ...process.env, EXTENSIONS_GALLERY: '{}' } },
  );
  if (r.status !== 0)
    throw new Error(`installing the VSIX for ${name} failed: ${r.stdout}${r.stderr}${r.error?.message ?? ''}`);
  return { name, state, ws, node24, serverMain };
}

/**
 * Starts a prepared server on a free port in its own process group (extension hosts are its children) and
 * waits until it answers. `env`: added to the server's environment (PGPASSWORD). Returns its URL and stop().
 * @param {ReturnType<typeof prepareServer>} prepared
 * @param {{ env?: Record<string, string>, log?: (line: string) => void }} [opts]
 */
export async function startServer(prepared, { env = {}, log } = {}) {
  const { name, state, ws, node24, serverMain } = prepared;
  const port = await freePort();
  const logFile = join(state, 'server.log');
  const out = openSync(logFile, 'a');
  const child = spawn(
    node24,
    [
      serverMain,
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--without-connection-token',
      '--accept-server-license-terms',
      '--enable-smoke-test-driver',
      '--disable-telemetry',
      '--disable-workspace-trust',
      '--server-data-dir',
      join(state, 'server-data'),
      '--user-data-dir',
      join(state, 'user-data'),
      '--extensions-dir',
      join(state, 'extensions'),
      '--default-folder',
      ws,
    ],
    { detached: true, stdio: ['ignore', out, out], env: { ...process.env, EXTENSIONS_GALLERY: '{}', ...env } },
  );
  const pgid = child.pid;
  let stopped = false;
  const stop = async (signal = 'SIGTERM') => {
    if (stopped) return;
    stopped = true;
    try {
      process.kill(-pgid, signal);
    } catch {
      return;
    }
    for (let i = 0; i < 40; i++) {
      try {
        process.kill(-pgid, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    try {
      process.kill(-pgid, 'SIGKILL');
    } catch {
      /* gone */
    }
  };
  const url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`;
  for (let i = 0; ; i++) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/`);
      if (res.ok) break;
    } catch {
      /* not up yet */
    }
    if (child.exitCode !== null || i >= 240) {
      await stop('SIGKILL');
      throw new Error(`the VS Code server of ${name} did not come up (log: ${logFile})`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  log?.(`VS Code server of ${name} on port ${port}`);
  return { ...prepared, port, url, logFile, stop, pgid };
}

/** Removes a server's folders (after stop). */
export function removeServer(prepared) {
  rmSync(prepared.state, { recursive: true, force: true });
}
