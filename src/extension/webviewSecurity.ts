// The strict Content-Security-Policy every webview of the extension starts from, with a fresh nonce
// per render: nothing loads or runs but the nonce'd script and the sources a view names.
import { randomBytes } from 'node:crypto';

export function newNonce(): string {
  return randomBytes(18).toString('base64');
}

export interface CspSources {
  /** Whether the page runs its nonce'd script (the JSONL preview runs none). */
  script?: boolean;
  style?: string;
  font?: string;
  img?: string;
}

export function webviewCsp(nonce: string, sources: CspSources): string {
  return [
    "default-src 'none'",
    ...(sources.script ? [`script-src 'nonce-${nonce}'`] : []),
    `style-src ${sources.style ?? `'nonce-${nonce}'`}`,
    `font-src ${sources.font ?? "'none'"}`,
    `img-src ${sources.img ?? "'none'"}`,
    "connect-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
    "frame-src 'none'",
  ].join('; ');
}
