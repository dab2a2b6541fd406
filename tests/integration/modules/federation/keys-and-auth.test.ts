/**
 * Four Axon servers on loopback with TLS from a test CA: discovery and TLS, key fetches (direct and through
 * a notary), notary answers, signed requests verified by the other side, and every way a request's
 * authentication can be wrong.
 */
import t from 'tap';
import { signJson, verifyJsonSignature } from '../../../../core/protocol/signing.js';
import { FederationRequestError } from '../../../../modules/federation/api.js';
import { HttpsTransport } from '../../../../modules/federation/services/https-transport.js';
import { IpRangeFilter, DEFAULT_IP_RANGE_BLACKLIST } from '../../../../core/http/ip-range-filter.js';
import { systemDns, type DnsResolver } from '../../../../modules/federation/services/dns.js';
import { DomainPolicy } from '../../../../modules/federation/services/domain-policy.js';
import { FederationClientImpl } from '../../../../modules/federation/services/federation-client.js';
import { ServerNameResolver } from '../../../../modules/federation/services/server-name-resolver.js';
import { formatXMatrix } from '../../../../modules/federation/services/x-matrix.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { makeTestCa, rawFederationRequest, startFederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);
// A trusts C as its notary (pinned key); B trusts none, so B fetches A's keys directly.
const b = await startFederatedServer(t, ca, { ...openRegistrationConfig });
const c = await startFederatedServer(t, ca);
const a = await startFederatedServer(t, ca, {
  trusted_key_servers: [{ server_name: c.serverName, verify_keys: c.verifyKeys }],
});
const aCradle = a.kernel.container.cradle;
const bCradle = b.kernel.container.cradle;

void t.test('A reaches B over TLS: unauthenticated version endpoint', async (t) => {
  const version = await aCradle.federationClient.request({
    method: 'GET',
    destination: b.serverName,
    path: '/_matrix/federation/v1/version',
  });
  t.same(version, { server: { name: 'Axon', version: '0.1.0' } });
});

void t.test("B's published keys are signed and valid for key_refresh_interval", async (t) => {
  const res = await rawFederationRequest(ca, b.federationPort, 'GET', '/_matrix/key/v2/server');
  t.equal(res.status, 200);
  t.equal(res.body.server_name, b.serverName);
  t.same(Object.keys(res.body.verify_keys), [b.signingKey.keyId]);
  t.same(res.body.old_verify_keys, {});
  t.ok(res.body.valid_until_ts > Date.now() + 23 * 3_600_000, 'valid for about a day');
  t.ok(verifyJsonSignature(res.body, b.serverName, b.signingKey.keyId, b.signingKey.publicKey));
});

void t.test(
  'the legacy /key/v2/server/{keyId} path (Synapse < 1.76 asks it) serves the same keys',
  async (t) => {
    const path = `/_matrix/key/v2/server/${encodeURIComponent(b.signingKey.keyId)}`;
    const res = await rawFederationRequest(ca, b.federationPort, 'GET', path);
    t.equal(res.status, 200);
    t.same(Object.keys(res.body.verify_keys), [b.signingKey.keyId]);
    t.ok(verifyJsonSignature(res.body, b.serverName, b.signingKey.keyId, b.signingKey.publicKey));
    const other = await rawFederationRequest(
      ca,
      b.federationPort,
      'GET',
      '/_matrix/key/v2/server/ed25519%3Aold',
    );
    t.same(
      Object.keys(other.body.verify_keys),
      [b.signingKey.keyId],
      'the key id is ignored, as Synapse does',
    );
  },
);

void t.test('B fetches A’s keys directly and caches them', async (t) => {
  const key = await bCradle.federationKeyRing.getKey(a.serverName, a.signingKey.keyId);
  t.ok(key);
  t.same(Buffer.from(key!.publicKey), Buffer.from(a.signingKey.publicKey));
  const rows = await bCradle.db('federation_server_keys').where({ server_name: a.serverName });
  t.equal(rows.length, 1);
  t.equal(rows[0].fetched_from, a.serverName, 'fetched from the server itself');
  t.ok(Number(rows[0].valid_until_ts) <= Date.now() + 7 * 86_400_000, 'validity capped at 7 days');
});

void t.test('A fetches B’s keys through its notary (C, pinned) and caches them', async (t) => {
  const key = await aCradle.federationKeyRing.getKey(b.serverName, b.signingKey.keyId);
  t.ok(key);
  t.same(Buffer.from(key!.publicKey), Buffer.from(b.signingKey.publicKey));
  const rows = await aCradle.db('federation_server_keys').where({ server_name: b.serverName });
  t.equal(rows[0].fetched_from, c.serverName, 'answered by the notary');
  const atNotary = await c.kernel.container.cradle
    .db('federation_server_key_json')
    .where({ server_name: b.serverName });
  t.equal(atNotary.length, 1, 'the notary fetched and cached B’s keys itself');
  t.equal(await aCradle.federationKeyRing.getKey(b.serverName, 'ed25519:nope'), undefined, 'unknown key id');
});

void t.test('the notary answers for another server, signed by the origin and by itself', async (t) => {
  const get = await rawFederationRequest(
    ca,
    b.federationPort,
    'GET',
    `/_matrix/key/v2/query/${encodeURIComponent(a.serverName)}?minimum_valid_until_ts=${Date.now()}`,
  );
  t.equal(get.status, 200);
  t.equal(get.body.server_keys.length, 1);
  const entry = get.body.server_keys[0];
  t.equal(entry.server_name, a.serverName);
  t.ok(
    verifyJsonSignature(entry, a.serverName, a.signingKey.keyId, a.signingKey.publicKey),
    'origin signature',
  );
  t.ok(
    verifyJsonSignature(entry, b.serverName, b.signingKey.keyId, b.signingKey.publicKey),
    'notary signature',
  );

  const post = await aCradle.federationClient.request({
    method: 'POST',
    destination: b.serverName,
    path: '/_matrix/key/v2/query',
    body: {
      server_keys: {
        [a.serverName]: { [a.signingKey.keyId]: { minimum_valid_until_ts: Date.now() } },
        [b.serverName]: {},
        'unreachable.invalid': {},
      },
    },
  });
  const names = (post as { server_keys: { server_name: string }[] }).server_keys
    .map((k) => k.server_name)
    .sort();
  t.same(names, [a.serverName, b.serverName].sort(), 'an unreachable server without cache is absent');

  const none = await rawFederationRequest(
    ca,
    b.federationPort,
    'POST',
    '/_matrix/key/v2/query',
    {
      'content-type': 'application/json',
    },
    JSON.stringify({ server_keys: {} }),
  );
  t.same(none.body, { server_keys: [] });
  const bad = await rawFederationRequest(
    ca,
    b.federationPort,
    'POST',
    '/_matrix/key/v2/query',
    {},
    '{"server_keys": []}',
  );
  t.equal(bad.status, 400);
  t.equal(bad.body.errcode, 'M_BAD_JSON');
  const badTs = await rawFederationRequest(
    ca,
    b.federationPort,
    'GET',
    `/_matrix/key/v2/query/${a.serverName}?minimum_valid_until_ts=soon`,
  );
  t.equal(badTs.status, 400);
  t.equal(badTs.body.errcode, 'M_INVALID_PARAM');
  const badName = await rawFederationRequest(ca, b.federationPort, 'GET', '/_matrix/key/v2/query/bad%20name');
  t.equal(badName.status, 400);
});

void t.test('A’s signed request is verified by B: the profile query', async (t) => {
  const alice = await makeUser(b, { localpart: 'alice' });
  const profile = await aCradle.federationClient.request({
    method: 'GET',
    destination: b.serverName,
    path: '/_matrix/federation/v1/query/profile',
    query: { user_id: alice.userId },
  });
  t.same(profile, { displayname: 'alice' });
  const field = await aCradle.federationClient.request({
    method: 'GET',
    destination: b.serverName,
    path: '/_matrix/federation/v1/query/profile',
    query: { user_id: alice.userId, field: 'avatar_url' },
  });
  t.same(field, {});
  const missing = await aCradle.federationClient
    .request({
      method: 'GET',
      destination: b.serverName,
      path: '/_matrix/federation/v1/query/profile',
      query: { user_id: `@nobody:${b.serverName}` },
    })
    .catch((err: unknown) => err);
  t.ok(missing instanceof FederationRequestError);
  t.equal((missing as FederationRequestError).status, 404);
  t.equal((missing as FederationRequestError).errcode, 'M_NOT_FOUND');
  const unknownType = await aCradle.federationClient
    .request({ method: 'GET', destination: b.serverName, path: '/_matrix/federation/v1/query/nonsense' })
    .catch((err: unknown) => err as FederationRequestError);
  t.equal((unknownType as FederationRequestError).errcode, 'M_UNRECOGNIZED');
});

void t.test('bad authentication is refused with 401 M_UNAUTHORIZED', async (t) => {
  const alice = `@alice:${b.serverName}`;
  const path = `/_matrix/federation/v1/query/profile?user_id=${encodeURIComponent(alice)}`;
  const sign = (json: Record<string, unknown>): string => {
    const signed = signJson(json, a.serverName, a.signingKey);
    return signed.signatures[a.serverName]![a.signingKey.keyId]!;
  };
  const header = (fields: { destination?: string; sig?: string; key?: string; uri?: string }): string =>
    formatXMatrix({
      origin: a.serverName,
      destination: fields.destination ?? b.serverName,
      key: fields.key ?? a.signingKey.keyId,
      sig:
        fields.sig ??
        sign({
          method: 'GET',
          uri: fields.uri ?? path,
          origin: a.serverName,
          destination: fields.destination ?? b.serverName,
        }),
    });

  const good = await rawFederationRequest(ca, b.federationPort, 'GET', path, { authorization: header({}) });
  t.equal(good.status, 200, 'a correct hand-made signature passes');

  const cases: [string, Record<string, string>][] = [
    ['no Authorization header', {}],
    ['another scheme', { authorization: 'Bearer abc' }],
    ['a bad signature', { authorization: header({ sig: 'A'.repeat(86) }) }],
    ['a signature for another path', { authorization: header({ uri: '/_matrix/federation/v1/version' }) }],
    ['an unknown key id', { authorization: header({ key: 'ed25519:unknown' }) }],
    ['the wrong destination', { authorization: header({ destination: 'elsewhere.example' }) }],
  ];
  for (const [name, headers] of cases) {
    const res = await rawFederationRequest(ca, b.federationPort, 'GET', path, headers);
    t.equal(res.status, 401, name);
    t.equal(res.body.errcode, 'M_UNAUTHORIZED', name);
  }
  const noDestination = formatXMatrix({
    origin: a.serverName,
    destination: b.serverName,
    key: a.signingKey.keyId,
    sig: sign({ method: 'GET', uri: path, origin: a.serverName, destination: b.serverName }),
  }).replace(/destination="[^"]*",/, '');
  const old = await rawFederationRequest(ca, b.federationPort, 'GET', path, { authorization: noDestination });
  t.equal(old.status, 200, 'a header without destination (pre-v1.3 servers) is checked against our own name');
});

void t.test('the body is covered by the signature: another body fails', async (t) => {
  // A PUT with a body (a GET with a body is refused before authentication: 400).
  let txn = 0;
  const send = (content: unknown, body: string) => {
    const path = `/_matrix/federation/v1/send/body-check-${++txn}`;
    const authorization = formatXMatrix({
      origin: a.serverName,
      destination: b.serverName,
      key: a.signingKey.keyId,
      sig: signJson(
        { method: 'PUT', uri: path, origin: a.serverName, destination: b.serverName, content },
        a.serverName,
        a.signingKey,
      ).signatures[a.serverName]![a.signingKey.keyId]!,
    });
    return rawFederationRequest(
      ca,
      b.federationPort,
      'PUT',
      path,
      {
        authorization,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
      },
      body,
    );
  };
  const transaction = { origin: a.serverName, origin_server_ts: 1, pdus: [] };
  const signed = await send(transaction, JSON.stringify(transaction));
  t.equal(signed.status, 200, 'the signed body passes');
  const tampered = await send(transaction, JSON.stringify({ ...transaction, origin_server_ts: 2 }));
  t.equal(tampered.status, 401);
  t.equal(tampered.body.errcode, 'M_UNAUTHORIZED');
  const notJson = await send(transaction, '{"origin":');
  t.equal(notJson.status, 400);
  t.equal(notJson.body.errcode, 'M_NOT_JSON');
});

void t.test(
  'outbound refuses private addresses unless whitelisted, and untrusted certificates',
  async (t) => {
    const transport = (filter: IpRangeFilter, caList?: Buffer[]) =>
      new HttpsTransport({ dns: systemDns, ipFilter: filter, tls: { verify: true, ca: caList } });
    const request = {
      destination: b.serverName,
      method: 'GET',
      path: '/_matrix/federation/v1/version',
      target: { host: '127.0.0.1', port: b.federationPort },
      hostHeader: b.serverName,
      sni: 'localhost',
      timeoutMs: 5000,
      maxResponseBytes: 1024,
    };
    const blocked = transport(new IpRangeFilter(DEFAULT_IP_RANGE_BLACKLIST, []), [ca.ca]);
    const err = await blocked.request(request).catch((e: unknown) => e as FederationRequestError);
    t.equal((err as FederationRequestError).kind, 'not_allowed', 'loopback refused by the default blacklist');
    blocked.close();

    const systemCas = transport(new IpRangeFilter([], []));
    const tlsErr = await systemCas.request(request).catch((e: unknown) => e as FederationRequestError);
    t.equal(
      (tlsErr as FederationRequestError).kind,
      'network',
      'a certificate from an unknown CA is refused',
    );
    systemCas.close();

    const tiny = transport(new IpRangeFilter([], []), [ca.ca]);
    const big = await tiny
      .request({ ...request, path: '/_matrix/key/v2/server', maxResponseBytes: 10 })
      .catch((e: unknown) => e as FederationRequestError);
    t.equal((big as FederationRequestError).kind, 'too_large', 'the response size is bounded');
    const wrongName = await tiny
      .request({ ...request, sni: 'other.example' })
      .catch((e: unknown) => e as FederationRequestError);
    t.equal(
      (wrongName as FederationRequestError).kind,
      'network',
      'a certificate for another name is refused',
    );
    const ipLiteral = await tiny.request({
      ...request,
      hostHeader: `127.0.0.1:${b.federationPort}`,
      sni: undefined,
      maxResponseBytes: 1024,
    });
    t.equal(ipLiteral.status, 200, 'an IP literal: no SNI, the certificate checked for the IP address');
    tiny.close();
  },
);

void t.test('federation_domain_whitelist: outbound refused before any connection', async (t) => {
  const err = await aCradle.federationClient
    .request({ method: 'GET', destination: 'localhost:1', path: '/_matrix/federation/v1/version' })
    .catch((e: unknown) => e as FederationRequestError);
  t.equal(
    (err as FederationRequestError).kind,
    'network',
    'no whitelist: attempted (and refused by the port)',
  );
});

void t.test(
  'discovery end to end: SRV to the listener; the certificate must match the server name',
  async (t) => {
    const dns: DnsResolver = {
      resolveSrv: async (name) =>
        name === '_matrix-fed._tcp.srv.test'
          ? [{ name: 'localhost', port: b.federationPort, priority: 0, weight: 0 }]
          : [],
      // A private address first: refused by the filter, so the loopback one is used.
      lookup: async () => [
        { address: '10.0.0.1', family: 4 },
        { address: '127.0.0.1', family: 4 },
      ],
    };
    const resolver = new ServerNameResolver({
      dns,
      wellKnownFetcher: {
        fetch: async () => ({ status: 404, body: Buffer.from('{}'), cacheControl: undefined }),
      },
    });
    const clientWith = (verify: boolean) => {
      const transport = new HttpsTransport({
        dns,
        ipFilter: new IpRangeFilter(DEFAULT_IP_RANGE_BLACKLIST, ['127.0.0.0/8']),
        tls: { verify, ca: [ca.ca] },
      });
      t.teardown(() => transport.close());
      return new FederationClientImpl({
        serverName: a.serverName,
        signingKey: a.signingKey,
        resolver,
        transport,
        domainPolicy: new DomainPolicy(undefined),
        defaultTimeoutMs: 5000,
      });
    };
    const request = {
      method: 'GET',
      destination: 'srv.test',
      path: '/_matrix/federation/v1/version',
    } as const;
    const refused = await clientWith(true)
      .request(request)
      .catch((e: unknown) => e as FederationRequestError);
    t.equal(
      (refused as FederationRequestError).kind,
      'network',
      'the certificate is for localhost, not srv.test',
    );
    t.same(
      await clientWith(false).request(request),
      { server: { name: 'Axon', version: '0.1.0' } },
      'verification off',
    );

    const onlyPrivate: DnsResolver = { ...dns, lookup: async () => [{ address: '10.0.0.1', family: 4 }] };
    const transport = new HttpsTransport({
      dns: onlyPrivate,
      ipFilter: new IpRangeFilter(DEFAULT_IP_RANGE_BLACKLIST, []),
      tls: { verify: true, ca: [ca.ca] },
    });
    const err = await transport
      .request({
        destination: 'x',
        method: 'GET',
        path: '/',
        target: { host: 'private.test', port: 1 },
        hostHeader: 'private.test',
        sni: 'private.test',
        timeoutMs: 1000,
        maxResponseBytes: 10,
      })
      .catch((e: unknown) => e as FederationRequestError);
    t.equal(
      (err as FederationRequestError).kind,
      'not_allowed',
      'a name resolving only to private addresses',
    );
    transport.close();
  },
);

void t.test('a destination that never answers times out', async (t) => {
  const { createServer } = await import('node:net');
  // Reads (and ignores) whatever arrives, so it sees the client hang up.
  const silent = createServer((socket) => socket.resume());
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => silent.close(() => resolve())));
  const port = (silent.address() as { port: number }).port;
  const started = Date.now();
  const err = await aCradle.federationClient
    .request({
      method: 'GET',
      destination: `localhost:${port}`,
      path: '/_matrix/federation/v1/version',
      timeoutMs: 300,
    })
    .catch((e: unknown) => e as FederationRequestError);
  t.equal((err as FederationRequestError).kind, 'timeout');
  t.ok(Date.now() - started < 3000, 'within the deadline');
});

void t.test(
  'a server named by an IP literal: discovery, TLS for the IP, signed requests both ways',
  async (t) => {
    const d = await startFederatedServer(t, ca, {}, '127.0.0.1');
    t.same(
      await aCradle.federationClient.request({
        method: 'GET',
        destination: d.serverName,
        path: '/_matrix/federation/v1/version',
      }),
      { server: { name: 'Axon', version: '0.1.0' } },
    );
    const key = await d.kernel.container.cradle.federationKeyRing.getKey(b.serverName, b.signingKey.keyId);
    t.ok(key, 'D fetched B’s keys');
    const err = await d.kernel.container.cradle.federationClient
      .request({
        method: 'GET',
        destination: b.serverName,
        path: '/_matrix/federation/v1/query/profile',
        query: { user_id: `@nobody:${b.serverName}` },
      })
      .catch((e: unknown) => e as FederationRequestError);
    t.equal(
      (err as FederationRequestError).errcode,
      'M_NOT_FOUND',
      'B verified D’s signature (fetching D’s keys)',
    );
  },
);
