// No silent skips under CI: a missing prerequisite skips a test with the reason printed on a developer's
// machine, and fails the run when CI=true (as .ci/run sets it).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { missingPrerequisite } from './helpers';

describe('missingPrerequisite', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('present: no reason, under CI or not', () => {
    vi.stubEnv('CI', 'true');
    expect(missingPrerequisite(true, 'x is absent')).toBeUndefined();
  });

  it('absent under CI=true: throws, naming what is missing', () => {
    vi.stubEnv('CI', 'true');
    expect(() => missingPrerequisite(false, '/nowhere/chromium is absent')).toThrow(
      /^CI=true and \/nowhere\/chromium is absent: /,
    );
  });

  it('absent without CI: the skip reason (also printed)', () => {
    vi.stubEnv('CI', '');
    expect(missingPrerequisite(false, 'x is absent')).toBe('skipped: x is absent');
  });
});
