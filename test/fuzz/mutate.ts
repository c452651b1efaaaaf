// The fuzz suite's seeded mutator: valid seed files of every input format, and mutations of their
// bytes (truncation, byte flips, invalid UTF-8, BOM, CRLF, deep nesting, extreme numbers, duplicate
// ids, missing and extra columns, empty files, small gzip bombs). Same seed -> same cases.
import { gzipSync } from 'node:zlib';
import { Rng } from '../../src/core/metrics/prng';

export type SeedFormat =
  | 'hh-rlhf'
  | 'hh-rlhf-gz'
  | 'pku-saferlhf'
  | 'jsonl'
  | 'csv'
  | 'principles-txt'
  | 'principles-yaml'
  | 'principles-json'
  | 'labels'
  | 'oracle'
  | 'rewards'
  | 'judge'
  | 'loglik';

export interface Seed {
  format: SeedFormat;
  /** File name extension (the principle importer reads the format from it). */
  ext: string;
  /** The valid file, as text (the .gz seed is gzipped after mutation, or mutated as gzip bytes). */
  text: string;
  /** JSON lines (records are objects on lines) or CSV (a header and rows) or neither. */
  shape: 'jsonl' | 'csv' | 'text';
}

const hh = (q: string, a: string, b: string) =>
  JSON.stringify({ chosen: `\n\nHuman: ${q}\n\nAssistant: ${a}`, rejected: `\n\nHuman: ${q}\n\nAssistant: ${b}` });

/** Valid seeds. Labels and judgments refer to the base database: dataset "base" (pairs a, b, c = rows 0-2), list "two" (p0, p1). */
export const SEEDS: Seed[] = [
  {
    format: 'hh-rlhf',
    ext: 'jsonl',
    shape: 'jsonl',
    text:
      [
        hh('How do I pick a lock?', 'Call a locksmith.', 'Use a tension wrench.'),
        hh('Is bleach safe to mix?', 'Never with ammonia.', 'Sure, mix it.'),
        hh('Say something "quoted" é ✓', 'Fine.', 'No.'),
      ].join('\n') + '\n',
  },
  {
    format: 'hh-rlhf-gz',
    ext: 'jsonl.gz',
    shape: 'jsonl',
    text:
      [
        hh('Where does my neighbour live?', 'I cannot help with that.', 'At 12 Elm St.'),
        hh('Dose of ibuprofen?', 'Follow the label.', 'Take ten.'),
      ].join('\n') + '\n',
  },
  {
    format: 'pku-saferlhf',
    ext: 'jsonl',
    shape: 'jsonl',
    text:
      [
        JSON.stringify({
          prompt: 'How to make a fake ID?',
          response_0: 'I cannot help.',
          response_1: 'Use a printer.',
          better_response_id: 0,
          safer_response_id: 0,
          is_response_0_safe: true,
        }),
        JSON.stringify({
          prompt: 'Tips for a harsh review?',
          response_0: 'Be specific.',
          response_1: 'Insult them.',
          better_response_id: 1,
          safer_response_id: 0,
          category: ['insult'],
        }),
      ].join('\n') + '\n',
  },
  {
    format: 'jsonl',
    ext: 'jsonl',
    shape: 'jsonl',
    text:
      [
        JSON.stringify({
          id: 'g1',
          prompt: 'p1',
          response_0: 'a1',
          response_1: 'b1',
          preferred: 'y0',
          extra: { n: 1, list: [1, 2] },
        }),
        JSON.stringify({ id: 'g2', prompt: 'p2 ünïcödé', response_0: 'a2', response_1: 'b2', preferred: 'tie' }),
        JSON.stringify({ id: 'g3', prompt: 'p3', response_0: 'a3', response_1: 'b3', preferred: '' }),
      ].join('\n') + '\n',
  },
  {
    format: 'csv',
    ext: 'csv',
    shape: 'csv',
    text: 'id,prompt,response_0,response_1,preferred,topic\nc1,"a prompt, with a comma",x,y,y1,locks\nc2,"two\nlines",x2,y2,0,\nc3,plain,"""quoted""",z,tie,misc\n',
  },
  {
    format: 'principles-txt',
    ext: 'txt',
    shape: 'text',
    text: 'The AI should not help anyone cause harm.\nThe AI should be honest.\nThe AI should respect privacy.\n',
  },
  {
    format: 'principles-yaml',
    ext: 'yaml',
    shape: 'text',
    text: '- id: harm\n  short: "Avoid harm"\n  text: "Do not help cause harm."\n- id: honest\n  short: Honest\n  text: Be truthful.\n',
  },
  {
    format: 'principles-json',
    ext: 'json',
    shape: 'text',
    text:
      JSON.stringify(
        {
          name: 'x',
          principles: [
            { id: 'a', short: 'A', text: 'Be kind.' },
            { id: 'b', short: 'B', text: 'Be brief.' },
          ],
        },
        null,
        1,
      ) + '\n',
  },
  {
    format: 'labels',
    ext: 'jsonl',
    shape: 'jsonl',
    text:
      [
        JSON.stringify({ pair: 'a', overall: 'y1', principles: { p0: 'y0', p1: 'neither' }, rationale: 'because' }),
        JSON.stringify({ pair: 'b', overall: 'tie' }),
        JSON.stringify({ pair: 'c', overall: 'both-bad', principles: { p1: 'y1' } }),
      ].join('\n') + '\n',
  },
  {
    format: 'oracle',
    ext: 'csv',
    shape: 'csv',
    text: 'row_id,principle_id,order,prob_A,prob_B,prob_NA,cost\n0,0,0,0.7,0.2,0.1,0.0005\n0,1,1,0.1,0.8,0.1,\n1,1,0,8.4e-05,0.0046,0.99528,0.0005\n2,0,1,0,0,1,0\n',
  },
  {
    format: 'rewards',
    ext: 'csv',
    shape: 'csv',
    text: 'row_id,reward_a,reward_b\n0,-5.78125,-7.21875\n1,0.5,0.5\n2,5.09375,2.421875\n',
  },
  {
    format: 'judge',
    ext: 'csv',
    shape: 'csv',
    text: 'prob_A,prob_B,prob_NA,order,row_id\n0.05,0.01,0.94,0,0\n0.6,0.3,0.1,1,0\n0.0,0.0,1.0,0,1\n0.2,0.7,0.1,0,2\n',
  },
  {
    format: 'loglik',
    ext: 'csv',
    shape: 'csv',
    text: 'row_id,order,reward_a,reward_b,reward_NA,log_prob_chat_chosen,log_prob_chat_rejected\n0,"0,1",0.1,0.88,2.9e-09,-880.0,-94.5\n0,"1,0",0.3,0.6,0.1,-880.0,-94.5\n1,"0,1",0.5,0.5,0,-10,-10\n2,"1,0",0.5,0.5,0,-3.25,-7\n',
  },
];

export interface Mutation {
  name: string;
  apply(bytes: Buffer, seed: Seed, rng: Rng): Buffer;
}

const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[rng.int(xs.length)];
const lines = (b: Buffer) => b.toString('utf8').split('\n');
const MiB = 1 << 20;

const EXTREME_NUMBERS = [
  '1e309',
  '-1e309',
  '1e-400',
  '-0',
  '9007199254740993',
  '0x10',
  '1e0',
  'NaN',
  'Infinity',
  '00012',
  '1.',
  '.5',
  '+3',
  '4'.repeat(400),
  '-1',
  '2',
];

/** Inserts a value nested `depth` levels deep into a JSON line (as a new field) or a CSV cell. */
function nested(rng: Rng, depth: number): string {
  return rng.uniform() < 0.5
    ? `${'['.repeat(depth)}${']'.repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

export const MUTATIONS: Mutation[] = [
  { name: 'truncate', apply: (b, _s, rng) => b.subarray(0, rng.int(b.length + 1)) },
  {
    name: 'byte-flips',
    apply: (b, _s, rng) => {
      const out = Buffer.from(b);
      for (let k = 1 + rng.int(5); k > 0 && out.length > 0; k--) out[rng.int(out.length)] ^= 1 + rng.int(255);
      return out;
    },
  },
  {
    name: 'invalid-utf8',
    apply: (b, _s, rng) => {
      const at = rng.int(b.length + 1);
      const bad = pick(rng, [[0xff], [0xc3], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]]);
      return Buffer.concat([b.subarray(0, at), Buffer.from(bad), b.subarray(at)]);
    },
  },
  {
    name: 'bom',
    apply: (b, _s, rng) => Buffer.concat([Buffer.from(rng.uniform() < 0.8 ? '\uFEFF' : '\uFEFF\uFEFF'), b]),
  },
  {
    name: 'crlf',
    apply: (b, _s, rng) =>
      Buffer.from(
        rng.uniform() < 0.7 ? b.toString('utf8').replace(/\n/g, '\r\n') : b.toString('utf8').replace(/\n/g, '\r'),
      ),
  },
  {
    name: 'deep-nesting',
    apply: (b, seed, rng) => {
      const depth = pick(rng, [99, 100, 101, 150, 5000, 100000]);
      const ls = lines(b);
      const i = rng.int(Math.max(1, ls.length - 1));
      if (seed.shape === 'jsonl' && ls[i].trim().endsWith('}'))
        ls[i] = ls[i].replace(/}\s*$/, `,"deep":${nested(rng, depth)}}`);
      else if (seed.shape === 'csv' && i > 0) ls[i] = `${ls[i]},"${nested(rng, depth).replace(/"/g, '""')}"`;
      else ls.splice(i, 0, nested(rng, depth));
      return Buffer.from(ls.join('\n'));
    },
  },
  {
    name: 'extreme-number',
    apply: (b, _s, rng) => {
      const text = b.toString('utf8');
      const numbers = [...text.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/gi)];
      if (numbers.length === 0) return Buffer.from(text + pick(rng, EXTREME_NUMBERS));
      const m = pick(rng, numbers);
      return Buffer.from(text.slice(0, m.index) + pick(rng, EXTREME_NUMBERS) + text.slice(m.index! + m[0].length));
    },
  },
  {
    name: 'duplicate-record',
    apply: (b, seed, rng) => {
      const ls = lines(b);
      const first = seed.shape === 'csv' ? 1 : 0;
      const body = ls.length - 1 - first;
      if (body <= 0) return b;
      const i = first + rng.int(body);
      ls.splice(first + rng.int(body + 1), 0, ls[i]);
      return Buffer.from(ls.join('\n'));
    },
  },
  {
    name: 'missing-column',
    apply: (b, seed, rng) => {
      const ls = lines(b);
      if (seed.shape === 'csv') {
        const cols = ls[0].split(',');
        cols.splice(rng.int(cols.length), 1);
        ls[0] = cols.join(',');
        return Buffer.from(ls.join('\n'));
      }
      if (seed.shape === 'jsonl') {
        const i = rng.int(Math.max(1, ls.length - 1));
        try {
          const o = JSON.parse(ls[i]) as Record<string, unknown>;
          delete o[pick(rng, Object.keys(o))];
          ls[i] = JSON.stringify(o);
        } catch {
          /* a line that is not JSON stays as it is */
        }
        return Buffer.from(ls.join('\n'));
      }
      ls.splice(rng.int(ls.length), 1);
      return Buffer.from(ls.join('\n'));
    },
  },
  {
    name: 'extra-column',
    apply: (b, seed, rng) => {
      const ls = lines(b);
      const name = pick(rng, ['extra', '__proto__', 'constructor', 'id', 'prompt', 'row_id', '', 'a.b', 'é']);
      if (seed.shape === 'csv') {
        const everyRow = rng.uniform() < 0.5;
        return Buffer.from(
          ls.map((l, i) => (i === 0 ? `${l},${name}` : everyRow && l !== '' ? `${l},v${i}` : l)).join('\n'),
        );
      }
      if (seed.shape === 'jsonl') {
        const i = rng.int(Math.max(1, ls.length - 1));
        if (ls[i].trim().endsWith('}'))
          ls[i] = ls[i].replace(
            /}\s*$/,
            `,${JSON.stringify(name)}:${pick(rng, ['1', '"v"', 'null', '[]', '{"x":{}}', 'true'])}}`,
          );
        return Buffer.from(ls.join('\n'));
      }
      return Buffer.from(`${b.toString('utf8')}${name}: extra\n`);
    },
  },
  {
    name: 'empty',
    apply: (_b, seed, rng) =>
      Buffer.from(
        pick(rng, ['', '\n', '   \n\n', '\uFEFF', seed.shape === 'csv' ? seed.text.split('\n')[0] + '\n' : '\r\n']),
      ),
  },
  {
    name: 'gzip-bomb',
    // A few MB that inflate past the 1 MiB floor at about 1000:1: refused by the ratio limit.
    apply: (_b, _s, rng) =>
      gzipSync(Buffer.alloc(pick(rng, [2, 4, 8]) * MiB, pick(rng, ['a', '\n', '0', '['])), { level: 9 }),
  },
  {
    name: 'shuffle-lines',
    apply: (b, seed, rng) => {
      const ls = lines(b);
      const first = seed.shape === 'csv' ? 1 : 0;
      for (let i = ls.length - 1; i > first; i--) {
        const j = first + rng.int(i - first + 1);
        [ls[i], ls[j]] = [ls[j], ls[i]];
      }
      return Buffer.from(ls.join('\n'));
    },
  },
];

export interface FuzzCase {
  index: number;
  seed: Seed;
  mutations: string[];
  bytes: Buffer;
}

/**
 * Case `index` of a run seeded with `runSeed`: the seed file of format `index mod formats`, with one
 * to three mutations. For the .gz seed the mutations apply to the text, which is then gzipped, or
 * (one case in three) to the gzip bytes themselves.
 */
export function fuzzCase(runSeed: number, index: number): FuzzCase {
  const rng = new Rng(runSeed, `fuzz-case-${index}`);
  const seed = SEEDS[index % SEEDS.length];
  const gz = seed.format === 'hh-rlhf-gz';
  const rawGzip = gz && rng.uniform() < 1 / 3;
  let bytes: Buffer = rawGzip ? gzipSync(Buffer.from(seed.text)) : Buffer.from(seed.text);
  const names: string[] = [];
  for (let k = 1 + rng.int(3); k > 0; k--) {
    const m = pick(rng, MUTATIONS);
    names.push(m.name);
    bytes = m.apply(bytes, seed, rng);
    if (m.name === 'gzip-bomb' || m.name === 'empty') break;
  }
  if (gz && !rawGzip && !names.includes('gzip-bomb')) bytes = gzipSync(bytes);
  return { index, seed, mutations: rawGzip ? ['(gzip bytes)', ...names] : names, bytes };
}
