import t from 'tap';
import type { DnsResolver, SrvAnswer } from '../../../../modules/federation/services/dns.js';
import {
  cachePeriod,
  orderSrv,
  parseWellKnown,
  ServerNameResolver,
  WELL_KNOWN_DEFAULT_CACHE_MS,
  WELL_KNOWN_MAX_CACHE_MS,
  WELL_KNOWN_MIN_CACHE_MS,
  type WellKnownResponse,
} from '../../../../modules/federation/services/server-name-resolver.js';

/** A resolver with scripted DNS and well-known answers; counts the well-known fetches. */
function fixture(opts: {
  srv?: Record<string, SrvAnswer[]>;
  wellKnown?: Record<string, WellKnownResponse | Error>;
}) {
  let clock = 1_000_000;
  const fetched: string[] = [];
  const srvAsked: string[] = [];
  const dns: DnsResolver = {
    resolveSrv: async (name) => {
      srvAsked.push(name);
      return opts.srv?.[name] ?? [];
    },
    lookup: async () => [{ address: '192.0.2.1', family: 4 }],
  };
  const resolver = new ServerNameResolver({
    dns,
    now: () => clock,
    wellKnownFetcher: {
      fetch: async (hostname) => {
        fetched.push(hostname);
        const answer = opts.wellKnown?.[hostname] ?? new Error('connection refused');
        if (answer instanceof Error) throw answer;
        return answer;
      },
    },
  });
  return { resolver, fetched, srvAsked, advance: (ms: number) => (clock += ms) };
}

const json = (body: unknown, cacheControl?: string): WellKnownResponse => ({
  status: 200,
  body: Buffer.from(JSON.stringify(body)),
  cacheControl,
});

void t.test('step 1: IP literals, with and without port; Host is the server name, no SNI', async (t) => {
  const { resolver, fetched } = fixture({});
  t.same(await resolver.resolve('192.0.2.7'), {
    serverName: '192.0.2.7',
    hostHeader: '192.0.2.7',
    tlsName: '192.0.2.7',
    sni: undefined,
    targets: [{ host: '192.0.2.7', port: 8448 }],
  });
  t.same(await resolver.resolve('[2001:db8::1]:1234'), {
    serverName: '[2001:db8::1]:1234',
    hostHeader: '[2001:db8::1]:1234',
    tlsName: '2001:db8::1',
    sni: undefined,
    targets: [{ host: '2001:db8::1', port: 1234 }],
  });
  t.same(fetched, [], 'no well-known lookup for IP literals');
});

void t.test('step 2: a hostname with an explicit port is used as is, no well-known, no SRV', async (t) => {
  const { resolver, fetched, srvAsked } = fixture({});
  t.same(await resolver.resolve('example.org:8000'), {
    serverName: 'example.org:8000',
    hostHeader: 'example.org:8000',
    tlsName: 'example.org',
    sni: 'example.org',
    targets: [{ host: 'example.org', port: 8000 }],
  });
  t.same(fetched, []);
  t.same(srvAsked, []);
});

void t.test('step 3: well-known delegation, every sub-case', async (t) => {
  const { resolver } = fixture({
    wellKnown: {
      'ip.example': json({ 'm.server': '[2001:db8::5]:9000' }),
      'ipnoport.example': json({ 'm.server': '192.0.2.9' }),
      'port.example': json({ 'm.server': 'matrix.port.example:443' }),
      'srv.example': json({ 'm.server': 'matrix.srv.example' }),
      'oldsrv.example': json({ 'm.server': 'matrix.oldsrv.example' }),
      'plain.example': json({ 'm.server': 'matrix.plain.example' }),
    },
    srv: {
      '_matrix-fed._tcp.matrix.srv.example': [
        { name: 'fed.srv.example', port: 8443, priority: 1, weight: 0 },
      ],
      '_matrix._tcp.matrix.oldsrv.example': [{ name: 'old.example.', port: 8449, priority: 1, weight: 0 }],
      // SRV on the original name must be ignored when well-known delegates.
      '_matrix-fed._tcp.plain.example': [{ name: 'wrong.example', port: 1, priority: 1, weight: 0 }],
    },
  });
  t.same(
    await resolver.resolve('ip.example'),
    {
      serverName: 'ip.example',
      hostHeader: '[2001:db8::5]:9000',
      tlsName: '2001:db8::5',
      sni: undefined,
      targets: [{ host: '2001:db8::5', port: 9000 }],
    },
    '3.1: delegated IP literal',
  );
  t.same(
    (await resolver.resolve('ipnoport.example')).targets,
    [{ host: '192.0.2.9', port: 8448 }],
    '3.1: 8448',
  );
  t.same(
    await resolver.resolve('port.example'),
    {
      serverName: 'port.example',
      hostHeader: 'matrix.port.example:443',
      tlsName: 'matrix.port.example',
      sni: 'matrix.port.example',
      targets: [{ host: 'matrix.port.example', port: 443 }],
    },
    '3.2: delegated name with port',
  );
  t.same(
    await resolver.resolve('srv.example'),
    {
      serverName: 'srv.example',
      hostHeader: 'matrix.srv.example',
      tlsName: 'matrix.srv.example',
      sni: 'matrix.srv.example',
      targets: [{ host: 'fed.srv.example', port: 8443 }],
    },
    '3.3: _matrix-fed._tcp on the delegated name; Host and certificate are the delegated name',
  );
  t.same((await resolver.resolve('oldsrv.example')).targets, [{ host: 'old.example', port: 8449 }], '3.4');
  t.same(
    await resolver.resolve('plain.example'),
    {
      serverName: 'plain.example',
      hostHeader: 'matrix.plain.example',
      tlsName: 'matrix.plain.example',
      sni: 'matrix.plain.example',
      targets: [{ host: 'matrix.plain.example', port: 8448 }],
    },
    '3.5: delegated name on 8448',
  );
});

void t.test(
  'steps 4–6: without a valid well-known, SRV _matrix-fed then _matrix on the name, then 8448',
  async (t) => {
    const { resolver, srvAsked } = fixture({
      srv: {
        '_matrix-fed._tcp.fed.example': [{ name: 'a.fed.example', port: 1111, priority: 0, weight: 0 }],
        '_matrix._tcp.fed.example': [{ name: 'never.example', port: 2, priority: 0, weight: 0 }],
        '_matrix._tcp.old.example': [{ name: 'b.old.example', port: 2222, priority: 0, weight: 0 }],
      },
    });
    t.same(await resolver.resolve('fed.example'), {
      serverName: 'fed.example',
      hostHeader: 'fed.example',
      tlsName: 'fed.example',
      sni: 'fed.example',
      targets: [{ host: 'a.fed.example', port: 1111 }],
    });
    t.notOk(
      srvAsked.includes('_matrix._tcp.fed.example'),
      '_matrix._tcp is asked only when _matrix-fed has none',
    );
    t.same((await resolver.resolve('old.example')).targets, [{ host: 'b.old.example', port: 2222 }]);
    t.same(await resolver.resolve('none.example'), {
      serverName: 'none.example',
      hostHeader: 'none.example',
      tlsName: 'none.example',
      sni: 'none.example',
      targets: [{ host: 'none.example', port: 8448 }],
    });
  },
);

void t.test('invalid well-known answers fall through to SRV / 8448', async (t) => {
  const cases: [string, WellKnownResponse][] = [
    ['status', { status: 404, body: Buffer.from('{"m.server":"x.example"}'), cacheControl: undefined }],
    ['notjson', { status: 200, body: Buffer.from('<html>'), cacheControl: undefined }],
    ['array', json(['m.server'])],
    ['missing', json({ server: 'x.example' })],
    ['number', json({ 'm.server': 42 })],
    ['badname', json({ 'm.server': 'bad name:99999999' })],
  ];
  const { resolver } = fixture({ wellKnown: Object.fromEntries(cases.map(([h, r]) => [`${h}.example`, r])) });
  for (const [h] of cases) {
    t.same((await resolver.resolve(`${h}.example`)).targets, [{ host: `${h}.example`, port: 8448 }], h);
  }
  t.same(parseWellKnown(json({ 'm.server': 'ok.example:1' })), {
    ok: true,
    delegated: 'ok.example:1',
    cacheMs: WELL_KNOWN_DEFAULT_CACHE_MS,
  });
});

void t.test('well-known answers are cached by Cache-Control; errors with exponential backoff', async (t) => {
  const f = fixture({
    wellKnown: { 'cached.example': json({ 'm.server': 'm.cached.example' }, 'max-age=600') },
  });
  await f.resolver.resolve('cached.example');
  await f.resolver.resolve('cached.example');
  t.equal(f.fetched.length, 1, 'second resolution served from the cache');
  f.advance(601_000);
  await f.resolver.resolve('cached.example');
  t.equal(f.fetched.length, 2, 'refetched after max-age');

  // Errors: 2 min, then 4 min, …
  await f.resolver.resolve('down.example');
  await f.resolver.resolve('down.example');
  t.equal(f.fetched.filter((h) => h === 'down.example').length, 1, 'error cached');
  f.advance(2 * 60_000 + 1);
  await f.resolver.resolve('down.example');
  t.equal(f.fetched.filter((h) => h === 'down.example').length, 2, 'retried after 2 minutes');
  f.advance(2 * 60_000 + 1);
  await f.resolver.resolve('down.example');
  t.equal(f.fetched.filter((h) => h === 'down.example').length, 2, 'second failure is cached for 4 minutes');
  f.advance(2 * 60_000);
  await f.resolver.resolve('down.example');
  t.equal(f.fetched.filter((h) => h === 'down.example').length, 3);

  t.equal(cachePeriod(undefined), WELL_KNOWN_DEFAULT_CACHE_MS, '24 h without headers');
  t.equal(cachePeriod('public, max-age=999999999'), WELL_KNOWN_MAX_CACHE_MS, 'capped at 48 h');
  t.equal(cachePeriod('max-age=1'), WELL_KNOWN_MIN_CACHE_MS, 'at least 5 minutes');
  t.equal(cachePeriod('no-store'), WELL_KNOWN_MIN_CACHE_MS);
});

void t.test('concurrent resolutions share one well-known fetch', async (t) => {
  const f = fixture({ wellKnown: { 'shared.example': json({ 'm.server': 'x.shared.example' }) } });
  await Promise.all([f.resolver.resolve('shared.example'), f.resolver.resolve('shared.example')]);
  t.equal(f.fetched.length, 1);
});

void t.test('SRV order: priority first, then weighted; "." means no service', async (t) => {
  const records: SrvAnswer[] = [
    { name: 'c', port: 3, priority: 20, weight: 0 },
    { name: 'a', port: 1, priority: 10, weight: 1 },
    { name: 'b', port: 2, priority: 10, weight: 99 },
    { name: '.', port: 0, priority: 0, weight: 0 },
  ];
  t.same(
    orderSrv(records, () => 0.5).map((r) => r.name),
    ['b', 'a', 'c'],
  );
  t.same(
    orderSrv(records, () => 0).map((r) => r.name),
    ['a', 'b', 'c'],
  );
  t.same(orderSrv([{ name: '.', port: 0, priority: 0, weight: 0 }]), []);
});

void t.test('an invalid server name is refused', async (t) => {
  const { resolver } = fixture({});
  await t.rejects(resolver.resolve('bad host'), /not a valid server name/);
  await t.rejects(resolver.resolve('[::1'), /not a valid server name/);
  await t.rejects(resolver.resolve('example.org:99999999'), /not a valid server name/);
});

void t.test('the client’s deadline covers discovery too', async (t) => {
  const { FederationClientImpl } =
    await import('../../../../modules/federation/services/federation-client.js');
  const { DomainPolicy } = await import('../../../../modules/federation/services/domain-policy.js');
  const { generateSigningKey } = await import('../../../../core/protocol/signing-key.js');
  const hanging = new ServerNameResolver({
    dns: { resolveSrv: () => new Promise(() => {}), lookup: () => new Promise(() => {}) },
    wellKnownFetcher: { fetch: () => new Promise(() => {}) },
  });
  const client = new FederationClientImpl({
    serverName: 'me.example',
    signingKey: generateSigningKey(),
    resolver: hanging,
    transport: {} as never,
    domainPolicy: new DomainPolicy(undefined),
    defaultTimeoutMs: 100,
  });
  const started = Date.now();
  const err = await client
    .request({ method: 'GET', destination: 'slow.example', path: '/_matrix/federation/v1/version' })
    .catch((e: unknown) => e as { kind: string });
  t.equal((err as { kind: string }).kind, 'timeout');
  t.ok(Date.now() - started < 2000);
});
