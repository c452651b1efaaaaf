// What the conformance servers share: a node:http server on 127.0.0.1 (an ephemeral port) that answers an engine's
// documented routes (each engine's module), with the switches the tests and the bench turn: a fixed answer time,
// faults for the next scoring requests or for all of them (an HTTP status with Retry-After, a closed connection, no
// answer, an answer of the wrong shape), and death after N answers (the listening socket closed and every connection
// cut: later requests are refused). It counts every scoring request per input (a text, or token ids) as received and
// as answered, so a test can check that no input was scored twice.
import {
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
  createServer,
} from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: Buffer | string | unknown;
}

export interface Handled {
  reply: Reply;
  /** The inputs a scoring request carried (its key per input); undefined for other routes (metadata, info). */
  inputs?: string[];
  /** The same request answered with the right route but the wrong shape (for the wrong-shape switch). */
  wrongShape?: () => Reply;
}

export interface ConformanceRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json<T = unknown>(): T;
}

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string; body?: unknown }
  | { kind: 'close' }
  | { kind: 'hang' }
  | { kind: 'shape' };

export class ConformanceServer {
  url = '';
  /** Added before every scoring answer (ms); 0 answers at once. */
  latencyMs = 0;
  /** Faults for the next scoring requests, in order. */
  faults: Fault[] = [];
  /** A fault for every scoring request (after `faults`). */
  always: Fault | undefined;
  /** The server dies once it has answered this many scoring requests. */
  dieAfterAnswers: number | undefined;
  /** Scoring requests received, answered with a score, and per path (every route). */
  requests = 0;
  answers = 0;
  readonly paths = new Map<string, number>();
  readonly received = new Map<string, number>();
  readonly answered = new Map<string, number>();
  /** Each scoring request in the order received: its inputs and the status it was answered with (0: none). */
  readonly log: { inputs: number; status: number }[] = [];
  dead = false;
  private readonly server: Server;

  constructor(private readonly handle: (req: ConformanceRequest) => Handled) {
    this.server = createServer((req, res) => this.onRequest(req, res));
    this.server.keepAliveTimeout = 60_000;
  }

  async listen(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Dies: no new connection is accepted, and every open one (requests in flight too) is cut. */
  die(): void {
    this.dead = true;
    this.server.close();
    this.server.closeAllConnections();
  }

  async close(): Promise<void> {
    this.dead = true;
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  /** How many times each input was answered, and the inputs answered more than once. */
  answeredTwice(): string[] {
    return [...this.answered].filter(([, n]) => n > 1).map(([k]) => k);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = (req.url ?? '/').split('?')[0];
      this.paths.set(path, (this.paths.get(path) ?? 0) + 1);
      let handled: Handled;
      try {
        handled = this.handle({
          method: req.method ?? 'GET',
          path,
          headers: req.headers,
          body,
          json: <T>() => JSON.parse(body.toString('utf8')) as T,
        });
      } catch (e) {
        handled = { reply: { status: 400, body: { error: `conformance server: ${(e as Error).message}` } } };
      }
      if (!handled.inputs) return send(res, handled.reply);
      this.requests++;
      const entry = { inputs: handled.inputs.length, status: 0 };
      this.log.push(entry);
      for (const k of handled.inputs) this.received.set(k, (this.received.get(k) ?? 0) + 1);
      const fault = this.faults.shift() ?? this.always;
      if (fault?.kind === 'hang') return;
      if (fault?.kind === 'close') return void req.socket.destroy();
      const answer = () => {
        if (this.dead) return void req.socket.destroy();
        entry.status = fault?.kind === 'status' ? fault.status : handled.reply.status;
        if (fault?.kind === 'status')
          return send(res, {
            status: fault.status,
            headers: fault.retryAfter !== undefined ? { 'retry-after': fault.retryAfter } : {},
            body: fault.body ?? { error: `conformance fault ${fault.status}` },
          });
        if (fault?.kind === 'shape' && handled.wrongShape) return send(res, handled.wrongShape());
        send(res, handled.reply);
        if (handled.reply.status === 200) {
          this.answers++;
          for (const k of handled.inputs!) this.answered.set(k, (this.answered.get(k) ?? 0) + 1);
          // Dies once this answer is on its way (not before: the client would never get an answer counted here).
          if (this.dieAfterAnswers !== undefined && this.answers >= this.dieAfterAnswers)
            res.once('finish', () => this.die());
        }
      };
      if (this.latencyMs > 0) setTimeout(answer, this.latencyMs);
      else answer();
    });
  }
}

function send(res: ServerResponse, reply: Reply): void {
  const isBuffer = Buffer.isBuffer(reply.body);
  const data = isBuffer
    ? (reply.body as Buffer)
    : Buffer.from(typeof reply.body === 'string' ? reply.body : JSON.stringify(reply.body));
  res.writeHead(reply.status, {
    'content-type': isBuffer ? 'application/octet-stream' : 'application/json',
    'content-length': data.byteLength,
    ...reply.headers,
  });
  res.end(data);
}

/** Servers a test file started, closed in its afterAll (closeAll). */
const open = new Set<ConformanceServer>();

export async function start(server: ConformanceServer): Promise<ConformanceServer> {
  open.add(server);
  return server.listen();
}

export async function closeAll(): Promise<void> {
  await Promise.all([...open].map((s) => s.close()));
  open.clear();
}
