// `npm run bench -- engines`: `judge reward` as a client of serving engines (issue 19, item 5), against the
// conformance servers (test/support/conformance) run in a child process, so that the CPU measured here
// (process.cpuUsage: user + system of this process) is the client's own: the engine client, the replica pool, HTTP
// and the SQLite writes of a real run (runEngineJudge on a temporary database).
// - vLLM with a fixed 20 ms answer time and 1, 4 and 16 replicas at 4 requests in flight per replica: pairs/s,
//   requests/s against the ideal replicas x concurrency / latency, and the client's CPU per request.
// - An instant server (no added time): requests/s, and the requests/s one core of this client could give
//   (1 / CPU per request; goal: at least 2,000).
// - KServe with 512-token inputs, 8 a request: the binary tensor extension beside JSON numbers.
// Figures only; the machine's load is printed with them.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { importDataset } from '../src/importers/datasets';
import type { ConversationEncoder } from '../src/judges/engines';
import { type EngineJudgeOptions, runEngineJudge } from '../src/judges/rewardRun';
import { openSqliteStore } from '../src/store/sqlite/adapter';
import type { ConformanceServer } from '../test/support/conformance/base';
import { kserveServer } from '../test/support/conformance/kserve';
import { BOS_ID, PAD_ID, renderChat } from '../test/support/conformance/score';
import { vllmServer } from '../test/support/conformance/vllm';

const CHILD = 'DISCRETION_BENCH_CONFORMANCE';
type Serve = { engine: 'vllm' | 'kserve'; count: number; latencyMs: number };

// In the child: start the servers, say their URLs, serve until the parent goes.
if (process.env[CHILD]) {
  const o = JSON.parse(process.env[CHILD]) as Serve;
  void (async () => {
    const servers: ConformanceServer[] = [];
    for (let i = 0; i < o.count; i++) {
      const s = await (o.engine === 'vllm' ? vllmServer() : kserveServer());
      s.latencyMs = o.latencyMs;
      servers.push(s);
    }
    process.send!({ urls: servers.map((s) => s.url) });
    process.on('disconnect', () => process.exit(0));
  })();
}

async function serve(o: Serve): Promise<{ urls: string[]; child: ChildProcess }> {
  const child = fork(__filename, [], { env: { ...process.env, [CHILD]: JSON.stringify(o) }, stdio: 'inherit' });
  const urls = await new Promise<string[]>((resolve, reject) => {
    child.once('message', (m: { urls: string[] }) => resolve(m.urls));
    child.once('exit', (code) => reject(new Error(`the conformance servers' process ended (${code})`)));
  });
  return { urls, child };
}

async function stop(child: ChildProcess): Promise<void> {
  await new Promise<void>((r) => {
    child.once('exit', () => r());
    child.kill();
  });
}

/** A database with `n` pairs: HH-style prompts, responses of about `chars` characters. */
async function database(work: string, n: number, chars: number): Promise<string> {
  const file = join(work, `pairs-${n}-${chars}.jsonl`);
  const words = 'the assistant answers the question with care and declines what would cause harm '.repeat(
    Math.ceil(chars / 80),
  );
  writeFileSync(
    file,
    Array.from({ length: n }, (_, i) =>
      JSON.stringify({
        prompt: `\n\nHuman: question ${i}: how do I do this safely?\n\nAssistant:`,
        response_0: `${i} ${words.slice(0, chars)}`,
        response_1: `${i} no, ${words.slice(0, chars)}`,
      }),
    ).join('\n'),
  );
  const db = join(work, `bench-${n}-${chars}-${Math.random().toString(36).slice(2)}.db`);
  const store = await openSqliteStore(db);
  await importDataset(store, {
    format: 'jsonl',
    file,
    dataset: 'd',
    mapping: { prompt: 'prompt', response0: 'response_0', response1: 'response_1' },
  });
  await store.close();
  return db;
}

interface Measured {
  pairs: number;
  requests: number;
  seconds: number;
  cpuMsPerRequest: number;
}

async function measure(db: string, o: Omit<EngineJudgeOptions, 'dataset' | 'annotator'>): Promise<Measured> {
  const store = await openSqliteStore(db);
  try {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const s = await runEngineJudge(store, { ...o, dataset: 'd', annotator: `rm-${Math.random()}` });
    const seconds = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    return {
      pairs: s.scored,
      requests: s.requests,
      seconds,
      cpuMsPerRequest: (cpu.user + cpu.system) / 1000 / s.requests,
    };
  } finally {
    await store.close();
  }
}

/** A tokenizer of realistic ids for the 512-token case: every input cut to 512 ids from a 128k vocabulary. */
function longEncoder(): ConversationEncoder {
  return {
    render: (m) => renderChat(m),
    encode(m) {
      const text = renderChat(m);
      const ids = [BOS_ID];
      for (let i = 3; i < text.length && ids.length < 512; i++)
        ids.push(((text.charCodeAt(i) * 977 + i) % 128_000) + 2);
      return { ids, truncated: text.length > 512 };
    },
    padId: PAD_ID,
  };
}

const f = (n: number, digits = 0) => n.toFixed(digits);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function runEnginesBench(log: (line: string) => void): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'discretion-bench-engines-'));
  try {
    log(
      `engines bench: the client's CPU is this process's; the servers run in a child process. ${cpus().length} cores, load ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
    // A first run warms up the code (the JIT), so that the runs measured below compare like with like.
    {
      const { urls, child } = await serve({ engine: 'vllm', count: 1, latencyMs: 0 });
      try {
        await measure(await database(work, 500, 400), { engine: 'vllm', urls: urls[0], model: 'rm', concurrency: 8 });
      } finally {
        await stop(child);
      }
    }
    // 20 ms servers: replicas x 4 in flight.
    for (const replicas of [1, 4, 16]) {
      const concurrency = 4 * replicas;
      const ideal = concurrency / 0.02; // requests/s
      const pairs = Math.round((ideal / 2) * 3); // about 3 s at the ideal rate (vLLM: 2 requests a pair)
      const db = await database(work, pairs, 400);
      const { urls, child } = await serve({ engine: 'vllm', count: replicas, latencyMs: 20 });
      try {
        const m = await measure(db, { engine: 'vllm', urls: urls.join(','), model: 'rm', concurrency });
        const rate = m.requests / m.seconds;
        log(
          `vllm, 20 ms answers, ${replicas} replica(s) x 4 in flight: ${f(m.pairs / m.seconds)} pairs/s, ${f(rate)} requests/s of ideal ${f(ideal)} (${f((100 * rate) / ideal)} %), client CPU ${f(m.cpuMsPerRequest, 3)} ms/request (the client busy ${f((rate * m.cpuMsPerRequest) / 10)} % of one core; ${m.pairs} pairs)`,
        );
      } finally {
        await stop(child);
      }
    }

    // An instant server: how fast the client itself goes.
    {
      const db = await database(work, 5000, 400);
      const { urls, child } = await serve({ engine: 'vllm', count: 2, latencyMs: 0 });
      try {
        const m = await measure(db, { engine: 'vllm', urls: urls.join(','), model: 'rm', concurrency: 32 });
        log(
          `vllm, instant answers, 2 replicas, 32 in flight: ${f(m.requests / m.seconds)} requests/s (${f(m.pairs / m.seconds)} pairs/s); client CPU ${f(m.cpuMsPerRequest, 3)} ms/request = ${f(1000 / m.cpuMsPerRequest)} requests/s on one core of this client (goal 2000)`,
        );
      } finally {
        await stop(child);
      }
    }

    // KServe, 512-token inputs, 8 a request: binary tensors against JSON numbers, alternating, three runs each.
    {
      const { urls, child } = await serve({ engine: 'kserve', count: 1, latencyMs: 0 });
      try {
        const runs: Record<'binary' | 'JSON', Measured[]> = { binary: [], JSON: [] };
        for (let i = 0; i < 6; i++) {
          const binary = i % 2 === 0;
          const db = await database(work, 800, 1200);
          runs[binary ? 'binary' : 'JSON'].push(
            await measure(db, {
              engine: 'kserve',
              urls: urls[0],
              model: 'rm',
              concurrency: 4,
              batchSize: 8,
              encoder: longEncoder(),
              kserveBinary: binary,
            }),
          );
        }
        for (const [mode, ms] of Object.entries(runs)) {
          const rate = median(ms.map((m) => m.requests / m.seconds));
          log(
            `kserve ${mode.padEnd(6)}, 8 x 512 tokens a request, instant answers (median of 3): ${f(rate)} requests/s (${f(rate * 4)} pairs/s), client CPU ${f(median(ms.map((m) => m.cpuMsPerRequest)), 3)} ms/request`,
          );
        }
      } finally {
        await stop(child);
      }
    }
    log(
      `load after: ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
