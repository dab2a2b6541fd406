import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { RECOMMENDED_IP_RANGE_BLACKLIST } from '../../../../../modules/url-previews/config.js';
import { IpRangeFilter } from '../../../../../core/http/ip-range-filter.js';
import { SafeFetcher, type Resolver } from '../../../../../modules/url-previews/services/safe-fetcher.js';

async function serve(
  t: Test,
  handler: Parameters<typeof createServer>[1],
): Promise<{ port: number; hosts: string[] }> {
  const hosts: string[] = [];
  const server: Server = createServer((req, res) => {
    hosts.push(req.headers.host ?? '');
    handler!(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as AddressInfo).port, hosts };
}

/** Fake DNS: names map to fixed answers; every lookup is recorded. */
function fakeDns(answers: Record<string, string[]>): Resolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string) => {
    calls.push(hostname);
    const list = answers[hostname];
    if (!list) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
    return list.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { calls });
}

const request = { maxBytes: 1000, accept: 'text/html' };

function fetcher(
  resolver: Resolver,
  whitelist: string[] = ['127.0.0.1'],
  extra: { timeoutMs?: number } = {},
): SafeFetcher {
  return new SafeFetcher({
    ipFilter: new IpRangeFilter(RECOMMENDED_IP_RANGE_BLACKLIST, whitelist),
    urlBlacklist: [],
    resolver,
    ...extra,
  });
}

void t.test('a name resolving to an allowed address is fetched, with its own Host header', async (t) => {
  const { port, hosts } = await serve(t, (_req, res) => res.end('hello'));
  const dns = fakeDns({ 'page.test': ['127.0.0.1'] });
  const result = await fetcher(dns).fetch(new URL(`http://page.test:${port}/`), request);
  t.equal(result.body.toString(), 'hello');
  t.same(hosts, [`page.test:${port}`]);
  t.same(dns.calls, ['page.test'], 'resolved exactly once');
});

void t.test(
  'a name with any blocked address is refused before connecting (no rebinding window)',
  async (t) => {
    const { port, hosts } = await serve(t, (_req, res) => res.end('secret'));
    const dns = fakeDns({ 'rebind.test': ['127.0.0.1', '10.0.0.1'] });
    await t.rejects(fetcher(dns).fetch(new URL(`http://rebind.test:${port}/`), request), {
      name: 'MatrixError',
      status: 403,
      errcode: 'M_UNKNOWN',
      message: 'IP address blocked',
    });
    t.same(hosts, [], 'no connection made');
  },
);

void t.test('IP literals are checked without DNS', async (t) => {
  const dns = fakeDns({});
  await t.rejects(fetcher(dns, []).fetch(new URL('http://127.0.0.1:1/'), request), {
    name: 'MatrixError',
    status: 403,
  });
  await t.rejects(fetcher(dns, []).fetch(new URL('http://[::1]:1/'), request), {
    name: 'MatrixError',
    status: 403,
  });
  await t.rejects(fetcher(dns, []).fetch(new URL('http://[::ffff:7f00:1]:1/'), request), {
    name: 'MatrixError',
    status: 403,
  });
  t.same(dns.calls, []);
});

void t.test('each redirect hop is checked again', async (t) => {
  const { port, hosts } = await serve(t, (req, res) => {
    if (req.url === '/start') {
      res.writeHead(302, { location: 'http://inside.test/admin' });
      res.end();
    } else res.end('should not be reached');
  });
  const dns = fakeDns({ 'page.test': ['127.0.0.1'], 'inside.test': ['192.168.0.10'] });
  await t.rejects(fetcher(dns).fetch(new URL(`http://page.test:${port}/start`), request), {
    name: 'MatrixError',
    status: 403,
  });
  t.same(hosts, [`page.test:${port}`]);
});

void t.test('redirects: followed, bounded, http(s) only', async (t) => {
  const { port } = await serve(t, (req, res) => {
    if (req.url === '/a') res.writeHead(301, { location: '/b' }).end();
    else if (req.url === '/b') res.end('landed');
    else if (req.url === '/loop') res.writeHead(302, { location: '/loop' }).end();
    else if (req.url === '/ftp') res.writeHead(302, { location: 'ftp://example.com/' }).end();
    else res.writeHead(404).end();
  });
  const f = fetcher(fakeDns({}));
  const ok = await f.fetch(new URL(`http://127.0.0.1:${port}/a`), request);
  t.equal(ok.body.toString(), 'landed');
  t.equal(ok.url.pathname, '/b');
  await t.rejects(f.fetch(new URL(`http://127.0.0.1:${port}/loop`), request), {
    name: 'MatrixError',
    status: 502,
    message: 'Too many redirects',
  });
  await t.rejects(f.fetch(new URL(`http://127.0.0.1:${port}/ftp`), request), {
    name: 'MatrixError',
    status: 502,
  });
  await t.rejects(f.fetch(new URL(`http://127.0.0.1:${port}/missing`), request), {
    name: 'MatrixError',
    status: 502,
    message: 'Got error 404',
  });
});

void t.test('the body is capped, declared or not', async (t) => {
  const { port } = await serve(t, (req, res) => {
    if (req.url === '/declared') res.writeHead(200, { 'content-length': '5000' }).end(Buffer.alloc(5000));
    else {
      res.writeHead(200);
      for (let i = 0; i < 10; i++) res.write(Buffer.alloc(500));
      res.end();
    }
  });
  const f = fetcher(fakeDns({}));
  for (const path of ['/declared', '/chunked']) {
    await t.rejects(f.fetch(new URL(`http://127.0.0.1:${port}${path}`), request), {
      name: 'MatrixError',
      status: 502,
      errcode: 'M_TOO_LARGE',
    });
  }
});

void t.test('slow servers time out; unknown names are a DNS failure', async (t) => {
  const { port } = await serve(t, () => undefined);
  await t.rejects(
    fetcher(fakeDns({}), ['127.0.0.1'], { timeoutMs: 200 }).fetch(
      new URL(`http://127.0.0.1:${port}/`),
      request,
    ),
    {
      name: 'MatrixError',
      status: 502,
    },
  );
  await t.rejects(fetcher(fakeDns({})).fetch(new URL('http://nowhere.test/'), request), {
    name: 'MatrixError',
    status: 502,
    message: 'DNS resolution failure during URL preview generation',
  });
});
