// The type-aware rules of eslint.config.mjs bite: a promise nobody awaits (its rejection would be lost, or end the
// process) and a promise passed where a callback's return is ignored are errors; awaited, voided or caught ones
// pass. Linted as the text of a file the TypeScript project holds (nothing is written).
import { ESLint } from 'eslint';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/helpers';

let eslint: ESLint;
beforeAll(() => {
  eslint = new ESLint({ cwd: ROOT });
});

const FILE = 'src/app/media.ts'; // any file of the project: its text is replaced by the probe's
const rules = async (code: string) => {
  const [result] = await eslint.lintText(code, { filePath: FILE });
  return result!.messages.map((m) => m.ruleId);
};
const head = 'const save = async (): Promise<number> => 1;\nconst later = (f: () => void) => f;\n';

describe('type-aware promise rules', () => {
  it('a floating promise is an error', async () => {
    expect(await rules(`${head}export function f(): void { save(); }\nexport const g = later;\n`)).toEqual([
      '@typescript-eslint/no-floating-promises',
    ]);
  });
  it('a promise where a callback returns nothing is an error', async () => {
    expect(await rules(`${head}export const g = later(async () => { await save(); });\n`)).toEqual([
      '@typescript-eslint/no-misused-promises',
    ]);
  });
  it('awaited, voided and caught promises pass', async () => {
    expect(
      await rules(
        `${head}export async function f(): Promise<void> { await save(); void save(); save().catch(() => undefined); }\nexport const g = later(() => void save());\n`,
      ),
    ).toEqual([]);
  }, 60_000);
});
