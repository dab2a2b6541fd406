import { connect, type Socket } from 'node:net';
import t from 'tap';
import { startServer } from '../../helpers/start-server.js';
import { parseResponse, type RawResponse } from '../../helpers/raw-http.js';
import { echoModule } from '../../helpers/test-modules.js';
import { builtinModules } from '../../../modules/index.js';
import { setConnectionLimits } from '../../../core/http/connection-guard.js';

/** Opens a socket from `localAddress`, writes `data`, and resolves with whatever the server answers. */
function openSlow(
  port: number,
  data: string,
  localAddress = '127.0.0.2',
): { socket: Socket; answer: Promise<RawResponse> } {
  const socket = connect({ port, host: '127.0.0.1', localAddress });
  const chunks: Buffer[] = [];
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => undefined);
  socket.write(data);
  const answer = new Promise<RawResponse>((resolve) =>
    socket.on('close', () => resolve(parseResponse(Buffer.concat(chunks).toString('utf8')))),
  );
  return { socket, answer };
}

void t.test('slow and hostile clients', async (t) => {
  setConnectionLimits({
    headersTimeoutMs: 800,
    bodyIdleTimeoutMs: 800,
    maxConnectionsPerIp: 20,
    exemptLoopback: false,
  });
  const server = await startServer(t, { modules: [...builtinModules, echoModule] });
  setConnectionLimits({});
  const port = Number(new URL(server.baseUrl).port);

  await t.test('headers that never finish → 408 with a Matrix error, then closed', async (t) => {
    const started = Date.now();
    const { answer } = openSlow(port, 'GET /_matrix/client/versions HTTP/1.1\r\nHost: x\r\nX-Slow: a');
    const res = await answer;
    t.same([res.status, res.body?.errcode], [408, 'M_UNKNOWN']);
    t.ok(Date.now() - started < 5000, `closed after ${Date.now() - started} ms`);
  });

  await t.test('a body that stalls → 408 with a Matrix error, then closed', async (t) => {
    const { answer } = openSlow(
      port,
      'POST /_matrix/client/v3/echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":',
    );
    const res = await answer;
    t.same([res.status, res.body?.errcode], [408, 'M_UNKNOWN']);
  });

  await t.test(
    'a slowloris from one address takes at most its share; other clients are served',
    async (t) => {
      const sockets = Array.from({ length: 200 }, () => openSlow(port, 'GET / HTTP/1.1\r\nHost: x\r\n'));
      await new Promise((r) => setTimeout(r, 200));
      const started = Date.now();
      const other = await server.request('GET', '/_matrix/client/versions');
      t.equal(other.status, 200, `another client is served in ${Date.now() - started} ms`);
      const answers = await Promise.all(sockets.map((s) => s.answer));
      const refused = answers.filter(
        (a) => a.status === 429 && a.body?.errcode === 'M_LIMIT_EXCEEDED',
      ).length;
      const timedOut = answers.filter((a) => a.status === 408 && a.body?.errcode === 'M_UNKNOWN').length;
      t.equal(refused, 180, 'beyond 20 per address: 429 M_LIMIT_EXCEEDED');
      t.equal(timedOut, 20, 'the 20 admitted are cut off by the headers timeout');
    },
  );

  await t.test('a request whose body has arrived is not cut off while the server works on it', async (t) => {
    const res = await server.request('POST', '/_matrix/client/v3/echo', { body: { a: 1 } });
    t.same(res.body?.got, { a: 1 });
  });
});

void t.test('behind a reverse proxy (x_forwarded) the per-address cap does not apply', async (t) => {
  setConnectionLimits({ headersTimeoutMs: 800, maxConnectionsPerIp: 5, exemptLoopback: false });
  const server = await startServer(t, {
    config: {
      listeners: [
        { port: 0, bind_addresses: ['127.0.0.1'], x_forwarded: true, resources: [{ names: ['client'] }] },
      ],
    },
  });
  setConnectionLimits({});
  const port = Number(new URL(server.baseUrl).port);
  const sockets = Array.from({ length: 20 }, () => openSlow(port, 'GET / HTTP/1.1\r\nHost: x\r\n'));
  const answers = await Promise.all(sockets.map((s) => s.answer));
  t.equal(
    answers.filter((a) => a.status === 408).length,
    20,
    'all 20 admitted, then cut off by the headers timeout',
  );
});
