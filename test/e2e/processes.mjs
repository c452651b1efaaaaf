// The processes an e2e suite started, and the check at its end that none of them is still alive (issue 21:
// every run of the team suite left a VS Code server behind). Read from /proc (Linux, as the suites are).
//
// A suite takes a snapshot before it stops anything: every descendant of its own process (a browser, a
// server and the extension hosts it forked), every member of the process groups it started (a server is the
// leader of its own group), and every process whose command line names one of the suite's own folders (a
// PostgreSQL server daemonizes away from its starter, so only its data folder names it), with their
// descendants. After the suite stopped them, `assertAllGone` waits for each of those processes (by pid and
// start time, so a reused pid is not taken for it) and fails, naming the survivors, when one is still there;
// it then kills them so that a failed run does not leave them running either.
//
// From a shell (scripts/e2e-run.sh): `node test/e2e/processes.mjs --root PID --pgid PGID --marker DIR`
// snapshots, stops the group (SIGTERM, then SIGKILL after 5 s) and checks; exit status 1 with the survivors
// listed when one is left.
import { readdirSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Every live process: pid -> { pid, ppid, pgid, start, cmd } (zombies left out: they run nothing). */
function processTable() {
  const table = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      // fields after "(comm)": state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime
      // stime cutime cstime priority nice num_threads itrealvalue starttime (proc(5))
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (f[0] === 'Z' || f[0] === 'X') continue;
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      table.set(Number(name), { pid: Number(name), ppid: Number(f[1]), pgid: Number(f[2]), start: f[19], cmd });
    } catch {
      /* gone meanwhile */
    }
  }
  return table;
}

/** The processes of `table` below `pids` (not those themselves). */
function below(table, pids) {
  const found = new Set();
  let frontier = new Set(pids);
  while (frontier.size) {
    const next = new Set();
    for (const p of table.values())
      if (frontier.has(p.ppid) && !found.has(p.pid)) {
        found.add(p.pid);
        next.add(p.pid);
      }
    frontier = next;
  }
  return found;
}

/**
 * The processes a suite started, now: descendants of `root`, members of `pgids`, processes whose command line
 * contains one of `markers` and their descendants. The calling process itself is left out.
 */
export function snapshot({ root = process.pid, pgids = [], markers = [] } = {}) {
  const table = processTable();
  const pids = below(table, [root]);
  for (const p of table.values()) {
    if (pgids.includes(p.pgid)) pids.add(p.pid);
    if (markers.some((m) => m && p.cmd.includes(m))) pids.add(p.pid);
  }
  for (const p of below(table, [...pids])) pids.add(p);
  pids.delete(process.pid);
  return [...pids].map((pid) => table.get(pid));
}

/** Those of `taken` (a snapshot) still running: same pid, same start time. */
function alive(taken) {
  const table = processTable();
  return taken.filter((p) => table.get(p.pid)?.start === p.start);
}

/**
 * Waits up to `timeoutMs` for every process of `taken` to be gone, and for no process to match `markers` or
 * belong to `pgids` any more; throws naming the survivors (after killing them) when one is left.
 */
export async function assertAllGone(taken, { pgids = [], markers = [], timeoutMs = 10_000, what = 'the suite' } = {}) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const left = [
      ...alive(taken),
      ...snapshot({ root: -1, pgids, markers }).filter((p) => !taken.some((t) => t.pid === p.pid)),
    ];
    if (!left.length) return;
    if (Date.now() > end) {
      for (const p of left) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      throw new Error(
        `${what} left ${left.length} process(es) running (killed now): ${left.map((p) => `${p.pid} ${p.cmd.slice(0, 160)}`).join(' | ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Stops a process group: SIGTERM, then SIGKILL when it is still there after `graceMs`. */
export async function stopGroup(pgid, graceMs = 5000) {
  try {
    process.kill(-pgid, 'SIGTERM');
  } catch {
    return;
  }
  const end = Date.now() + graceMs;
  while (Date.now() < end) {
    try {
      process.kill(-pgid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  try {
    process.kill(-pgid, 'SIGKILL');
  } catch {
    /* gone */
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  const all = (flag) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
  const root = Number(all('--root')[0] ?? -1);
  const pgids = all('--pgid')
    .map(Number)
    .filter((n) => n > 0);
  const markers = all('--marker');
  const taken = snapshot({ root, pgids, markers });
  for (const g of pgids) await stopGroup(g);
  try {
    await assertAllGone(taken, { pgids, markers, what: 'the workbench suite' });
  } catch (e) {
    console.error(`e2e: ${e.message}`);
    process.exit(1);
  }
}
