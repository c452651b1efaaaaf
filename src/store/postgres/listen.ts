// Live changes on PostgreSQL: a dedicated connection LISTENs on `discretion_changes`, which every write
// NOTIFYs inside its transaction (so only commits are heard; payload {"tables":[...]}, the tables it changed).
// While that connection is down (a server restart, a network cut) changeStamp is polled instead, and the
// LISTEN is taken up again as soon as a connection can be had; a change missed in between is reported once.
import pg from 'pg';

export const CHANGES_CHANNEL = 'discretion_changes';

/** Tables named by a notification's payload; undefined when it is not ours to read. */
export function notifiedTables(payload: string | undefined): string[] | undefined {
  try {
    const p = JSON.parse(payload ?? '') as { tables?: unknown };
    return Array.isArray(p.tables) && p.tables.every((t) => typeof t === 'string') ? (p.tables as string[]) : undefined;
  } catch {
    return undefined;
  }
}

export function watchPostgres(
  config: pg.ClientConfig,
  stamp: () => Promise<string>,
  onChange: (tables: string[] | undefined) => void,
  pollMs: number,
): { dispose(): void } {
  let disposed = false;
  let client: pg.Client | undefined;
  let connecting = false;
  let timer: ReturnType<typeof setInterval> | undefined;
  let last: string | undefined;
  let polling = false;

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
    if (!client && !connecting) void listen();
  };

  const lost = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    c.removeAllListeners('notification');
    void c.end().catch(() => undefined);
    if (disposed) return;
    // poll until the LISTEN is back
    timer ??= setInterval(() => void poll(), Math.max(50, pollMs));
    timer.unref?.();
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
    try {
      await c.connect();
      await c.query(`LISTEN ${CHANGES_CHANNEL}`);
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
      c.removeAllListeners('notification');
      void c.end().catch(() => undefined);
      if (!disposed) {
        timer ??= setInterval(() => void poll(), Math.max(50, pollMs));
        timer.unref?.();
      }
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
