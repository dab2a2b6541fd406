import t from 'tap';
import {
  assertMediaAddress,
  generateMediaId,
  isValidMediaId,
  isValidServerName,
  parseMxcUri,
} from '../../../../modules/media/ids.js';

void t.test('media ids allow only A-Za-z0-9, _ and - (spec security considerations)', async (t) => {
  t.ok(isValidMediaId('AQwafuaFswefuhsfAFAgsw'));
  t.ok(isValidMediaId('a_b-C9'));
  for (const bad of ['', '..', '../etc/passwd', 'a/b', 'a.b', 'a%2Fb', 'é', 'a b', 'a\\b', 'x'.repeat(256)]) {
    t.notOk(isValidMediaId(bad), JSON.stringify(bad));
  }
});

void t.test('server names follow the appendix grammar', async (t) => {
  for (const good of [
    'matrix.org',
    'example.com:8448',
    '1.2.3.4',
    '1.2.3.4:1234',
    '[1234:5678::abcd]',
    '[::1]:8448',
    'localhost',
  ]) {
    t.ok(isValidServerName(good), good);
  }
  for (const bad of [
    '',
    '..',
    'a/b',
    'example.com:',
    'exa mple.com',
    '-bad.com',
    'a..b',
    '[::1',
    'example.com:123456',
  ]) {
    t.notOk(isValidServerName(bad), bad);
  }
});

void t.test('assertMediaAddress refuses with 400', async (t) => {
  t.throws(() => assertMediaAddress('127.0.0.1', '../../../some_service/etc/passwd'), {
    name: 'MatrixError',
    status: 400,
  });
  t.throws(() => assertMediaAddress('..', 'abc'), { name: 'MatrixError', status: 400 });
  t.doesNotThrow(() => assertMediaAddress('example.com', 'abc'));
});

void t.test('generated ids are 24 letters and distinct', async (t) => {
  const a = generateMediaId();
  t.match(a, /^[A-Za-z]{24}$/);
  t.not(a, generateMediaId());
});

void t.test('mxc URIs parse only when both parts are valid', async (t) => {
  t.same(parseMxcUri('mxc://example.com/AQwafuaFswefuhsfAFAgsw'), {
    serverName: 'example.com',
    mediaId: 'AQwafuaFswefuhsfAFAgsw',
  });
  t.equal(parseMxcUri('mxc://127.0.0.1/../../../some_service/etc/passwd'), undefined);
  t.equal(parseMxcUri('https://example.com/abc'), undefined);
});
