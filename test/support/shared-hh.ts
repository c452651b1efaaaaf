// The full HH analysis of the paper's published data, as `discretion` CLI calls: the harmless-base
// test set, the 21-principle seed list, the GPT-4o oracle, three reward models, three LLM judges and
// the fine-tuned Llama3-8B policy model's log-likelihoods (8 annotators with the human).
import { join, resolve } from 'node:path';

export const SHARED_DATA = resolve(__dirname, '..', '..', '..', 'shared', 'data');
const AD = join(SHARED_DATA, 'alignment-discretion');
const RM = join(AD, 'reward_model_preferences');
const LLM = join(AD, 'llm_preferences');

export const HH_ANNOTATORS = [
  'human',
  'llama3-8b-rm',
  'mistral-7b-rm',
  'most-downloaded-rm',
  'gpt-4o-judge',
  'deepseek-v3-judge',
  'sonnet-3.5-judge',
  'llama3-8b-policy',
];

export function sharedHHImports(db: string): string[][] {
  const d = ['--db', db];
  return [
    ['import', 'hh-rlhf', join(SHARED_DATA, 'hh-rlhf', 'harmless-base-test.jsonl.gz'), '--dataset', 'hh', ...d],
    [
      'import',
      'principles',
      join(AD, 'principles', 'ccai_seed.txt'),
      '--short',
      join(AD, 'principles', 'ccai_seed_short.txt'),
      '--name',
      'ccai-seed',
      ...d,
    ],
    [
      'import',
      'oracle',
      join(AD, 'principle_specific_preferences', 'hh_test_seed_4ob.csv'),
      '--dataset',
      'hh',
      '--principles',
      'ccai-seed',
      '--annotator',
      'gpt-4o-oracle',
      ...d,
    ],
    [
      'import',
      'rewards',
      join(RM, 'Llama3-8B_reward_model_trained_in-hh-harmlesness_evaluated_in-hh-harmlesness_partition-test.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'llama3-8b-rm',
      ...d,
    ],
    [
      'import',
      'rewards',
      join(RM, 'Mistral7B_reward_model_trained_in-hh-harmlesness_evaluated_in-hh-harmlesness_partition-test.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'mistral-7b-rm',
      ...d,
    ],
    [
      'import',
      'rewards',
      join(RM, 'reward_preference_data_reward_model-most_downloaded_hh_in_dataset_hh_partition-None.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'most-downloaded-rm',
      '--ignore-unknown-rows',
      ...d,
    ],
    ['import', 'judge', join(LLM, 'hh_test_generic_4ob.csv'), '--dataset', 'hh', '--annotator', 'gpt-4o-judge', ...d],
    [
      'import',
      'judge',
      join(LLM, 'hh_test_generic_deepseekv3.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'deepseek-v3-judge',
      ...d,
    ],
    [
      'import',
      'judge',
      join(LLM, 'hh_test_generic_sonnet3.5.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'sonnet-3.5-judge',
      ...d,
    ],
    [
      'import',
      'loglik',
      join(LLM, 'LLM_rewards_model_no_NA-Llama3-8B_data_trained-hh-harmlesness_dataset_eval-hh-harmlesness.csv'),
      '--dataset',
      'hh',
      '--annotator',
      'llama3-8b-policy',
      ...d,
    ],
  ];
}

export const SHARED_HH_METRICS_ARGS = [
  'metrics',
  '--dataset',
  'hh',
  '--principles',
  'ccai-seed',
  '--principle-source',
  'gpt-4o-oracle',
  '--reference',
  'human',
];
