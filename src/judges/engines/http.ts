// HTTP for the engine clients: node:http(s) with keep-alive agents (one connection pool per run, reused across
// requests: the client must not be the bottleneck, issue 19 item 5), a per-request timeout, a cap on the answer's
// size, and the replica pool's fault classes: a refused or reset connection and a timeout are ReplicaFaults, so are
// HTTP 429 and 5xx (with their Retry-After); a redirect is refused (the API key would follow it); any other status is
// the engine's to read. The API key is sent as a Bearer header and cut out of every error text.
import {
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { UsageError } from '../../core/errors';
import { redactSecrets } from '../llmJudge';
import { ReplicaFault, parseRetryAfter } from '../replicas';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export interface EngineHttpOptions {
  timeoutMs: number;
  apiKey?: string;
  /** Largest answer read (bytes). */
  maxBytes?: number;
  /** Connections kept per origin (at least the run's concurrency). */
  maxSockets?: number;
}

export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export class EngineHttp {
  private readonly http: HttpAgent;
  private readonly https: HttpsAgent;

  constructor(readonly o: EngineHttpOptions) {
    const agent = { keepAlive: true, maxSockets: o.maxSockets ?? 64 };
    this.http = new HttpAgent(agent);
    this.https = new HttpsAgent(agent);
  }

  /** Error text fit to print: the key cut out wherever a server echoed it. */
  clean(text: string): string {
    return redactSecrets(text, [this.o.apiKey]);
  }

  /**
   * One request. Resolves with any 2xx or 4xx answer but 429; rejects with a ReplicaFault on a connection error, a
   * timeout, 429 or 5xx, and with a UsageError on a redirect or an answer over the size cap.
   */
  request(
    url: string,
    init: { method?: 'GET' | 'POST'; body?: Buffer | string; headers?: OutgoingHttpHeaders; signal?: AbortSignal },
  ): Promise<HttpAnswer> {
    const u = new URL(url);
    const body =
      init.body === undefined ? undefined : typeof init.body === 'string' ? Buffer.from(init.body) : init.body;
    const maxBytes = this.o.maxBytes ?? DEFAULT_MAX_ANSWER_BYTES;
    return new Promise<HttpAnswer>((resolve, reject) => {
      let settled = false;
      const settle = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        init.signal?.removeEventListener('abort', onAbort);
        f();
      };
      const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
        u,
        {
          method: init.method ?? (body ? 'POST' : 'GET'),
          agent: u.protocol === 'https:' ? this.https : this.http,
          headers: {
            accept: 'application/json',
            ...(body ? { 'content-length': body.byteLength } : {}),
            ...(this.o.apiKey ? { authorization: `Bearer ${this.o.apiKey}` } : {}),
            ...init.headers,
          },
        },
        (res) => {
          const status = res.statusCode ?? 0;
          const declared = Number(res.headers['content-length']);
          if (Number.isFinite(declared) && declared > maxBytes) {
            res.destroy();
            return settle(() => reject(tooLarge(url, maxBytes)));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.byteLength;
            if (size > maxBytes) {
              res.destroy();
              settle(() => reject(tooLarge(url, maxBytes)));
              return;
            }
            chunks.push(c);
          });
          res.on('error', (e) => settle(() => reject(this.connectionFault(e))));
          res.on('end', () =>
            settle(() => {
              const answer = { status, headers: res.headers, body: Buffer.concat(chunks, size) };
              if (status === 429 || status >= 500) {
                const retryAfter = res.headers['retry-after'];
                reject(
                  new ReplicaFault(
                    `HTTP ${status}${snippet(this.clean(answer.body.toString('utf8')))}`,
                    parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
                  ),
                );
              } else if (status >= 300 && status < 400) {
                reject(
                  new UsageError(
                    `${url}: HTTP ${status}: the server redirects${res.headers.location ? ` to ${this.clean(res.headers.location).slice(0, 200)}` : ''}; give the final URL (requests are never sent along a redirect)`,
                  ),
                );
              } else resolve(answer);
            }),
          );
        },
      );
      const timer = setTimeout(() => {
        settle(() => reject(new ReplicaFault(`no answer within ${this.o.timeoutMs} ms`)));
        req.destroy();
      }, this.o.timeoutMs);
      const onAbort = () => {
        settle(() => reject(init.signal!.reason ?? new Error('aborted')));
        req.destroy();
      };
      if (init.signal?.aborted) return onAbort();
      init.signal?.addEventListener('abort', onAbort, { once: true });
      req.on('error', (e) => settle(() => reject(this.connectionFault(e))));
      req.end(body);
    });
  }

  private connectionFault(e: Error): ReplicaFault {
    const code = (e as NodeJS.ErrnoException).code;
    // Not counted against the request: a refused or reset connection says the replica is down, not that the request is bad.
    return new ReplicaFault(`connection failed (${this.clean(code ?? e.message)})`, undefined, false);
  }

  close(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

function tooLarge(url: string, max: number): UsageError {
  return new UsageError(`${url}: the answer is larger than ${max} bytes; is this the right endpoint?`);
}

/** `: first 200 characters of a body`, on one line, or nothing for an empty body. */
export function snippet(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return t ? `: ${t.slice(0, 200)}` : '';
}

/** The error message an engine put in its answer: {"error": "..."}, {"error": {"message": "..."}}, {"message"}, {"detail"}, or the text. */
export function errorText(answer: HttpAnswer): string {
  const text = answer.body.toString('utf8');
  try {
    const j = JSON.parse(text) as Record<string, unknown>;
    const e = j.error;
    if (typeof e === 'string') return e;
    if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string')
      return (e as { message: string }).message;
    if (typeof j.message === 'string') return j.message;
    if (typeof j.detail === 'string') return j.detail;
  } catch {
    // not JSON: the text itself
  }
  return text;
}
