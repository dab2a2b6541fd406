import t from 'tap';
import {
  isValidEventId,
  isValidLocalpart,
  isValidNamespacedIdentifier,
  isValidRoomAlias,
  isValidRoomId,
  isValidServerName,
  isValidUserId,
  parseRoomAlias,
  parseServerName,
  parseUserId,
  serverNameOf,
} from '../../../../core/protocol/identifiers.js';
import { getRoomVersion } from '../../../../core/protocol/room-versions.js';

const v = (id: string) => getRoomVersion(id)!;
const HASH43 = 'CD66HAED5npg6074c6pDtLKalHjVfYb2q4Q3LZgrW6o';

void t.test('server names: the spec examples are valid', async (t) => {
  for (const name of [
    'matrix.org',
    'matrix.org:8888',
    '1.2.3.4',
    '1.2.3.4:1234',
    '[1234:5678::abcd]',
    '[1234:5678::abcd]:5678',
  ]) {
    t.ok(isValidServerName(name), name);
  }
});

void t.test('server names: host kind and port are parsed', async (t) => {
  t.same(parseServerName('matrix.org:8448'), { host: 'matrix.org', kind: 'dns', port: 8448 });
  t.same(parseServerName('1.2.3.4'), { host: '1.2.3.4', kind: 'ipv4' });
  t.same(parseServerName('[::1]:80'), { host: '[::1]', kind: 'ipv6', port: 80 });
  t.same(parseServerName('[::ffff:1.2.3.4]'), { host: '[::ffff:1.2.3.4]', kind: 'ipv6' });
  t.same(parseServerName('localhost'), { host: 'localhost', kind: 'dns' });
  t.same(parseServerName('MATRIX.org'), { host: 'MATRIX.org', kind: 'dns' });
});

void t.test('server names: malformed ones are rejected', async (t) => {
  for (const name of [
    '',
    ':80',
    'matrix.org:',
    'matrix.org:123456',
    'matrix.org:8a',
    'matrix.org:80:80',
    'under_score.org',
    'spa ce.org',
    'ünïcode.org',
    '1.2.3.256',
    '[1234:5678::abcd',
    '[1234:5678::abcd]x',
    '[]',
    '[::g]',
    '[1:2:3:4:5:6:7:8:9]',
    '[fe80::1%eth0]',
    '1234:5678::abcd',
    'a'.repeat(256),
  ]) {
    t.notOk(isValidServerName(name), JSON.stringify(name));
  }
  t.ok(isValidServerName('a'.repeat(255)));
});

void t.test('strict localparts: only a-z 0-9 . _ = - / +', async (t) => {
  t.ok(isValidLocalpart('alice'));
  t.ok(isValidLocalpart('a.b_c=d-e/f+g0'));
  for (const bad of ['', 'Alice', 'al ice', 'al:ice', 'al*ice', 'ålice', '#x'])
    t.notOk(isValidLocalpart(bad), bad);
});

void t.test('user ids: strict grammar', async (t) => {
  t.same(parseUserId('@alice:example.org', { strict: true }), {
    localpart: 'alice',
    serverName: 'example.org',
  });
  t.same(parseUserId('@bob:[::1]:8448', { strict: true }), { localpart: 'bob', serverName: '[::1]:8448' });
  for (const bad of [
    'alice:example.org',
    '@Alice:example.org',
    '@:example.org',
    '@alice',
    '@alice:',
    '@alice:bad_host',
  ]) {
    t.notOk(isValidUserId(bad, { strict: true }), bad);
  }
});

void t.test(
  'user ids: the historical grammar accepts any code point but : and NUL, even empty',
  async (t) => {
    t.same(parseUserId('@Ålice Smith!:example.org'), {
      localpart: 'Ålice Smith!',
      serverName: 'example.org',
    });
    t.same(parseUserId('@:example.org'), { localpart: '', serverName: 'example.org' });
    t.ok(isValidUserId('@\u0007tab\t😀:example.org'));
    t.notOk(isValidUserId('@a\u0000b:example.org'));
    t.notOk(isValidUserId('@a\ud800b:example.org'), 'lone surrogate');
    t.notOk(isValidUserId('@alice:bad host'));
  },
);

void t.test('user ids: 255 bytes at most, counted in UTF-8', async (t) => {
  const server = ':example.org';
  const fits = '@' + 'a'.repeat(255 - 1 - server.length) + server;
  t.equal(Buffer.byteLength(fits), 255);
  t.ok(isValidUserId(fits, { strict: true }));
  t.notOk(isValidUserId('@a' + fits.slice(1), { strict: true }));
  const multibyte = '@' + 'é'.repeat(100) + server; // 213 bytes in 113 characters
  t.ok(isValidUserId(multibyte));
  t.notOk(isValidUserId('@' + 'é'.repeat(122) + server), '122 two-byte chars exceed 255 bytes');
});

void t.test('room ids: domain form for v1–11, hash form for v12', async (t) => {
  t.ok(isValidRoomId('!abcDEF123:example.org', v('11')));
  t.ok(isValidRoomId('!' + HASH43.replace('6', '-'), v('12')));
  t.notOk(isValidRoomId('!abc:example.org', v('12')));
  t.notOk(isValidRoomId('!' + HASH43, v('11')));
  t.notOk(isValidRoomId('!' + HASH43.slice(1), v('12')), 'too short for a sha256');
  t.notOk(isValidRoomId('!' + HASH43.slice(1) + '+', v('12')), 'standard alphabet');
});

void t.test('room ids: without a version either form is accepted, others rejected', async (t) => {
  t.ok(isValidRoomId('!abc:example.org'));
  t.ok(isValidRoomId('!' + HASH43));
  for (const bad of [
    '',
    'abc:example.org',
    '!:example.org',
    '!abc',
    '!abc:',
    '!a\u0000b:example.org',
    '$abc:example.org',
  ]) {
    t.notOk(isValidRoomId(bad), JSON.stringify(bad));
  }
});

void t.test('event ids per room version format', async (t) => {
  t.ok(isValidEventId('$abc:example.org', v('1')));
  t.notOk(isValidEventId('$' + HASH43, v('1')));
  t.ok(isValidEventId('$Rqnc+F/dvnEYJTyHq+iKxU2bZ1CI92/kuZq3a5lr5Zg', v('3')));
  t.notOk(isValidEventId('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg', v('3')));
  t.ok(isValidEventId('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg', v('4')));
  t.notOk(isValidEventId('$Rqnc+F/dvnEYJTyHq+iKxU2bZ1CI92/kuZq3a5lr5Zg', v('12')));
  t.notOk(isValidEventId('$abc:example.org', v('4')));
});

void t.test('event ids without a version: any known form', async (t) => {
  t.ok(isValidEventId('$abc:example.org'));
  t.ok(isValidEventId('$' + HASH43));
  t.ok(isValidEventId('$Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg'));
  for (const bad of ['', '$', '$abc', '!abc:example.org', '$' + 'a'.repeat(250) + ':example.org']) {
    t.notOk(isValidEventId(bad), bad);
  }
});

void t.test('room aliases', async (t) => {
  t.same(parseRoomAlias('#Matrix HQ:matrix.org'), { localpart: 'Matrix HQ', serverName: 'matrix.org' });
  for (const bad of [
    '#:matrix.org',
    'matrix:matrix.org',
    '#a\u0000:matrix.org',
    '#hq',
    '#hq:bad_host',
    '#' + 'a'.repeat(250) + ':matrix.org',
  ]) {
    t.notOk(isValidRoomAlias(bad), bad);
  }
});

void t.test('serverNameOf takes everything after the first colon', async (t) => {
  t.equal(serverNameOf('@alice:example.org'), 'example.org');
  t.equal(serverNameOf('@alice:[::1]:8448'), '[::1]:8448');
  t.equal(serverNameOf('$abc:example.org'), 'example.org');
  t.equal(serverNameOf('!' + HASH43), undefined);
});

void t.test('common namespaced identifiers', async (t) => {
  t.ok(isValidNamespacedIdentifier('m.login.password'));
  t.ok(isValidNamespacedIdentifier('com.example-x_1'));
  t.ok(isValidNamespacedIdentifier('a'.repeat(255)));
  for (const bad of ['', '1abc', '.m', 'M.login', 'm login', 'a'.repeat(256)])
    t.notOk(isValidNamespacedIdentifier(bad), bad);
});
