// The consistency section of the report (html, md, metrics.json) from a consistency document built by the
// engine on the spec's hand cases (consistency spec section 8): each chart followed by its table, the
// hand-case numbers shown, hostile annotator names inert, and metrics.json valid against the shipped schema.
import Ajv from 'ajv';
import { Window } from 'happy-dom';
import { describe, expect, it } from 'vitest';
import { runConsistency, type ConsistencyAnnotator } from '../../src/core/consistency';
import { renderHtml, renderMarkdown, toMetricsJson, type ConsistencyReport } from '../../src/core/report';
import schema from '../../src/core/report/metrics-report.schema.json';
import { nodeCspHash } from '../../src/app/report';
import { fixture, HOSTILE_NAME, strictHtmlProblems } from './fixture';

const f64 = (xs: number[]) => Float64Array.from(xs);

/** Spec section 8: the order case's six pairs as judge HOSTILE_NAME; the groups case's four annotators on the first three pairs. */
function consistencyDoc(): ConsistencyReport {
  const n = 6;
  const judge: ConsistencyAnnotator = {
    name: HOSTILE_NAME,
    kind: 'llm-judge',
    group: null,
    preference: new Int8Array(n),
    present: new Uint8Array(n).fill(1),
    twoOrder: {
      nPairs: n,
      order0: f64([0.7, 0.2, 0.1, 0.6, 0.3, 0.1, 0.2, 0.7, 0.1, 0.1, 0.1, 0.8, 0.5, 0.4, 0.1, 0.3, 0.3, 0.4]),
      order1: f64([0.2, 0.7, 0.1, 0.8, 0.1, 0.1, 0.3, 0.6, 0.1, 0.1, 0.2, 0.7, 0.45, 0.45, 0.1, 0.2, 0.6, 0.2]),
    },
  };
  const voter = (name: string, group: string, votes: (number | null)[]): ConsistencyAnnotator => ({
    name,
    kind: 'human',
    group,
    preference: Int8Array.from([...votes, null, null, null].map((v) => v ?? 0)),
    present: Uint8Array.from([...votes, null, null, null].map((v) => (v === null ? 0 : 1))),
  });
  const annotators = [
    judge,
    voter('a1', 'EU', [1, 1, -1]),
    voter('a2', 'EU', [1, 0, null]),
    voter('a3', 'US', [-1, 1, -1]),
    voter('a4', 'US', [-1, 1, 1]),
  ];
  return {
    ...runConsistency(n, annotators, { reference: 'human', epsilons: [0.1], deltas: [0.2], beta: 0.1, seed: 0 }),
    dataset: 'hand',
    run_id: 3,
  };
}

describe('the consistency section of a report', () => {
  const { model } = fixture({ hostile: true });
  model.consistency = consistencyDoc();
  const html = renderHtml(model, { hash: nodeCspHash });
  const w = new Window();
  w.document.write(html);
  const doc = w.document as unknown as Document;

  it('html: the order-pattern and group charts, each followed by its table, with the hand-case numbers', () => {
    expect(strictHtmlProblems(html)).toEqual([]);
    for (const id of ['consistency-order', 'consistency-groups']) {
      const svg = doc.querySelector(`svg[data-chart="${id}"]`);
      expect(svg, id).not.toBeNull();
      expect(doc.querySelector(`table[data-chart-table="${id}"]`), `table for ${id}`).not.toBeNull();
    }
    const order = doc.querySelector('table[data-chart-table="consistency-order"]')!;
    const cells = Array.from(order.querySelectorAll('tbody tr td, tbody tr th')).map((c) => c.textContent);
    // PC 2/6, conflict 4/6, primacy 2/6, recency 2/6, PF 0; patterns AB 1, BA 0, CC 1, AA 1, AC 1, CA 0, BB 1, BC 0, CB 1
    expect(cells).toEqual([
      HOSTILE_NAME,
      '6',
      '0',
      '0.333',
      '0.667',
      '0.333',
      '0.333',
      '0.000',
      '1',
      '0',
      '1',
      '1',
      '1',
      '0',
      '1',
      '0',
      '1',
      '2',
      '1',
      '2',
    ]);
    const groups = Array.from(doc.querySelectorAll('table[data-chart-table="consistency-groups"] tbody td')).map(
      (c) => c.textContent,
    );
    expect(groups).toEqual(['0.5833', '0.4167', '0.1667', '0.3333']); // GDI, null mean, excess, p = 2/6
    // Not applicable here (no reward models, no policy): said, not hidden.
    expect(doc.body.textContent).toMatch(/the reference annotator "human" has no preferences/);
    expect(doc.body.textContent).toMatch(/no policy model with log-likelihoods/);
  });

  it('html: the hostile judge name is text, never markup', () => {
    expect(doc.querySelectorAll('svg [onload], [onerror]').length).toBe(0);
    expect(html).not.toContain('<svg onload');
    expect(doc.body.textContent).toContain(HOSTILE_NAME);
  });

  it('markdown: the same sections, each chart an SVG file followed by its table', () => {
    const out = renderMarkdown(model);
    for (const h of [
      'Order consistency of LLM judges',
      'Multiplicity across model annotators',
      'Ranking accuracy and internal consistency',
      'Inconsistency between annotator groups',
    ]) {
      expect(out.markdown).toContain(`## ${h}`);
    }
    expect(out.files.map((f) => f.path)).toEqual(
      expect.arrayContaining(['charts/consistency-order.svg', 'charts/consistency-groups.svg']),
    );
    const at = out.markdown.indexOf('](charts/consistency-order.svg)');
    expect(out.markdown.slice(at, at + 200)).toMatch(/\n\n\*Order patterns and position consistency per judge\*/);
  });

  it('metrics.json carries the consistency document and validates against the schema', () => {
    const json = JSON.parse(JSON.stringify(toMetricsJson(model)));
    const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
    expect(validate(json), JSON.stringify(validate.errors)).toBe(true);
    expect(json.consistency.schema).toBe('discretion-consistency/1');
    expect(json.consistency.group_inconsistency.gdi).toBeCloseTo(0.5833, 4);
    expect(json.consistency.order_consistency[0].annotator).toBe(HOSTILE_NAME);
  });
});
