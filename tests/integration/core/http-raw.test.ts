import t, { type Test } from 'tap';
import { startServer } from '../../helpers/start-server.js';
import { rawRequest } from '../../helpers/raw-http.js';
import { builtinModules } from '../../../modules/index.js';
import { echoModule } from '../../helpers/test-modules.js';

const modules = [...builtinModules, echoModule];

void t.test('requests refused below the router still get a Matrix error', async (t) => {
  const server = await startServer(t, { modules });
  const send = (data: string | Buffer) => rawRequest(server.baseUrl, data);
  const expectError = async (
    t: Test,
    data: string | Buffer,
    status: number,
    errcode: string,
  ): Promise<void> => {
    const res = await send(data);
    t.same([res.status, res.body?.errcode], [status, errcode], res.text);
    t.match(res.headers['content-type'] ?? '', /^application\/json/);
  };

  await t.test('malformed HTTP → 400 M_UNRECOGNIZED', async (t) => {
    await expectError(t, 'GARBAGE\r\n\r\n', 400, 'M_UNRECOGNIZED');
    await expectError(t, 'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n', 400, 'M_UNRECOGNIZED');
    await expectError(
      t,
      'POST /_matrix/client/v3/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}',
      400,
      'M_UNRECOGNIZED',
    );
    await expectError(
      t,
      'POST /_matrix/client/v3/echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n',
      400,
      'M_UNRECOGNIZED',
    );
    await expectError(t, 'FOO /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n', 400, 'M_UNRECOGNIZED');
  });

  await t.test('a body that ends before its Content-Length → 400 M_UNRECOGNIZED', async (t) => {
    await expectError(
      t,
      'POST /_matrix/client/v3/echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"a":',
      400,
      'M_UNRECOGNIZED',
    );
  });

  await t.test('URL too long → 414, headers too large → 431, both M_TOO_LARGE', async (t) => {
    await expectError(t, `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`, 414, 'M_TOO_LARGE');
    await expectError(
      t,
      `GET / HTTP/1.1\r\nHost: x\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n`,
      431,
      'M_TOO_LARGE',
    );
  });

  await t.test('CONNECT → 405 M_UNRECOGNIZED (Axon is no proxy)', async (t) => {
    await expectError(
      t,
      'CONNECT example.org:443 HTTP/1.1\r\nHost: example.org\r\n\r\n',
      405,
      'M_UNRECOGNIZED',
    );
  });

  await t.test('wrong method on a known path → 405 M_UNRECOGNIZED', async (t) => {
    await expectError(t, 'PATCH /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'M_UNRECOGNIZED');
    await expectError(t, 'TRACE /_matrix/client/versions HTTP/1.1\r\nHost: x\r\n\r\n', 405, 'M_UNRECOGNIZED');
  });

  await t.test('a body on GET → 400 M_UNRECOGNIZED', async (t) => {
    await expectError(
      t,
      'GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
      400,
      'M_UNRECOGNIZED',
    );
    const empty = await send('GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n');
    t.equal(empty.status, 200);
  });

  await t.test('an HTTP/1.1 request without Host is served, as Synapse does', async (t) => {
    const res = await send('GET /_matrix/client/versions HTTP/1.1\r\n\r\n');
    t.equal(res.status, 200);
  });

  await t.test('a Content-Encoding or non-UTF-8 charset Axon does not decode → 415 M_NOT_JSON', async (t) => {
    const gzip = await server.request('POST', '/_matrix/client/v3/echo', {
      rawBody: '{}',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
    });
    t.same([gzip.status, gzip.body.errcode], [415, 'M_NOT_JSON']);
    const charset = await server.request('POST', '/_matrix/client/v3/echo', {
      rawBody: '{}',
      headers: { 'content-type': 'application/json; charset=utf-16' },
    });
    t.same([charset.status, charset.body.errcode], [415, 'M_NOT_JSON']);
    // Synapse ignores the media type; so does Axon (curl -d sends x-www-form-urlencoded).
    const form = await server.request('POST', '/_matrix/client/v3/echo', {
      rawBody: '{"a":1}',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    t.same([form.status, form.body.got], [200, { a: 1 }]);
  });

  await t.test('the server still answers after all of it', async (t) => {
    t.equal((await server.request('GET', '/_matrix/client/versions')).status, 200);
  });
});
