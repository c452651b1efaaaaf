// TLS to a PostgreSQL server as libpq does it (https://www.postgresql.org/docs/current/libpq-ssl.html, "SSL
// Mode Descriptions"), because the pg client maps sslmode its own way (no TLS at all without sslmode; prefer
// and require check the certificate as verify-full does; an unknown mode is ignored). The URL's sslmode,
// sslrootcert, sslcert and sslkey (else PGSSLMODE, PGSSLROOTCERT, PGSSLCERT, PGSSLKEY) are taken out of the
// connection string here and pg's `ssl` option is built from them; prefer is the default.
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import pg from 'pg';
import { UsageError } from '../../core/errors';
import { redactLocation, takeParams } from '../location';

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

const PARAMS = ['sslmode', 'sslrootcert', 'sslcert', 'sslkey'] as const;
const ENV: Record<(typeof PARAMS)[number], string> = {
  sslmode: 'PGSSLMODE',
  sslrootcert: 'PGSSLROOTCERT',
  sslcert: 'PGSSLCERT',
  sslkey: 'PGSSLKEY',
};

export interface TlsSettings {
  mode: SslMode;
  /** The URL without the parameters read here (the pg client would apply them its own way). */
  connectionString: string;
  /** Root certificates the server's chain is checked against; `system` (as in libpq 16) or none: Node's built-in roots. */
  ca?: string;
  /** A root certificate was given (a file or `system`): the chain is checked in every mode that uses TLS, as libpq does. */
  rootGiven: boolean;
  cert?: string;
  key?: string;
}

/** The TLS settings of a location (its parameters, else the environment's); one line naming the database for a bad value. */
export function tlsSettings(location: string, env: NodeJS.ProcessEnv = process.env): TlsSettings {
  const { location: connectionString, values } = takeParams(location, PARAMS);
  const get = (name: (typeof PARAMS)[number]) => values.get(name) ?? (env[ENV[name]] || undefined);
  const shown = redactLocation(location);
  const mode = get('sslmode') ?? 'prefer';
  if (!(SSL_MODES as readonly string[]).includes(mode)) {
    const from = values.has('sslmode') ? 'sslmode' : 'PGSSLMODE';
    throw new UsageError(`cannot open database ${shown}: ${from} "${mode}" is not one of ${SSL_MODES.join(', ')}`);
  }
  const read = (name: (typeof PARAMS)[number]) => {
    const path = get(name);
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (e) {
      throw new UsageError(
        `cannot open database ${shown}: ${name} ${path} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`,
      );
    }
  };
  const root = get('sslrootcert');
  return {
    mode: mode as SslMode,
    connectionString,
    ca: root === 'system' ? undefined : read('sslrootcert'),
    rootGiven: root !== undefined,
    cert: read('sslcert'),
    key: read('sslkey'),
  };
}

/** pg's `ssl` option for a connection over TLS under these settings. */
function tlsOptions(s: TlsSettings): ConnectionOptions {
  const files: ConnectionOptions = {
    ...(s.ca ? { ca: s.ca } : {}),
    ...(s.cert ? { cert: s.cert } : {}),
    ...(s.key ? { key: s.key } : {}),
  };
  // verify-full: the chain and the host name (pg hands tls.connect the host, and Node's check compares it)
  if (s.mode === 'verify-full') return { ...files, rejectUnauthorized: true };
  // verify-ca, and any mode given a root certificate (libpq's require then acts as verify-ca): the chain only
  const chain = s.mode === 'verify-ca' || s.rootGiven;
  return { ...files, rejectUnauthorized: chain, checkServerIdentity: () => undefined };
}

/** The server answered the SSLRequest with "no" (ssl = off). */
const noTlsOnServer = (e: unknown) => /does not support SSL connections/.test((e as Error)?.message ?? '');
/** pg_hba.conf has no line for this connection with (or without) encryption: hostssl / hostnossl. */
const hbaRefused = (e: unknown) =>
  (e as { code?: string }).code === '28000' && /pg_hba\.conf/.test((e as Error).message ?? '');

async function tryConnect(config: pg.ClientConfig): Promise<void> {
  const client = new pg.Client(config);
  client.on('error', () => undefined); // an error after connect (the server going away) is the pool's to meet
  try {
    await client.connect();
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * The pg client settings for a location: the connection string and the `ssl` that the mode asks for. For
 * prefer (TLS, else plain) and allow (plain, else TLS) one connection is tried first, and the pool and the
 * LISTEN connection use what worked; its error, when neither did, is thrown as the pg client gives it.
 */
export async function postgresClientConfig(
  location: string,
  options: { connectionTimeoutMillis?: number } = {},
): Promise<pg.ClientConfig> {
  const s = tlsSettings(location);
  const plain: pg.ClientConfig = { connectionString: s.connectionString, ssl: false };
  const secure: pg.ClientConfig = { connectionString: s.connectionString, ssl: tlsOptions(s) };
  const probe = (config: pg.ClientConfig) =>
    tryConnect({
      ...config,
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
      application_name: 'discretion',
    });
  switch (s.mode) {
    case 'disable':
      return plain;
    case 'prefer':
      // plain only when the server has no TLS or pg_hba.conf takes none; a certificate that fails the chain
      // check (sslrootcert given) is an error, never a quiet step down to plain
      try {
        await probe(secure);
        return secure;
      } catch (e) {
        if (!noTlsOnServer(e) && !hbaRefused(e)) throw e;
      }
      await probe(plain);
      return plain;
    case 'allow':
      try {
        await probe(plain);
        return plain;
      } catch (e) {
        if (!hbaRefused(e)) throw e;
      }
      await probe(secure);
      return secure;
    default:
      return secure;
  }
}
