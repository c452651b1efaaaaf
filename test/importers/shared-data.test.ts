// Imports the real HH-RLHF harmless-base test set and the paper's published judgments from
// ../shared/data (read, never copied). Expected values are worked by hand from the raw CSV rows
// quoted in each case and the rules of spec section 2.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { importDataset } from '../../src/importers/datasets';
import { importJudgments } from '../../src/importers/judgments';
import { importPrincipleList } from '../../src/importers/principles';
import type { Store } from '../../src/store';
import { AD, HH_FILE, openTempStore, sharedDataSkipReason } from '../support/helpers';

const skip = sharedDataSkipReason();

describe.skipIf(!!skip)('HH-RLHF harmless-base test set and published judgments', () => {
  let store: Store;
  beforeAll(async () => {
    store = (await openTempStore()).store;
    await importDataset(store, { format: 'hh-rlhf', file: HH_FILE, dataset: 'hh' });
    await importPrincipleList(store, {
      file: join(AD, 'principles', 'ccai_seed.txt'),
      shortFile: join(AD, 'principles', 'ccai_seed_short.txt'),
      name: 'ccai-seed',
    });
  }, 120_000);

  const pair = async (pairIdx: number) => (await store.listPairs((await store.requireDataset('hh')).id, pairIdx, 1))[0];
  const prefOf = async (annotator: string, pairIdx: number) => {
    const a = await store.requireAnnotator(annotator);
    const rows = await store.overallPreferences((await store.requireDataset('hh')).id);
    return rows.find((r) => r.annotatorId === a.id && r.pairIdx === pairIdx)?.value;
  };

  it('yields 2,312 pairs, each with the human preference +1 (y1 = chosen)', async () => {
    const d = await store.requireDataset('hh');
    expect(await store.countPairs(d.id)).toBe(2312);
    const human = await store.requireAnnotator('human');
    const prefs = (await store.overallPreferences(d.id)).filter((p) => p.annotatorId === human.id);
    expect(prefs.length).toBe(2312);
    expect(prefs.every((p) => p.value === 1)).toBe(true);
    // the hash of the .gz file's own (compressed) bytes, as `sha256sum` prints it
    expect(d.contentHash).toBe(createHash('sha256').update(readFileSync(HH_FILE)).digest('hex'));
  });

  it('splits the 5 pairs whose responses contain "Human:"/"Assistant:" text at the shared context', async () => {
    // Found by comparing the longest-common-prefix split with the naive last-"Assistant:" split.
    const p1254 = await pair(1254);
    expect(p1254.y1.startsWith('No. Men who impersonate stereotypical women are called drag kings.')).toBe(true);
    expect(p1254.y1).toContain('Human: Then');
    expect(p1254.y0.startsWith('A drag king is the opposite of a drag queen')).toBe(true);
    const p1688 = await pair(1688);
    expect(p1688.y1.startsWith('Human: I think there')).toBe(true);
    expect(p1688.y0.startsWith("I'd suggest that you do it between 3 AM and 7 AM.")).toBe(true);
    expect((await pair(1950)).y1.startsWith('Hey human, if you want to be a criminal')).toBe(true);
    const p1952 = await pair(1952);
    expect(p1952.y1.startsWith('Alrighty, I’ll do my best, here’s the key:\n\nAssistant:')).toBe(true);
    expect(p1952.y0.startsWith('You mean a password, right?')).toBe(true);
    const p2036 = await pair(2036);
    expect(p2036.y1.startsWith('Human: Okay, so once you have a suitable tool')).toBe(true);
    expect(p2036.y0.startsWith('Human: Okay, so first we should use that tool')).toBe(true);
    for (const p of [p1254, p1688, p1952, p2036]) expect(p.prompt.endsWith('\n\nAssistant:')).toBe(true);
  });

  it('keeps the 4 empty chosen final turns empty', async () => {
    for (const pairIdx of [86, 516, 925, 1103]) {
      const p = await pair(pairIdx);
      expect(p.y1).toBe('');
      expect(p.y0.length).toBeGreaterThan(0);
    }
  });

  it('derives oracle preferences by hand-checked rows, including NA-dominant and exact ties', async () => {
    await importJudgments(store, {
      format: 'oracle',
      file: join(AD, 'principle_specific_preferences', 'hh_test_seed_4ob.csv'),
      dataset: 'hh',
      principles: 'ccai-seed',
      annotator: 'gpt-4o',
    });
    const d = await store.requireDataset('hh');
    const list = await store.requirePrincipleList('ccai-seed');
    const cells = await store.principlePreferences(d.id, list.id);
    expect(cells.length).toBe(2312 * 21);
    const cell = (pairIdx: number, position: number) =>
      cells.find((c) => c.pairIdx === pairIdx && c.position === position)?.value;
    // row 0, principle 0: A 8.4e-5, B 4.6e-3, NA 0.995 -> NA dominates -> 0
    expect(cell(0, 0)).toBe(0);
    // row 1, principle 0: A 0.9990, B 9.6e-5, NA 9.1e-4; order 0 (A = y1) -> +1
    expect(cell(1, 0)).toBe(1);
    // row 5, principle 9: A 0.114, B 0.741, NA 0.146 -> B = y0 wins -> -1
    expect(cell(5, 9)).toBe(-1);
    // row 270, principle 9: A = B = 0.4948049175763269, NA 0.009 -> exact tie -> 0
    expect(cell(270, 9)).toBe(0);
    // row 1, principle 17: A = B = 6.26e-4, NA 0.9986 -> 0
    expect(cell(1, 17)).toBe(0);
  });

  it("derives reward-model preferences, with Mistral-7B's 438 exact ties as missing", async () => {
    const dir = join(AD, 'reward_model_preferences');
    await importJudgments(store, {
      format: 'rewards',
      file: join(
        dir,
        'Mistral7B_reward_model_trained_in-hh-harmlesness_evaluated_in-hh-harmlesness_partition-test.csv',
      ),
      dataset: 'hh',
      annotator: 'mistral-7b-rm',
    });
    await importJudgments(store, {
      format: 'rewards',
      file: join(
        dir,
        'Llama3-8B_reward_model_trained_in-hh-harmlesness_evaluated_in-hh-harmlesness_partition-test.csv',
      ),
      dataset: 'hh',
      annotator: 'llama3-8b-rm',
    });
    const s = await importJudgments(store, {
      format: 'rewards',
      file: join(dir, 'reward_preference_data_reward_model-most_downloaded_hh_in_dataset_hh_partition-None.csv'),
      dataset: 'hh',
      annotator: 'most-downloaded-rm',
      ignoreUnknownRows: true,
    });
    expect(s.notes[0]).toContain('6240 rows'); // 8,552 HH test rows - 2,312 harmless-base
    const d = await store.requireDataset('hh');
    const m = await store.requireAnnotator('mistral-7b-rm');
    const rows = (await store.overallPreferences(d.id)).filter((r) => r.annotatorId === m.id);
    expect(rows.filter((r) => r.value === null).length).toBe(438);
    // row 0: reward_a 0.005096 > reward_b -2.703 -> +1; row 3: -1.9140625 == -1.9140625 -> missing; row 4: 0.8789 < 1.1094 -> -1
    expect(await prefOf('mistral-7b-rm', 0)).toBe(1);
    expect(await prefOf('mistral-7b-rm', 3)).toBeNull();
    expect(await prefOf('mistral-7b-rm', 4)).toBe(-1);
  });

  it('derives two-order LLM judge preferences (DeepSeek-V3, row_id last in its file)', async () => {
    await importJudgments(store, {
      format: 'judge',
      file: join(AD, 'llm_preferences', 'hh_test_generic_deepseekv3.csv'),
      dataset: 'hh',
      annotator: 'deepseek-v3',
    });
    // row 0: order 0 NA 0.934 dominates -> missing
    expect(await prefOf('deepseek-v3', 0)).toBeNull();
    // row 1: order 0 A 1.0 > B (s0 = +1); order 1 B 1.0 > A (s1 = -1) -> (1 - (-1))/2 = +1
    expect(await prefOf('deepseek-v3', 1)).toBe(1);
    // row 2: s0 = -1 (B 0.999), s1 = +1 (A 0.999) -> -1
    expect(await prefOf('deepseek-v3', 2)).toBe(-1);
    // row 4: s0 = +1 (A 0.691 > B 0.309), s1 = +1 (A 0.999) -> 0 (position bias)
    expect(await prefOf('deepseek-v3', 4)).toBe(0);
  });

  it('derives policy-model preferences from the log-likelihoods', async () => {
    const file = join(
      AD,
      'llm_preferences',
      'LLM_rewards_model_no_NA-Llama3-8B_data_trained-hh-harmlesness_dataset_eval-hh-harmlesness.csv',
    );
    await importJudgments(store, { format: 'loglik', file, dataset: 'hh', annotator: 'llama3-8b-policy' });
    // row 0: log_prob_chat_chosen -880 > log_prob_chat_rejected -940 -> +1
    expect(await prefOf('llama3-8b-policy', 0)).toBe(1);
  });
});
