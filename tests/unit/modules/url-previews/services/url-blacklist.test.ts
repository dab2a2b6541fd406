import t from 'tap';
import {
  globToRegExp,
  isUrlBlacklisted,
} from '../../../../../modules/url-previews/services/url-blacklist.js';

// The example list from Synapse's homeserver.yaml documentation.
const SYNAPSE_EXAMPLE: Record<string, string>[] = [
  { username: '*' },
  { netloc: 'google.com' },
  { netloc: '*.google.com' },
  { scheme: 'http' },
  { netloc: 'www.acme.com', path: '/foo' },
  { netloc: '^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$' },
];

const blocked = (url: string): boolean => isUrlBlacklisted(new URL(url), SYNAPSE_EXAMPLE);

void t.test("Synapse's documented examples", async (t) => {
  t.ok(blocked('https://user@example.com/'), 'any username');
  t.ok(blocked('https://google.com/search'));
  t.ok(blocked('https://mail.google.com/'));
  t.ok(blocked('http://example.com/'), 'plain http');
  t.ok(blocked('https://www.acme.com/foo'));
  t.notOk(blocked('https://www.acme.com/bar'), 'every key of an entry must match');
  t.ok(blocked('https://1.2.3.4/'), 'regex on the netloc');
  t.notOk(blocked('https://example.com/'));
  t.notOk(blocked('https://notgoogle.com/'));
});

void t.test('a component that is absent never matches', async (t) => {
  t.notOk(isUrlBlacklisted(new URL('https://example.com/'), [{ port: '*' }]));
  t.ok(isUrlBlacklisted(new URL('https://example.com:8443/'), [{ port: '84*' }]));
});

void t.test('fnmatch globs', async (t) => {
  t.ok(globToRegExp('*.example.com').test('a.b.example.com'));
  t.notOk(globToRegExp('*.example.com').test('example.com'));
  t.ok(globToRegExp('file?.txt').test('file1.txt'));
  t.ok(globToRegExp('[abc]x').test('bx'));
  t.notOk(globToRegExp('[!abc]x').test('bx'));
  t.ok(globToRegExp('a.b').test('a.b'));
  t.notOk(globToRegExp('a.b').test('axb'), 'dots are literal');
});
