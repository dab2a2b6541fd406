import t from 'tap';
import { startServer } from '../../helpers/start-server.js';
import { echoModule } from '../../helpers/test-modules.js';
import { builtinModules } from '../../../modules/index.js';
import { createLogger } from '../../../core/logger.js';
import { makeUser, openRegistrationConfig } from '../../helpers/fixtures.js';

const modules = [...builtinModules, echoModule];

void t.test('the HTTP contract every module relies on', async (t) => {
  const server = await startServer(t, { modules });

  await t.test('GET /_matrix/client/versions lists spec versions', async (t) => {
    const res = await server.request('GET', '/_matrix/client/versions');
    t.equal(res.status, 200);
    t.ok(res.body.versions.includes('v1.1'));
    t.same(res.body.unstable_features, {});
  });

  await t.test('a NUL in a path parameter → 400 M_INVALID_PARAM, on any route', async (t) => {
    const res = await server.request('GET', '/_matrix/client/v3/profile/%40a%00b%3Atest.local');
    t.same([res.status, res.body.errcode], [400, 'M_INVALID_PARAM']);
  });

  await t.test('unknown endpoint → 404 M_UNRECOGNIZED', async (t) => {
    const res = await server.request('GET', '/_matrix/client/v3/no/such/thing');
    t.equal(res.status, 404);
    t.equal(res.body.errcode, 'M_UNRECOGNIZED');
  });

  await t.test('wrong method → 405 M_UNRECOGNIZED', async (t) => {
    const res = await server.request('DELETE', '/_matrix/client/versions');
    t.equal(res.status, 405);
    t.equal(res.body.errcode, 'M_UNRECOGNIZED');
  });

  await t.test('malformed JSON → 400 M_NOT_JSON', async (t) => {
    const res = await server.request('POST', '/_matrix/client/v3/echo', {
      rawBody: '{"a":',
      headers: { 'content-type': 'application/json' },
    });
    t.equal(res.status, 400);
    t.equal(res.body.errcode, 'M_NOT_JSON');
  });

  await t.test('a body over the limit → 413 M_TOO_LARGE', async (t) => {
    const res = await server.request('POST', '/_matrix/client/v3/echo', {
      rawBody: JSON.stringify({ big: 'x'.repeat(1024 * 1024 + 10) }),
      headers: { 'content-type': 'application/json' },
    });
    t.equal(res.status, 413);
    t.equal(res.body.errcode, 'M_TOO_LARGE');
  });

  await t.test('a body of the wrong shape → 400 M_BAD_JSON / M_MISSING_PARAM', async (t) => {
    const wrongType = await server.request('POST', '/_matrix/client/v3/echo/typed', { body: { n: 'one' } });
    t.equal(wrongType.status, 400);
    t.equal(wrongType.body.errcode, 'M_BAD_JSON');
    const missing = await server.request('POST', '/_matrix/client/v3/echo/typed', { body: {} });
    t.equal(missing.status, 400);
    t.equal(missing.body.errcode, 'M_MISSING_PARAM');
    const notObject = await server.request('POST', '/_matrix/client/v3/echo/typed', { body: [1, 2] });
    t.equal(notObject.body.errcode, 'M_BAD_JSON');
  });

  await t.test('an unexpected error → 500 M_UNKNOWN without internals', async (t) => {
    const res = await server.request('GET', '/_matrix/client/v3/echo/boom');
    t.equal(res.status, 500);
    t.equal(res.body.errcode, 'M_UNKNOWN');
    t.notMatch(res.text, /secret internal detail|at .*\.ts/);
  });

  await t.test('a MatrixError renders as itself', async (t) => {
    const res = await server.request('GET', '/_matrix/client/v3/echo/forbidden');
    t.equal(res.status, 403);
    t.same(res.body, { errcode: 'M_FORBIDDEN', error: 'no' });
  });

  await t.test('CORS headers and OPTIONS preflight', async (t) => {
    const res = await server.request('GET', '/_matrix/client/versions', {
      headers: { origin: 'https://app.example' },
    });
    t.equal(res.headers.get('access-control-allow-origin'), '*');
    const pre = await server.request('OPTIONS', '/_matrix/client/v3/echo', {
      headers: {
        origin: 'https://app.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    t.ok(pre.status === 200 || pre.status === 204, `preflight status ${pre.status}`);
    t.match(pre.headers.get('access-control-allow-methods') ?? '', /POST/);
    t.match(pre.headers.get('access-control-allow-headers') ?? '', /Authorization/i);
  });

  await t.test('r0 is an alias of v3', async (t) => {
    const res = await server.request('POST', '/_matrix/client/r0/echo', { body: { a: 1 } });
    t.equal(res.status, 200);
    t.same(res.body, { prefix: 'echo:', got: { a: 1 } });
  });

  await t.test('auth-required routes without a token → 401 M_MISSING_TOKEN', async (t) => {
    const res = await server.request('GET', '/_matrix/client/v3/echo/whoami');
    t.equal(res.status, 401);
    t.equal(res.body.errcode, 'M_MISSING_TOKEN');
  });

  await t.test('health endpoint', async (t) => {
    const res = await server.request('GET', '/health');
    t.equal(res.status, 200);
    t.equal(res.text, 'OK');
  });

  await t.test('well-known: 404 unless configured', async (t) => {
    t.equal((await server.request('GET', '/.well-known/matrix/client')).status, 404);
    t.equal((await server.request('GET', '/.well-known/matrix/server')).status, 404);
  });
});

void t.test('well-known documents come from config', async (t) => {
  const server = await startServer(t, {
    config: { public_baseurl: 'https://matrix.example.org', serve_server_wellknown: true },
  });
  const client = await server.request('GET', '/.well-known/matrix/client');
  t.same(client.body, { 'm.homeserver': { base_url: 'https://matrix.example.org/' } });
  const fed = await server.request('GET', '/.well-known/matrix/server');
  t.same(fed.body, { 'm.server': 'matrix.example.org:443' });
});

void t.test('graceful stop finishes in-flight requests', async (t) => {
  const server = await startServer(t, { modules });
  const slow = server.request('GET', '/_matrix/client/v3/echo/slow');
  await new Promise((r) => setTimeout(r, 50));
  const stopping = server.stop();
  const res = await slow;
  await stopping;
  t.equal(res.status, 200);
  t.same(res.body, { slow: true });
  await t.rejects(server.request('GET', '/_matrix/client/versions'), 'no longer accepting');
});

void t.test('the access log names the request and, once authenticated, the user', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
  const server = await startServer(t, { config: { ...openRegistrationConfig, log_level: 'info' }, logger });
  const alice = await makeUser(server, { localpart: 'alice' });
  lines.length = 0;
  await server.request('GET', '/_matrix/client/v3/account/whoami', { token: alice.accessToken });
  await server.request('GET', '/_matrix/client/versions');
  const requests = lines.filter((l) => l['msg'] === 'request');
  t.match(requests, [
    { path: '/_matrix/client/v3/account/whoami', status: 200, user: alice.userId, requestId: String },
    { path: '/_matrix/client/versions', status: 200, requestId: String },
  ]);
  t.notOk('user' in (requests[1] ?? {}), 'no user on an unauthenticated request');
  t.not(requests[0]?.['requestId'], requests[1]?.['requestId'], 'one id per request');
});
