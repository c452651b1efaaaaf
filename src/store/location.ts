// A store's location as it may be shown: a `postgres://` URL without its password, whatever the spelling.
// Written with string operations, not `new URL`, because a password typed raw (with `@`, `/`, `?` or `#` in
// it) either does not parse or parses into the host, the path or the fragment, and must not come through
// either way. Where the end of the user-info part is ambiguous (an `@` after the host), everything up to the
// last `@` is taken for it: a URL shown with less than it holds, never with its secret.

// A scheme of two characters at least: one letter and a colon is a Windows drive (`C://data/x.db` is the file
// C:\data\x.db), which must be shown, and have its parameters read, as the file path it is.
const URL_START = /^(\s*[a-z][a-z0-9+.-]+:\/\/)([\s\S]*)$/i;

/** A PostgreSQL server's URL (`postgres://` or `postgresql://`, any letter case); anything else is a SQLite file. */
export function isDatabaseUrl(location: string): boolean {
  return /^postgres(ql)?:\/\//i.test(location.trim());
}

/** A query parameter's name or value as the pg client reads it (percent-decoded, `+` a space). */
function decoded(text: string): string {
  const raw = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

const paramName = (param: string) => decoded(param.split('=', 1)[0]);
/** `password`, in any letter case (the pg client reads only the lower case; hidden all the same). */
const isPasswordParam = (param: string) => paramName(param).trim().toLowerCase() === 'password';

interface Split {
  /** `scheme://`, the user-info part without its password, and the rest up to the query. */
  head: string;
  /** The query's parameters as written (`name=value`), the fragment left on the last one. */
  params: string[] | undefined;
  /** A non-empty password was found (in the user-info part or a `password` parameter). */
  hadPassword: boolean;
}

/** The URL in parts with the user-info password taken out; undefined for a location that is no URL (a file path). */
function split(location: string): Split | undefined {
  const m = URL_START.exec(location);
  if (!m) return undefined;
  const [, scheme, rest] = m;
  let hadPassword = false;
  let withoutUserPassword = rest;
  const authorityEnd = rest.search(/[/?#]/);
  const lastAt = rest.lastIndexOf('@');
  // The user-info part ends at the last `@` of the authority, or at the last `@` of all when one follows it.
  const userInfoEnd =
    authorityEnd >= 0 && lastAt > authorityEnd
      ? lastAt
      : rest.lastIndexOf('@', authorityEnd >= 0 ? authorityEnd : rest.length);
  if (userInfoEnd >= 0) {
    const userInfo = rest.slice(0, userInfoEnd);
    const colon = userInfo.indexOf(':');
    if (colon >= 0) {
      hadPassword = userInfo.length > colon + 1;
      withoutUserPassword = userInfo.slice(0, colon) + rest.slice(userInfoEnd);
    }
  }
  const q = withoutUserPassword.indexOf('?');
  if (q < 0) return { head: scheme + withoutUserPassword, params: undefined, hadPassword };
  const params = withoutUserPassword.slice(q + 1).split('&');
  for (const p of params) if (isPasswordParam(p) && /=./.test(p)) hadPassword = true;
  return { head: scheme + withoutUserPassword.slice(0, q), params, hadPassword };
}

function join(head: string, params: string[] | undefined): string {
  return params === undefined ? head : params.length ? `${head}?${params.join('&')}` : head;
}

/**
 * The location as it may be shown (in messages, logs, summaries, and as a secret's key): a URL keeps its
 * user, host, port, database and parameters, less the password of its user-info part and every `password`
 * parameter. A file path comes back as it is.
 */
export function redactLocation(location: string): string {
  const s = split(location);
  if (!s) return location;
  return join(
    s.head,
    s.params?.filter((p) => !isPasswordParam(p)),
  );
}

/** True when the URL carries a password: `user:secret@` or a `password=` parameter. */
export function locationHasPassword(location: string): boolean {
  return split(location)?.hadPassword ?? false;
}

/**
 * The URL less the query parameters named (for the pg client, which must not read the ones we interpret
 * ourselves), and their values (percent-decoded; the last one written wins, as in the pg client).
 */
export function takeParams(
  location: string,
  names: readonly string[],
): { location: string; values: Map<string, string> } {
  const m = URL_START.exec(location);
  const q = location.indexOf('?');
  const values = new Map<string, string>();
  if (!m || q < 0) return { location, values };
  const kept: string[] = [];
  for (const p of location.slice(q + 1).split('&')) {
    const name = paramName(p);
    if (!names.includes(name)) {
      kept.push(p);
      continue;
    }
    values.set(name, p.includes('=') ? decoded(p.slice(p.indexOf('=') + 1)) : '');
  }
  return { location: join(location.slice(0, q), kept), values };
}
