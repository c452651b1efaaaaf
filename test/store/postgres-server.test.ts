// The test PostgreSQL server itself: real, password-authenticated, on 127.0.0.1.
import pg from 'pg';
import { describe, expect, inject, it } from 'vitest';

const server = inject('postgres');
const skip = 'skip' in server ? server.skip : undefined;

describe.skipIf(skip)('the test PostgreSQL server', () => {
  const url = 'url' in server ? server.url : '';

  it('answers on 127.0.0.1 with the password', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const { rows } = await client.query<{ v: string }>("SELECT current_setting('server_version') AS v");
    await client.end();
    expect(rows[0].v).toMatch(/^\d+\.\d+/);
  });

  it('refuses a wrong password (password authentication is real)', async () => {
    const client = new pg.Client({ connectionString: url.replace(/:[^:@/]+@/, ':wrong@') });
    await expect(client.connect()).rejects.toThrow(/password authentication failed/);
  });
});
