// What the runner's parent side needs about a model folder (no native modules here: the extension
// host imports this): the layout check, the file hashes recorded as provenance, the provider names.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { InputError, UsageError } from '../core/errors';

export const PROVIDERS = ['webgpu', 'cpu', 'cuda'] as const;
export type Provider = (typeof PROVIDERS)[number];
export type ProviderChoice = 'auto' | Provider;
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', ...PROVIDERS];

/** auto: WebGPU when an adapter can be created, else CPU. A named provider is that one only. CUDA only when named. */
export function providerOrder(choice: ProviderChoice): Provider[] {
  return choice === 'auto' ? ['webgpu', 'cpu'] : [choice];
}

export const MODEL_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx'];
/** The chat template kept in a file of its own (transformers >= 4.47 saves it there; chatTemplate.ts reads it). */
export const CHAT_TEMPLATE_FILE = 'chat_template.jinja';
/** Optional: the external-data file of large exports, the chat template's file. */
const OPTIONAL_FILES = ['onnx/model.onnx_data', CHAT_TEMPLATE_FILE];

/** Checks the folder has the files of the layout; names the first one missing. */
export function checkModelFolder(modelDir: string): void {
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory())
    throw new UsageError(`model folder ${modelDir} does not exist or is not a folder`);
  for (const f of MODEL_FILES) {
    if (!existsSync(join(modelDir, f)))
      throw new InputError(
        join(modelDir, f),
        null,
        null,
        'missing: a model folder needs config.json, tokenizer.json, tokenizer_config.json and onnx/model.onnx (Hugging Face layout)',
      );
  }
}

/** sha256 of each model file, and one hash over all of them (name + hash lines). */
export function hashModelFolder(modelDir: string): { files: Record<string, string>; sha256: string } {
  checkModelFolder(modelDir);
  const files: Record<string, string> = {};
  for (const f of [...MODEL_FILES, ...OPTIONAL_FILES]) {
    const p = join(modelDir, f);
    if (existsSync(p)) files[f] = createHash('sha256').update(readFileSync(p)).digest('hex');
  }
  const all = createHash('sha256')
    .update(
      Object.entries(files)
        .map(([f, h]) => `${h}  ${f}\n`)
        .join(''),
    )
    .digest('hex');
  return { files, sha256: all };
}
