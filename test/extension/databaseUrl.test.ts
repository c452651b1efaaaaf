// The extension's database URL and password plumbing (src/extension/databaseUrl.ts), without VS Code: the
// pure helpers by hand, and the open-ask-store flow against the run's real PostgreSQL server (password
// authentication over TCP), with the secret store and the question as plain functions.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  directWithPassword,
  needsPassword,
  openWithPassword,
  refusePasswordInSetting,
  secretKey,
  withPassword,
} from '../../src/extension/databaseUrl';
import { UsageError } from '../../src/core/errors';
import { openStore, redactLocation, type Store } from '../../src/store';
import { freshPostgresDatabase } from '../support/postgres';

const server = inject('postgres');

describe('database URL helpers', () => {
  // which URLs hold a password, and how one is shown: test/store/location.test.ts
  it('adds passwords, keys the secret by the URL without one', () => {
    // characters that would end the user-info part are percent-encoded, and pg decodes them back
    expect(withPassword('postgres://lead@h:5432/d', 'p@ss:w/rd')).toBe('postgres://lead:p%40ss%3Aw%2Frd@h:5432/d');
    expect(secretKey('postgres://lead:x@h:5432/d')).toBe('discretion.databasePassword:postgres://lead@h:5432/d');
    expect(secretKey('postgres://lead@h:5432/d')).toBe(secretKey('postgres://lead:other@h:5432/d'));
  });

  it("gives the direct URL the database's password only for the same login, never over one it holds", () => {
    // the stored or typed password travels in the URL openWithPassword opens: the direct route takes it too
    expect(directWithPassword('postgres://lead:s%40cret@pooler:6432/team', 'postgres://lead@db:5432/team')).toBe(
      'postgres://lead:s%40cret@db:5432/team',
    );
    // PGPASSWORD or ~/.pgpass (no password in the URL), another login, no login named, a password given: as it is
    for (const [url, direct] of [
      ['postgres://lead@pooler:6432/team', 'postgres://lead@db:5432/team'],
      ['postgres://lead:x@pooler:6432/team', 'postgres://other@db:5432/team'],
      ['postgres://lead:x@pooler:6432/team', 'postgres://db:5432/team'],
      ['postgres://lead:x@pooler:6432/team', 'postgres://lead:y@db:5432/team'],
      ['postgres://lead:x@pooler:6432/team', '/not/a/url'],
    ])
      expect(directWithPassword(url, direct)).toBe(direct);
    // the direct setting is refused with a password in it, under its own name
    expect(() => refusePasswordInSetting('postgres://lead:x@db/team', 'discretion.databaseDirectUrl')).toThrow(
      /^discretion\.databaseDirectUrl must not hold a password \(postgres:\/\/lead@db\/team\)/,
    );
  });

  it('knows the answers that mean a password is missing or wrong', () => {
    expect(
      needsPassword(
        'cannot open database postgres://u@h/d: password authentication failed (set PGPASSWORD or ~/.pgpass)',
      ),
    ).toBe(true);
    expect(
      needsPassword(
        'cannot open database postgres://u@h/d: SASL: SCRAM-SERVER-FIRST-MESSAGE: client password must be a string',
      ),
    ).toBe(true);
    expect(needsPassword('fe_sendauth: no password supplied')).toBe(true);
    expect(needsPassword('cannot open database postgres://u@h/d: the server refused the connection')).toBe(false);
  });
});

describe.skipIf('skip' in server ? server.skip : undefined)('openWithPassword against a real server', () => {
  const open: Store[] = [];
  const env = { PGPASSWORD: process.env.PGPASSWORD, PGPASSFILE: process.env.PGPASSFILE };
  beforeAll(() => {
    // only what these tests give: no password from the environment or a ~/.pgpass of the machine
    delete process.env.PGPASSWORD;
    process.env.PGPASSFILE = '/nonexistent/discretion-test-pgpass';
  });
  afterAll(async () => {
    for (const [k, v] of Object.entries(env))
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    for (const s of open.splice(0)) await s.close().catch(() => undefined);
  });
  const password = 'password' in server ? server.password : '';
  const database = async () => redactLocation(await freshPostgresDatabase('url' in server ? server.url : ''));
  /** openWithPassword's dependencies over a plain map of secrets; `answer(why)` plays the user asked for the password. */
  const depsWith = (secrets: Map<string, string>, answer: (shown: string, why: string) => string | undefined) => ({
    open: async (u: string) => {
      const s = await openStore(u);
      open.push(s);
      return s;
    },
    getSecret: async (k: string) => secrets.get(k),
    storeSecret: async (k: string, p: string) => void secrets.set(k, p),
    ask: async (shown: string, why: string) => answer(shown, why),
  });

  it('asks once when the server wants a password, stores the one that works, and uses it next time without asking', async () => {
    const url = await database();
    const secrets = new Map<string, string>();
    const asked: string[] = [];
    const deps = depsWith(secrets, (shown, why) => {
      asked.push(`${shown} | ${why}`);
      return password;
    });
    // what the server answers without a password, as the store says it
    const bare = await openStore(url).then(
      () => undefined,
      (e: Error) => e.message,
    );
    expect(bare).toBe(`cannot open database ${url}: no password supplied (set PGPASSWORD or ~/.pgpass)`);
    const s = await openWithPassword(url, deps);
    expect(s.location).toBe(url); // shown without the password
    expect(asked).toEqual([`${url} | the server asks for a password`]);
    expect([...secrets.entries()]).toEqual([[`discretion.databasePassword:${url}`, password]]);
    const again = await openWithPassword(url, deps);
    expect(await again.changeStamp()).toMatch(/^\d+$/);
    expect(asked).toHaveLength(1); // not asked again
  });

  it('a stored password that the server refuses is asked for again, once; a cancelled question is one clear error without the password', async () => {
    const url = await database();
    const secrets = new Map<string, string>([[secretKey(url), 'wrong-password']]);
    const asked: string[] = [];
    let answer: string | undefined = password;
    const deps = depsWith(secrets, (_shown, why) => {
      asked.push(why);
      return answer;
    });
    await openWithPassword(url, deps);
    expect(asked).toEqual(['the stored password was refused']);
    expect(secrets.get(secretKey(url))).toBe(password);
    // cancelled: the error names the database without any password
    secrets.clear();
    answer = undefined;
    const err = await openWithPassword(url, deps).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toMatch(
      new RegExp(
        `^cannot open database ${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: .*; no password was given \\(run "Discretion: Set Database Password\\.\\.\\."\\)$`,
      ),
    );
    expect(err?.message).not.toContain(password);
  });

  it('the direct URL takes the password that opened the database; its own refusal is said as it is, never asked for', async () => {
    const url = await database();
    const secrets = new Map([[secretKey(url), password]]);
    const asked: string[] = [];
    const u = new URL(url);
    const withDirect = (direct: string) => ({
      ...depsWith(secrets, (shown) => {
        asked.push(shown);
        return password;
      }),
      open: async (opened: string) => {
        const s = await openStore(opened, { directUrl: directWithPassword(opened, direct) });
        open.push(s);
        return s;
      },
    });
    // the same login on the same database (here the server itself: this run has no pooler in front of it)
    const s = await openWithPassword(url, withDirect(url));
    expect(await s.changeStamp()).toMatch(/^\d+$/);
    // a direct route that refuses the login (another login, no password for it): one line about that URL, no question
    const other = new URL(url);
    other.username = 'nobody_here';
    const err = await openWithPassword(url, withDirect(other.toString())).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).option).toBe('directUrl');
    expect(err?.message).toMatch(new RegExp(`^cannot open the direct connection postgres://nobody_here@${u.host}`));
    expect(err?.message).not.toContain(password);
    expect(asked).toEqual([]);
  });

  it('refuses a URL that holds a password (settings never do), without showing it', async () => {
    const url = await database();
    const err = await openWithPassword(withPassword(url, 'hunter2'), {
      open: openStore,
      getSecret: async () => undefined,
      storeSecret: async () => undefined,
      ask: async () => undefined,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err?.message).toBe(
      `discretion.databasePath must not hold a password (${url}): remove it from the URL and use PGPASSWORD, ~/.pgpass or "Discretion: Set Database Password..."`,
    );
    // as a query parameter too (libpq and the pg client both read `password=`)
    const param = await openWithPassword(`${url}?password=hunter2`, {
      open: openStore,
      getSecret: async () => undefined,
      storeSecret: async () => undefined,
      ask: async () => undefined,
    }).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(param?.message).toBe(
      `discretion.databasePath must not hold a password (${url}): remove it from the URL and use PGPASSWORD, ~/.pgpass or "Discretion: Set Database Password..."`,
    );
  });
});
