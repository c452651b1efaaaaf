// Live changes on PostgreSQL: a dedicated connection LISTENs on `discretion_changes`, which every write
// NOTIFYs inside its transaction (so only commits are heard; payload {"tables":[...]}, the tables it changed).
// While that connection is down (a server restart, a network cut) changeStamp is polled instead, and the
// LISTEN is taken up again as soon as a connection can be had; a change missed in between is reported once.
//
// A LISTEN needs a session of its own on the server. Through a pooler in transaction mode (PgBouncer) a session
// is lent for one transaction at a time: the LISTEN stays behind on a server session that the next client gets,
// and nothing is heard. So a listen connection is first put to the test (listenHeard): it listens on a channel
// of its own, the store's connections notify it, and a connection that does not hear that in time is not used
// (polling then, and the test tried again now and then). A direct URL (the server itself, beside the pooler)
// is the way to have notifications behind a pooler; the adapter checks it once when the store opens.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const CHANGES_CHANNEL = 'discretion_changes';

/** How long a notification may take to come back before the connection is taken for one that does not deliver them. */
export const PROBE_MS = 3000;
/** After a connection failed that test, how long until it is tried again (a pooler stays a pooler: rarely). */
const PROBE_AGAIN_MS = 5 * 60_000;

/** Tables named by a notification's payload; undefined when it is not ours to read. */
export function notifiedTables(payload: string | undefined): string[] | undefined {
  try {
    const p = JSON.parse(payload ?? '') as { tables?: unknown };
    return Array.isArray(p.tables) && p.tables.every((t) => typeof t === 'string') ? (p.tables as string[]) : undefined;
  } catch {
    return undefined;
  }
}

/** Sends an empty notification on `channel` through the store's own connections (so through the pooler, if any). */
export type Notify = (channel: string) => Promise<void>;

/**
 * Whether `client` (connected, LISTENing on nothing of ours yet) hears what the store's connections notify: it
 * listens on a channel of its own, `notify` sends on it, and it must arrive within `ms`. The private channel is
 * left again; no one else hears the test.
 */
export async function listenHeard(client: pg.Client, notify: Notify, ms = PROBE_MS): Promise<boolean> {
  const channel = `discretion_probe_${randomBytes(8).toString('hex')}`;
  let heard!: () => void;
  const arrived = new Promise<void>((resolve) => (heard = resolve));
  const onNotification = (n: pg.Notification) => {
    if (n.channel === channel) heard();
  };
  client.on('notification', onNotification);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await client.query(`LISTEN ${channel}`);
    await notify(channel);
    return await Promise.race([
      arrived.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms))),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
    client.removeListener('notification', onNotification);
    await client.query(`UNLISTEN ${channel}`).catch(() => undefined);
  }
}

export function watchPostgres(
  config: pg.ClientConfig,
  stamp: () => Promise<string>,
  onChange: (tables: string[] | undefined) => void,
  pollMs: number,
  options: {
    notify: Notify;
    /** `config` is known to deliver notifications (a direct URL the adapter checked): no test. */
    verified?: boolean;
    probeMs?: number;
  },
): { dispose(): void } {
  let disposed = false;
  let client: pg.Client | undefined;
  let connecting = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  let last: string | undefined;
  let polling = false;
  let verified = options.verified ?? false;
  /** When a connection that failed the test may be tried again (0: whenever one can be had). */
  let listenAgainAt = 0;

  const poll = async () => {
    if (polling || disposed) return;
    polling = true;
    try {
      const now = await stamp();
      if (last !== undefined && now !== last) onChange(undefined);
      last = now;
    } catch {
      /* the server is away: the next poll tries again */
    } finally {
      polling = false;
    }
    if (!client && !connecting && Date.now() >= listenAgainAt) void listen();
  };

  const startPolling = () => {
    if (disposed) return;
    timer ??= setInterval(() => void poll(), Math.max(50, pollMs));
    timer.unref?.();
  };

  const lost = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    c.removeAllListeners('notification');
    void c.end().catch(() => undefined);
    startPolling(); // until the LISTEN is back
  };

  const listen = async () => {
    if (disposed || connecting) return;
    connecting = true;
    const c = new pg.Client({ ...config, application_name: 'discretion-listen' });
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    c.on('notification', (n) => {
      if (n.channel === CHANGES_CHANNEL && !disposed) onChange(notifiedTables(n.payload));
    });
    const giveUp = () => {
      c.removeAllListeners('notification');
      void c.end().catch(() => undefined);
      startPolling();
    };
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
      if (!verified && !disposed) {
        if (!(await listenHeard(c, options.notify, options.probeMs))) {
          // a pooler's session (or a server that delivers nothing): poll, and try again much later
          listenAgainAt = Date.now() + PROBE_AGAIN_MS;
          await c.query(`UNLISTEN ${CHANGES_CHANNEL}`).catch(() => undefined);
          giveUp();
          return;
        }
        verified = true;
      }
      if (disposed) {
        await c.end().catch(() => undefined);
        return;
      }
      client = c;
      const wasPolling = timer !== undefined;
      if (timer) clearInterval(timer);
      timer = undefined;
      // a commit between the loss and this LISTEN was not heard: say so once, when the stamp moved
      if (wasPolling) {
        const now = await stamp().catch(() => undefined);
        if (now !== undefined && last !== undefined && now !== last) onChange(undefined);
        last = now ?? last;
      }
    } catch {
      giveUp();
    } finally {
      connecting = false;
    }
  };

  void stamp().then(
    (s) => {
      last ??= s;
    },
    () => undefined,
  );
  void listen();
  return {
    dispose: () => {
      disposed = true;
      if (timer) clearInterval(timer);
      timer = undefined;
      const c = client;
      client = undefined;
      if (c) void c.end().catch(() => undefined);
    },
  };
}
