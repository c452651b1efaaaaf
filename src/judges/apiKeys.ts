// The LLM judge's API key, kept per endpoint origin (scheme://host:port): a key entered for one origin is
// only ever looked up for, and so only sent to, that origin; a base URL on another origin (say one named
// by a workspace's settings) asks for its own key. The store is VS Code's SecretStorage in the extension;
// anything with get/store/delete works (the tests use a Map). No vscode import here.
import { parseEndpoint } from './llmJudge';

/** The slice of VS Code's SecretStorage used here. */
export interface SecretStore {
  get(key: string): PromiseLike<string | undefined>;
  store(key: string, value: string): PromiseLike<void>;
  delete(key: string): PromiseLike<void>;
}

/** The key under which no origin was recorded (before keys were kept per origin); never sent anywhere. */
export const LEGACY_SECRET_KEY = 'discretion.judges.apiKey';

/** The endpoint's origin, e.g. "https://api.example.com" (default ports dropped, as URL.origin does). */
export function endpointOrigin(baseUrl: string): string {
  return parseEndpoint(baseUrl).origin;
}

/** The SecretStorage key of an origin's API key. */
export function secretKeyFor(origin: string): string {
  return `${LEGACY_SECRET_KEY}:${origin}`;
}

/**
 * The API key to send to `baseUrl`: the one stored for its origin, else asked for (`ask` gets the origin;
 * undefined = the user cancelled, '' = no key, e.g. a local server) and stored for that origin only.
 * Returns undefined when the user cancelled, else the key ('' for none).
 */
export async function apiKeyForEndpoint(
  secrets: SecretStore,
  baseUrl: string,
  ask: (origin: string) => PromiseLike<string | undefined>,
): Promise<string | undefined> {
  const origin = endpointOrigin(baseUrl);
  const stored = await secrets.get(secretKeyFor(origin));
  if (stored !== undefined) return stored;
  const entered = await ask(origin);
  if (entered === undefined) return undefined;
  await secrets.store(secretKeyFor(origin), entered.trim());
  return entered.trim();
}

/** Stores (or, for '', removes) the key of one origin. */
export async function setApiKeyForEndpoint(secrets: SecretStore, baseUrl: string, key: string): Promise<void> {
  const name = secretKeyFor(endpointOrigin(baseUrl));
  if (key.trim()) await secrets.store(name, key.trim());
  else await secrets.delete(name);
}
