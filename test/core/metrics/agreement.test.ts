// Agreement statistics pinned to published worked examples (each expected value is the published one; the
// sources are cited per test).
import { describe, expect, it } from 'vitest';
import {
  AgreementAccumulator,
  agreementStatistics,
  cohenKappa,
  cohenKappaFromTable,
  fleissKappa,
  fleissKappaFromCounts,
  krippendorffAlphaNominal,
  percentAgreement,
  percentAgreementFromCounts,
} from '../../../src/core/metrics';

// Wikipedia, "Cohen's kappa", worked example: 50 grant proposals read by readers A and B.
// Both "yes" 20, A yes / B no 5, A no / B yes 10, both "no" 15. p_o = 0.7, p_e = 0.5, kappa = 0.4.
const COHEN_TABLE = [20, 5, 10, 15]; // rows: A (yes, no); columns: B (yes, no)
function cohenCodes(): { x: number[]; y: number[] } {
  const x: number[] = [];
  const y: number[] = [];
  const cells: [number, number, number][] = [
    [0, 0, 20],
    [0, 1, 5],
    [1, 0, 10],
    [1, 1, 15],
  ];
  for (const [a, b, n] of cells)
    for (let i = 0; i < n; i++) {
      x.push(a);
      y.push(b);
    }
  return { x, y };
}

// Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters, 5 categories (counts per subject).
// Published: P-bar = 0.378, P-bar_e = 0.213, kappa = 0.210.
// prettier-ignore
const FLEISS = [
  0, 0, 0, 0, 14,
  0, 2, 6, 4, 2,
  0, 0, 3, 5, 6,
  0, 3, 9, 2, 0,
  2, 2, 8, 1, 1,
  7, 7, 0, 0, 0,
  3, 2, 6, 3, 0,
  2, 5, 3, 2, 2,
  6, 5, 2, 1, 0,
  0, 2, 2, 3, 7,
];

/** Expand an items x K count table into codes (items x raters), raters assigned in category order. */
function codesFromCounts(counts: number[], nItems: number, K: number, nRaters: number): Int32Array {
  const codes = new Int32Array(nItems * nRaters).fill(-1);
  for (let u = 0; u < nItems; u++) {
    let r = 0;
    for (let c = 0; c < K; c++) for (let t = 0; t < counts[u * K + c]!; t++) codes[u * nRaters + r++] = c;
  }
  return codes;
}

// Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability", section C ("nominal data, any number of
// observers, missing data"): 4 observers x 12 units, values 1..5, "." missing. Published alpha (nominal) = 0.743.
const NA = null;
// prettier-ignore
const KRIPP: (number | null)[][] = [
  /* A */ [1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA],
  /* B */ [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, 3],
  /* C */ [NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NA],
  /* D */ [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA],
];
function krippCodes(): Int32Array {
  const units = 12;
  const raters = 4;
  const codes = new Int32Array(units * raters);
  for (let u = 0; u < units; u++)
    for (let r = 0; r < raters; r++) codes[u * raters + r] = KRIPP[r]![u] === null ? -1 : KRIPP[r]![u]! - 1;
  return codes;
}

describe("Cohen's kappa", () => {
  it('Wikipedia 50-proposal example: kappa = 0.4', () => {
    expect(cohenKappaFromTable(COHEN_TABLE, 2)).toBeCloseTo(0.4, 12);
    const { x, y } = cohenCodes();
    expect(cohenKappa(x, y, 2)).toBeCloseTo(0.4, 12);
  });

  it('items missing either rating are skipped', () => {
    const { x, y } = cohenCodes();
    expect(cohenKappa([...x, -1, 0], [...y, 1, -1], 2)).toBeCloseTo(0.4, 12);
  });
});

describe('percent agreement', () => {
  it('Wikipedia Cohen example: p_o = 0.7 (35 of 50 proposals)', () => {
    const { x, y } = cohenCodes();
    const codes = new Int32Array(100);
    x.forEach((v, i) => (codes[2 * i] = v));
    y.forEach((v, i) => (codes[2 * i + 1] = v));
    expect(percentAgreement(codes, 50, 2, 2)).toBeCloseTo(0.7, 12);
  });

  it('Wikipedia Fleiss example: mean pairwise agreement P-bar = 0.378', () => {
    expect(percentAgreementFromCounts(FLEISS, 10, 5)).toBeCloseTo(0.378, 3);
  });
});

describe("Fleiss' kappa", () => {
  it('Wikipedia worked example (10 subjects, 14 raters, 5 categories): kappa = 0.210', () => {
    expect(fleissKappaFromCounts(FLEISS, 10, 5)).toBeCloseTo(0.21, 3);
    expect(fleissKappa(codesFromCounts(FLEISS, 10, 5, 14), 10, 14, 5)).toBeCloseTo(0.21, 3);
  });

  it('uses only the items rated by every rater', () => {
    const codes = codesFromCounts(FLEISS, 10, 5, 14);
    const extra = new Int32Array(14).fill(-1);
    extra[0] = 0;
    extra[1] = 4; // an 11th item with only two ratings: not complete, left out
    const all = new Int32Array(codes.length + 14);
    all.set(codes);
    all.set(extra, codes.length);
    expect(fleissKappa(all, 11, 14, 5)).toBeCloseTo(fleissKappaFromCounts(FLEISS, 10, 5), 14);
  });
});

describe("Krippendorff's alpha (nominal, missing data)", () => {
  it('Krippendorff (2011) nominal example with missing values: alpha = 0.743', () => {
    expect(krippendorffAlphaNominal(krippCodes(), 12, 4, 5)).toBeCloseTo(0.743, 3);
  });
});

describe('agreementStatistics (profiles + bootstrap)', () => {
  it('reproduces the published point estimates and gives deterministic bootstrap intervals', () => {
    const s = agreementStatistics(krippCodes(), 12, 4, 5, { bootstrap: 500, seed: 7, stream: 'k' });
    expect(s.krippendorffAlpha.value).toBeCloseTo(0.743, 3);
    expect(s.krippendorffAlpha.nItems).toBe(11); // unit 12 has a single value: not pairable
    const boot = s.krippendorffAlpha.boot!;
    expect(boot.n).toBe(500);
    expect(boot.lo).toBeLessThanOrEqual(s.krippendorffAlpha.value);
    expect(boot.hi).toBeGreaterThanOrEqual(s.krippendorffAlpha.value);
    const again = agreementStatistics(krippCodes(), 12, 4, 5, { bootstrap: 500, seed: 7, stream: 'k' });
    expect(again).toEqual(s);
    const other = agreementStatistics(krippCodes(), 12, 4, 5, { bootstrap: 500, seed: 8, stream: 'k' });
    expect(other.krippendorffAlpha.boot!.mean).not.toBe(boot.mean);

    const f = agreementStatistics(codesFromCounts(FLEISS, 10, 5, 14), 10, 14, 5);
    expect(f.fleissKappa.value).toBeCloseTo(0.21, 3);
    expect(f.percentAgreement.value).toBeCloseTo(0.378, 3);
    expect(f.fleissKappa.boot).toBeNull();

    const { x, y } = cohenCodes();
    const codes = new Int32Array(100);
    x.forEach((v, i) => (codes[2 * i] = v));
    y.forEach((v, i) => (codes[2 * i + 1] = v));
    const c = agreementStatistics(codes, 50, 2, 2, { bootstrap: 200 });
    expect(c.cohenKappa).toHaveLength(1);
    expect(c.cohenKappa[0]!.value).toBeCloseTo(0.4, 12);
    expect(c.percentAgreement.value).toBeCloseTo(0.7, 12);
  });
});

describe('AgreementAccumulator', () => {
  it('adding items in batches equals one call over all of them', () => {
    const codes = krippCodes(); // 12 units x 4 raters
    const acc = new AgreementAccumulator(4, 5);
    acc.add(codes.subarray(0, 5 * 4), 5);
    acc.add(codes.subarray(5 * 4), 7);
    expect(acc.summary({ bootstrap: 100, seed: 1 })).toEqual(
      agreementStatistics(codes, 12, 4, 5, { bootstrap: 100, seed: 1 }),
    );
  });
});
