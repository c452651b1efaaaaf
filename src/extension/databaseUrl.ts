// A team's database as a `postgres://` URL in the extension: never with a password in the setting; the
// password comes from PGPASSWORD or ~/.pgpass (the pg client reads both itself) or VS Code's SecretStorage,
// kept under the URL without its password, and asked for once when the server says it needs one. No vscode
// import: the secret store and the question are passed in, so this is tested against a real server.
import { UsageError } from '../core/errors';
import { locationHasPassword, redactLocation } from '../store';

/** The setting holds a URL with a password (`user:secret@` or `password=`): refused, without showing it. */
export function refusePasswordInSetting(url: string, setting = 'discretion.databasePath'): void {
  if (locationHasPassword(url)) {
    throw new UsageError(
      `${setting} must not hold a password (${redactLocation(url)}): remove it from the URL and use PGPASSWORD, ~/.pgpass or "Discretion: Set Database Password..."`,
    );
  }
}

/**
 * The direct URL with the password that `url` carries (the one stored or typed for the database), when both name
 * the same login: one login, another route to the same database. Otherwise as it is (pg then reads PGPASSWORD or
 * ~/.pgpass for it, whose line names the direct host).
 */
export function directWithPassword(url: string, direct: string): string {
  let main: URL;
  let d: URL;
  try {
    main = new URL(url);
    d = new URL(direct.trim());
  } catch {
    return direct; // not a URL: the store says so in one line
  }
  if (!main.password || d.password || !d.username || d.username !== main.username) return direct;
  d.password = main.password;
  return d.toString();
}

/** The URL with `password` in it (percent-encoded), for the connection only: never shown, never stored. */
export function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** SecretStorage key of the password of a database URL. */
export function secretKey(url: string): string {
  return `discretion.databasePassword:${redactLocation(url)}`;
}

/** The server (or the client) says a password is missing or wrong. */
export function needsPassword(message: string): boolean {
  return /password authentication failed|no password (was )?supplied|client password must be a string|password is required/i.test(
    message,
  );
}

export interface PasswordDeps<T> {
  /** Opens the database at this URL (it may carry a password). */
  open(url: string): Promise<T>;
  getSecret(key: string): Promise<string | undefined>;
  storeSecret(key: string, password: string): Promise<void>;
  /** Asks the user (an input box that hides what is typed); undefined when cancelled. `shown`: the URL without password. */
  ask(shown: string, why: string): Promise<string | undefined>;
}

/**
 * Opens a database URL: with the password kept in SecretStorage for it when there is one, else as it is
 * (pg then reads PGPASSWORD or ~/.pgpass). When the server answers that a password is missing or wrong, asks
 * once; a password that opens the database is stored for next time. Every error names the database without
 * its password.
 */
export async function openWithPassword<T>(url: string, deps: PasswordDeps<T>): Promise<T> {
  refusePasswordInSetting(url);
  const key = secretKey(url);
  const stored = await deps.getSecret(key);
  try {
    return await deps.open(stored ? withPassword(url, stored) : url);
  } catch (e) {
    const message = (e as Error)?.message ?? String(e);
    // the direct URL's own refusal is about that setting, not the database's password: said as it is
    if (!needsPassword(message) || (e as { option?: string }).option === 'directUrl') throw e;
    const typed = await deps.ask(
      redactLocation(url),
      stored ? 'the stored password was refused' : 'the server asks for a password',
    );
    if (!typed)
      throw new UsageError(
        `${message.split('\n')[0]}; no password was given (run "Discretion: Set Database Password...")`,
      );
    const s = await deps.open(withPassword(url, typed));
    await deps.storeSecret(key, typed);
    return s;
  }
}
