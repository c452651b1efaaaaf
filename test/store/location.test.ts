// The one location helper (src/store/location.ts): which locations are server URLs, and what of a URL may be
// shown. Every expected value is written out by hand; the secret in each case is a word that must not appear.
import { describe, expect, it } from 'vitest';
import { isDatabaseUrl, locationHasPassword, redactLocation } from '../../src/store';
import { takeParams } from '../../src/store/location';

describe('isDatabaseUrl', () => {
  it('takes postgres:// and postgresql:// in any letter case, with surrounding whitespace; everything else is a file', () => {
    for (const url of [
      'postgres://a@h/db',
      'postgresql://h/db',
      'POSTGRESQL://h/db',
      'PostGres://h',
      '  postgres://h/db\n',
    ])
      expect(isDatabaseUrl(url), url).toBe(true);
    for (const path of ['/data/postgres.db', 'postgres.db', 'postgres:/h/db', 'mysql://h/db', 'C:\\data\\x.db', ''])
      expect(isDatabaseUrl(path), path).toBe(false);
  });
});

describe('redactLocation and locationHasPassword', () => {
  const cases: { url: string; shown: string; secret?: string }[] = [
    // the user-info password
    {
      url: 'postgres://lead:s3cret@db.example:5432/discretion',
      shown: 'postgres://lead@db.example:5432/discretion',
      secret: 's3cret',
    },
    // a password parameter, first and later in the query; the other parameters stay, in their order
    { url: 'postgres://lead@db.example/d?password=s3cret', shown: 'postgres://lead@db.example/d', secret: 's3cret' },
    {
      url: 'postgres://lead@db.example/d?sslmode=require&password=s3cret&application_name=x',
      shown: 'postgres://lead@db.example/d?sslmode=require&application_name=x',
      secret: 's3cret',
    },
    {
      url: 'postgres://db.example/d?user=lead&password=s3cret',
      shown: 'postgres://db.example/d?user=lead',
      secret: 's3cret',
    },
    // both at once
    { url: 'postgres://lead:first1@h/d?password=second2', shown: 'postgres://lead@h/d', secret: 'first1' },
    // the parameter's name percent-encoded (the pg client decodes it) or in capitals
    { url: 'postgres://h/d?%70assword=s3cret&x=1', shown: 'postgres://h/d?x=1', secret: 's3cret' },
    { url: 'postgres://h/d?PASSWORD=s3cret', shown: 'postgres://h/d', secret: 's3cret' },
    // any spelling of the scheme
    { url: 'POSTGRESQL://lead:s3cret@h:5433/d', shown: 'POSTGRESQL://lead@h:5433/d', secret: 's3cret' },
    // percent-encoded passwords ("p@ss:w/rd?#" and "%")
    { url: 'postgres://lead:p%40ss%3Aw%2Frd%3F%23@h/d', shown: 'postgres://lead@h/d', secret: 'p%40ss' },
    { url: 'postgres://lead:100%25sure@h/d', shown: 'postgres://lead@h/d', secret: '100%25sure' },
    // passwords typed raw with @, /, ? or # in them (new URL fails on some, misreads others)
    { url: 'postgres://lead:p@ss@h:5432/d', shown: 'postgres://lead@h:5432/d', secret: 'p@ss' },
    { url: 'postgres://lead:12/secret@h/d', shown: 'postgres://lead@h/d', secret: 'secret' },
    { url: 'postgres://lead:ab?cd@h/d', shown: 'postgres://lead@h/d', secret: 'ab?cd' },
    { url: 'postgres://lead:12#frag@h/d', shown: 'postgres://lead@h/d', secret: 'frag' },
    { url: 'postgres://lead@h/d?password=a#b&c=1', shown: 'postgres://lead@h/d?c=1', secret: 'a#b' },
    // a URL new URL cannot parse at all (a space in the host, a bad port), with a password
    { url: 'postgres://lead:s3cret@bad host:99999/d', shown: 'postgres://lead@bad host:99999/d', secret: 's3cret' },
    { url: 'postgresql://lead:s3cret@[::1/d?password=other', shown: 'postgresql://lead@[::1/d', secret: 'other' },
  ];

  it.each(cases)('$url -> $shown', ({ url, shown, secret }) => {
    expect(redactLocation(url)).toBe(shown);
    expect(redactLocation(url)).not.toContain(secret);
    expect(locationHasPassword(url)).toBe(true);
    expect(locationHasPassword(shown)).toBe(false);
  });

  it('leaves a URL without a password, and a file path, exactly as it is', () => {
    for (const url of [
      'postgres://lead@db.example:5432/discretion',
      'postgresql://db.example/d?sslmode=verify-full&sslrootcert=/etc/ca.pem',
      'postgres://h/d?application_name=a%20b&options=-c%20x%3Dy',
      'postgres:///d?host=/var/run/postgresql',
      '/home/ana/labels.db',
      'a:b@c.db',
    ]) {
      expect(redactLocation(url), url).toBe(url);
      expect(locationHasPassword(url), url).toBe(false);
    }
  });

  it('a Windows path is a file, whatever its separators: a drive letter is no URL scheme', () => {
    for (const path of [
      'C:\\Users\\ana\\x.db',
      'c:/Users/ana/x.db',
      'C://Users/ana:pw@x.db',
      'C://data/x.db?password=1',
      '\\\\server\\share\\a:b@x.db',
    ]) {
      expect(isDatabaseUrl(path), path).toBe(false);
      expect(redactLocation(path), path).toBe(path);
      expect(locationHasPassword(path), path).toBe(false);
      expect(takeParams(path, ['password']), path).toEqual({ location: path, values: new Map() });
    }
  });

  it('an empty password is none: nothing to refuse, and the empty parts are not shown', () => {
    expect(locationHasPassword('postgres://lead:@h/d')).toBe(false);
    expect(redactLocation('postgres://lead:@h/d')).toBe('postgres://lead@h/d');
    expect(locationHasPassword('postgres://h/d?password=&x=1')).toBe(false);
    expect(redactLocation('postgres://h/d?password=&x=1')).toBe('postgres://h/d?x=1');
  });
});

describe('takeParams', () => {
  it('takes the named parameters out (values percent-decoded, the last one written wins) and keeps the rest as written', () => {
    const r = takeParams(
      'postgres://lead:pw@h/d?sslmode=prefer&application_name=a%20b&sslrootcert=%2Fetc%2Fca.pem&sslmode=require',
      ['sslmode', 'sslrootcert'],
    );
    expect(r.location).toBe('postgres://lead:pw@h/d?application_name=a%20b');
    expect([...r.values]).toEqual([
      ['sslmode', 'require'],
      ['sslrootcert', '/etc/ca.pem'],
    ]);
    expect(takeParams('postgres://h/d?sslmode=disable', ['sslmode']).location).toBe('postgres://h/d');
    expect(takeParams('postgres://h/d', ['sslmode'])).toEqual({ location: 'postgres://h/d', values: new Map() });
  });
});
