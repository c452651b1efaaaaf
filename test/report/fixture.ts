// A report built from the hand case of spec section 9 (4 principles, 8 pairs, annotators a and b, oracle
// source), with hostile text in every place dataset text can reach: pair texts, source ids, the dataset name,
// a principle label and an annotator name.
import { analyzeDiscretion, type DiscretionResult } from '../../src/core/metrics';
import {
  buildReportModel,
  type PairData,
  type PairText,
  type ReportModel,
  type ReportProvenance,
} from '../../src/core/report';

export const HOSTILE =
  '</script><script>alert(1)</script><svg onload=alert(2)><img src=x onerror=alert(3)>]]>{{7*7}}<!-- & "q" \'s\' `b` | *x* [l](javascript:alert(4))';
export const HOSTILE_NAME = 'b</script><svg onload=alert(5)>{{x}}';

export const M = 4;
export const N = 8;
// prettier-ignore
export const C = new Int8Array([
  +1, 0, 0, 0,
  +1, +1, 0, 0,
  -1, 0, -1, 0,
  +1, -1, 0, 0,
  0, +1, -1, 0,
  +1, 0, -1, +1,
  0, 0, 0, 0,
  -1, +1, 0, 0,
]);
export const A = new Int8Array([+1, -1, -1, +1, +1, -1, +1, +1]);
export const B = new Int8Array([+1, +1, 0, -1, -1, -1, 0, -1]);

export const PRINCIPLES = [
  { id: 'c0', short: 'c0', text: 'Principle zero' },
  { id: 'c1', short: `c1 ${HOSTILE}`, text: 'Principle one' },
  { id: 'c2', short: 'c2', text: 'Principle two' },
  { id: 'c3', short: 'c3', text: 'Principle three' },
];

export function fixture(opts: { hostile?: boolean } = {}): {
  model: ReportModel;
  pairs: PairData;
  metrics: DiscretionResult;
} {
  const hostile = opts.hostile ?? true;
  const bName = hostile ? HOSTILE_NAME : 'b';
  const principles = hostile ? PRINCIPLES : PRINCIPLES.map((p) => ({ ...p, short: p.id }));
  const metrics = analyzeDiscretion({
    principles,
    nPairs: N,
    annotators: [
      { name: 'a', kind: 'human', overall: A },
      { name: bName, kind: 'reward-model', overall: B },
    ],
    principleSource: { kind: 'oracle', name: 'oracle', matrix: C },
    reference: 'a',
    bootstrap: 50,
    daBootstrap: 200,
    agreementBootstrap: 100,
    seed: 7,
  });
  const pairs: PairData = {
    nPairs: N,
    annotators: [
      { name: 'a', overall: A },
      { name: bName, overall: B },
    ],
    sources: [{ label: 'oracle', matrix: C }],
    annotatorSource: [0, 0],
    sourceIds: Array.from({ length: N }, (_, k) =>
      hostile && k === 1 ? `=HYPERLINK("http://x")${HOSTILE}` : `line-${k}`,
    ),
  };
  const texts = new Map<number, PairText>();
  for (let k = 0; k < N; k++)
    texts.set(k, {
      sourceId: pairs.sourceIds![k]!,
      prompt: hostile ? `Human: ${HOSTILE}` : `Human: prompt ${k}`,
      y0: hostile ? `y0 ${HOSTILE}` : `y0 ${k}`,
      y1: hostile ? `y1 ${HOSTILE}` : `y1 ${k}`,
    });
  const provenance: ReportProvenance = {
    tool: { name: 'discretion-workbench', version: '0.1.0' },
    created: '2025-01-02T03:04:05.000Z',
    dataset: { name: hostile ? `hand ${HOSTILE}` : 'hand', content_hash: 'a'.repeat(64), n_pairs: N },
    principle_list: { name: 'hand-list', version: 1, content_hash: 'b'.repeat(64) },
    principle_source: { kind: 'oracle', name: 'oracle' },
    reference: 'a',
    annotators: [
      { name: 'a', kind: 'human', source_file: 'a.jsonl', file_sha256: null },
      {
        name: bName,
        kind: 'reward-model',
        source_file: hostile ? `${HOSTILE}.csv` : 'b.csv',
        file_sha256: 'c'.repeat(64),
      },
    ],
    bootstrap: { seed: 7, dd_resamples: 50, da_resamples: 200, agreement_resamples: 100 },
    metric_run: null,
  };
  const model = buildReportModel({ metrics, provenance, principles, pairs, texts });
  return { model, pairs, metrics };
}

const VOID = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);

/**
 * A strict well-formedness check, independent of the renderer: every tag is balanced and properly nested
 * (void elements excepted, SVG elements may self-close), attributes are name="value" with no raw < or " inside,
 * text holds no raw '<', and entities are the five XML ones or numeric. Returns the problems found.
 */
export function strictHtmlProblems(html: string): string[] {
  const problems: string[] = [];
  const stack: string[] = [];
  let i = 0;
  const rawText = new Set(['script', 'style']);
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    const text = html.slice(i, lt === -1 ? html.length : lt);
    const top = stack[stack.length - 1];
    for (const m of text.matchAll(/&([^;\s]*);?/g)) {
      if (!/^&(amp|lt|gt|quot|#39|#\d+|#x[0-9a-f]+);$/i.test(m[0]) && !rawText.has(top ?? ''))
        problems.push(`bad entity ${m[0].slice(0, 12)}`);
    }
    if (lt === -1) break;
    if (html.startsWith('<!DOCTYPE', lt)) {
      i = html.indexOf('>', lt) + 1;
      continue;
    }
    if (html.startsWith('<!--', lt)) {
      problems.push('comment');
      i = html.indexOf('-->', lt) + 3;
      continue;
    }
    const close = html.indexOf('>', lt);
    if (close === -1) {
      problems.push('unterminated tag');
      break;
    }
    const tag = html.slice(lt, close + 1);
    const m = /^<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*="[^"<]*")*)\s*(\/?)>$/.exec(tag);
    if (!m) {
      problems.push(`malformed tag ${tag.slice(0, 60)}`);
      i = close + 1;
      continue;
    }
    const [, slash, nameRaw, , selfClose] = m;
    const name = nameRaw!.toLowerCase();
    if (slash) {
      const open = stack.pop();
      if (open !== name) problems.push(`</${name}> closes <${open}>`);
    } else if (!VOID.has(name) && !selfClose) {
      stack.push(name);
      if (rawText.has(name)) {
        const end = html.indexOf(`</${name}`, close);
        if (end === -1) {
          problems.push(`unterminated <${name}>`);
          break;
        }
        i = end;
        continue;
      }
    }
    i = close + 1;
  }
  if (stack.length) problems.push(`unclosed: ${stack.join(' > ')}`);
  return problems;
}
