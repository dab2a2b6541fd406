import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { createPluginHttpClient } from '../../../../core/plugins/http-client.js';

async function server(t: Test, answer: boolean): Promise<string> {
  const s: Server = createServer((_req, res) => {
    if (answer) res.end('hello');
    // else: never answer
  });
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    s.closeAllConnections();
    s.close();
  });
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/`;
}

void t.test('fetch answers as fetch does', async (t) => {
  const res = await createPluginHttpClient().fetch(await server(t, true));
  t.equal(await res.text(), 'hello');
});

void t.test('fetch rejects when the server does not answer within the timeout', async (t) => {
  const url = await server(t, false);
  const started = performance.now();
  await t.rejects(createPluginHttpClient(5_000).fetch(url, { timeoutMs: 50 }), { name: 'TimeoutError' });
  t.ok(performance.now() - started < 2_000);
});

void t.test('the default timeout applies when none is given', async (t) => {
  await t.rejects(createPluginHttpClient(50).fetch(await server(t, false)), { name: 'TimeoutError' });
});

void t.test("a caller's own abort signal still works", async (t) => {
  const controller = new AbortController();
  const pending = createPluginHttpClient().fetch(await server(t, false), { signal: controller.signal });
  controller.abort();
  await t.rejects(pending, { name: 'AbortError' });
});
