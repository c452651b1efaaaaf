// sslmode as libpq documents it (https://www.postgresql.org/docs/current/libpq-ssl.html, "SSL Mode
// Descriptions"), through openStore against a second real PostgreSQL server with ssl = on: a CA and a server
// certificate for the IP address 127.0.0.1 only (not the name localhost) are made here with openssl, and a
// second CA that signed nothing. Whether a connection of the store uses TLS is read on the server
// (pg_stat_ssl), not taken from the client's word. The plain server is the run's test server.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { openStore, type Store } from '../../src/store';
import { missingPrerequisite, tempDir } from '../support/helpers';
import { freshPostgresDatabase, startPostgres, type TestPostgres } from '../support/postgres';

const plainServer = inject('postgres');
const hasOpenssl = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = ('skip' in plainServer ? plainServer.skip : undefined) ?? missingPrerequisite(hasOpenssl, 'openssl is not installed (it makes the test certificates)');

/** A CA, a server certificate it signs for IP 127.0.0.1 only and a client certificate; `other`: a CA that signed nothing. */
function makeCertificates(dir: string) {
  const f = (name: string) => join(dir, name);
  const openssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  const ca = (name: string) => openssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.crt`), '-days', '2',
    '-subj', `/CN=${name}`, '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  ca('discretion-test-ca');
  ca('discretion-other-ca');
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1']);
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', f('server.csr'), '-CA', f('discretion-test-ca.crt'), '-CAkey', f('discretion-test-ca.key'), '-CAcreateserial',
    '-out', f('server.crt'), '-days', '2', '-extfile', f('server.ext')]);
  // a client certificate for the user postgres (pg_hba's `cert` method takes the user from its CN)
  openssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=postgres']);
  writeFileSync(f('client.ext'), 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n');
  openssl(['x509', '-req', '-in', f('client.csr'), '-CA', f('discretion-test-ca.crt'), '-CAkey', f('discretion-test-ca.key'), '-CAcreateserial',
    '-out', f('client.crt'), '-days', '2', '-extfile', f('client.ext')]);
  return { ca: f('discretion-test-ca.crt'), other: f('discretion-other-ca.crt'), cert: f('server.crt'), key: f('server.key'), clientCert: f('client.crt'), clientKey: f('client.key') };
}

describe.skipIf(skip)('sslmode against a server with TLS and one without', () => {
  let tls: TestPostgres;
  let certs: ReturnType<typeof makeCertificates>;
  const opened: Store[] = [];
  const envBefore = { PGSSLMODE: process.env.PGSSLMODE, PGSSLROOTCERT: process.env.PGSSLROOTCERT };

  beforeAll(async () => {
    delete process.env.PGSSLMODE;
    delete process.env.PGSSLROOTCERT;
    certs = makeCertificates(tempDir());
    // the database `sslonly` takes TLS connections only (its plain ones rejected), `certonly` a client
    // certificate in place of a password; every other one takes both
    tls = await startPostgres({
      ssl: { certFile: certs.cert, keyFile: certs.key, caFile: certs.ca },
      hba: ['local all all trust', 'hostssl certonly all 127.0.0.1/32 cert', 'hostnossl certonly all 127.0.0.1/32 reject', 'hostssl all all 127.0.0.1/32 scram-sha-256', 'hostnossl sslonly all 127.0.0.1/32 reject', 'hostnossl all all 127.0.0.1/32 scram-sha-256', ''].join('\n'),
    });
    await tls.createDatabase('sslonly');
    await tls.createDatabase('certonly');
  }, 120_000);

  afterAll(async () => {
    for (const s of opened.splice(0)) await s.close().catch(() => undefined);
    tls?.stop();
    for (const [k, v] of Object.entries(envBefore)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  });

  /** A fresh database on the TLS server: its URL with `query` added (and `host` in place of 127.0.0.1). */
  const tlsDatabase = async (query: string, host = '127.0.0.1') => {
    const u = new URL(await tls.createDatabase());
    u.hostname = host;
    return `${u.toString()}${query}`;
  };

  /** Whether each of the store's connections to its database (application_name `app`) uses TLS, as the server sees it. */
  async function serverSaysTls(admin: string, url: string, app = 'discretion'): Promise<boolean[]> {
    const c = new pg.Client({ connectionString: admin, ssl: false });
    await c.connect();
    try {
      const r = await c.query<{ ssl: boolean }>(
        'SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = $1 AND a.application_name = $2',
        [decodeURIComponent(new URL(url).pathname.slice(1)), app]);
      return r.rows.map((row) => row.ssl);
    } finally {
      await c.end();
    }
  }

  const open = async (url: string) => {
    const s = await openStore(url);
    opened.push(s);
    return s;
  };
  const usesTls = async (url: string, admin = tls.url) => {
    await open(url);
    const seen = await serverSaysTls(admin, url);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen).size).toBe(1);
    return seen[0];
  };
  const refusal = (url: string) => openStore(url).then(async (s) => {
    await s.close();
    return 'opened';
  }, (e: Error) => e.message);
  const expectOneLineNamingTheDatabase = (message: string, url: string) => {
    const shown = url.replace(`:${encodeURIComponent(tls.password)}@`, '@');
    expect(message.startsWith(`cannot open database ${shown}: `), message).toBe(true);
    expect(message.split('\n')).toHaveLength(1);
    expect(message).not.toContain(encodeURIComponent(tls.password));
  };

  it('verify-full with sslrootcert: TLS, the chain and the host name checked (the LISTEN connection too)', async () => {
    const url = await tlsDatabase(`?sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.ca)}`);
    expect(await usesTls(url)).toBe(true);
    const s = opened.at(-1)!;
    const w = s.watchChanges(() => undefined, 50);
    try {
      let listen: boolean[] = [];
      for (let i = 0; i < 100 && listen.length === 0; i++) {
        listen = await serverSaysTls(tls.url, url, 'discretion-listen');
        if (listen.length === 0) await new Promise((r) => setTimeout(r, 50));
      }
      expect(listen).toEqual([true]);
    } finally {
      w.dispose();
    }
  });

  it('verify-full without sslrootcert fails: the test CA is none of the built-in roots; one line, no password', async () => {
    const url = await tlsDatabase('?sslmode=verify-full');
    const message = await refusal(url);
    expectOneLineNamingTheDatabase(message, url);
    // Node's words for a chain from a CA it was not given (the server sends the CA along, as its ssl_ca_file names it)
    expect(message).toMatch(/self-signed certificate in certificate chain|unable to verify the first certificate/);
  });

  it('verify-full with a host name the certificate does not hold (localhost; it names 127.0.0.1) fails; verify-ca passes', async () => {
    const root = `sslrootcert=${encodeURIComponent(certs.ca)}`;
    const full = await tlsDatabase(`?sslmode=verify-full&${root}`, 'localhost');
    const message = await refusal(full);
    expectOneLineNamingTheDatabase(message, full);
    expect(message).toMatch(/localhost/);
    expect(message).toMatch(/altnames/);
    expect(await usesTls(await tlsDatabase(`?sslmode=verify-ca&${root}`, 'localhost'))).toBe(true);
  });

  it('verify-ca, and require with an sslrootcert (libpq then acts as verify-ca), refuse a chain from another CA', async () => {
    for (const mode of ['verify-ca', 'require']) {
      const url = await tlsDatabase(`?sslmode=${mode}&sslrootcert=${encodeURIComponent(certs.other)}`);
      const message = await refusal(url);
      expectOneLineNamingTheDatabase(message, url);
      expect(message).toMatch(/self-signed certificate in certificate chain|unable to verify the first certificate/);
    }
  });

  it('require without a CA: TLS, the certificate not checked', async () => {
    expect(await usesTls(await tlsDatabase('?sslmode=require'))).toBe(true);
  });

  it('no sslmode (prefer): TLS where the server offers it, plain where it does not', async () => {
    expect(await usesTls(await tlsDatabase(''))).toBe(true);
    if ('url' in plainServer) {
      const plainUrl = await freshPostgresDatabase(plainServer.url);
      expect(await usesTls(plainUrl, plainServer.url)).toBe(false);
      // require against the server without TLS: one line
      const message = await refusal(`${plainUrl}?sslmode=require`);
      expect(message).toMatch(/^cannot open database postgres:\/\/postgres@127\.0\.0\.1:\d+\/\w+\?sslmode=require: The server does not support SSL connections$/);
    }
  });

  it('disable: plain against the TLS server; allow: plain first, TLS where pg_hba.conf asks for it (hostssl)', async () => {
    expect(await usesTls(await tlsDatabase('?sslmode=disable'))).toBe(false);
    expect(await usesTls(await tlsDatabase('?sslmode=allow'))).toBe(false);
    const sslonly = new URL(tls.url);
    sslonly.pathname = '/sslonly';
    expect(await usesTls(`${sslonly}?sslmode=allow`)).toBe(true);
    // disable where only TLS is let in: the server's refusal, in one line
    const message = await refusal(`${sslonly}?sslmode=disable`);
    expectOneLineNamingTheDatabase(message, `${sslonly}?sslmode=disable`);
    expect(message).toMatch(/pg_hba\.conf rejects connection .*no encryption/);
  });

  it('PGSSLMODE and PGSSLROOTCERT when the URL has none; the URL wins over them', async () => {
    try {
      process.env.PGSSLMODE = 'verify-full';
      process.env.PGSSLROOTCERT = certs.ca;
      expect(await usesTls(await tlsDatabase(''))).toBe(true);
      process.env.PGSSLMODE = 'disable';
      expect(await usesTls(await tlsDatabase(''))).toBe(false);
      expect(await usesTls(await tlsDatabase('?sslmode=require'))).toBe(true);
    } finally {
      delete process.env.PGSSLMODE;
      delete process.env.PGSSLROOTCERT;
    }
  });

  it('sslcert and sslkey: a client certificate where the server asks for one in place of a password', async () => {
    const u = new URL(tls.url);
    u.password = '';
    u.pathname = '/certonly';
    const root = `sslmode=verify-full&sslrootcert=${encodeURIComponent(certs.ca)}`;
    const withCert = `${u}?${root}&sslcert=${encodeURIComponent(certs.clientCert)}&sslkey=${encodeURIComponent(certs.clientKey)}`;
    const s = await openStore(withCert);
    opened.push(s);
    expect(s.location).toBe(withCert);
    expect(await serverSaysTls(tls.url, withCert)).toEqual([true]);
    const message = await refusal(`${u}?${root}`);
    expect(message).toMatch(/^cannot open database postgres:\/\/postgres@127\.0\.0\.1:\d+\/certonly\?sslmode=verify-full&sslrootcert=\S+: .*certificate/);
  });

  it('an unknown sslmode is refused in one line naming it and the six accepted, before connecting', async () => {
    // port 1: nothing listens there, so a refusal that came from connecting would say so instead
    expect(await refusal('postgres://lead:hunter2@127.0.0.1:1/d?sslmode=bogus'))
      .toBe('cannot open database postgres://lead@127.0.0.1:1/d?sslmode=bogus: sslmode "bogus" is not one of disable, allow, prefer, require, verify-ca, verify-full');
    // pg's own "no-verify" is not libpq's
    expect(await refusal('postgres://lead@127.0.0.1:1/d?sslmode=no-verify')).toMatch(/: sslmode "no-verify" is not one of /);
    try {
      process.env.PGSSLMODE = 'Require';
      expect(await refusal('postgres://lead@127.0.0.1:1/d'))
        .toBe('cannot open database postgres://lead@127.0.0.1:1/d: PGSSLMODE "Require" is not one of disable, allow, prefer, require, verify-ca, verify-full');
    } finally {
      delete process.env.PGSSLMODE;
    }
  });

  it('an sslrootcert that cannot be read is one line naming it', async () => {
    expect(await refusal('postgres://lead@127.0.0.1:1/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem'))
      .toBe('cannot open database postgres://lead@127.0.0.1:1/d?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem: sslrootcert /nonexistent/ca.pem cannot be read (ENOENT)');
  });
});
