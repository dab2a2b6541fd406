/**
 * `modules.federation: false` (a private island), federation_domain_whitelist on inbound requests, and
 * key rotation: `axon rotate-signing-key`, then the old key under old_verify_keys (and Synapse's
 * old_signing_keys config).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { Kernel } from '../../../../core/kernel.js';
import { builtinModules } from '../../../../modules/index.js';
import { createLogger } from '../../../../core/logger.js';
import { encodeBase64 } from '../../../../core/protocol/base64.js';
import {
  formatSigningKeyFile,
  generateSigningKey,
  parseSigningKeyFile,
} from '../../../../core/protocol/signing-key.js';
import { verifyJsonSignature } from '../../../../core/protocol/signing.js';
import type { FederationRequestError } from '../../../../modules/federation/api.js';
import { rotateSigningKeyCommand } from '../../../../modules/federation/commands/rotate-signing-key.js';
import { request, startServer } from '../../../helpers/start-server.js';
import { makeTestCa, startFederatedServer } from './test-federation.js';

void t.test('modules.federation: false makes a private island', async (t) => {
  const server = await startServer(t, { config: { modules: { federation: false } } });
  for (const [method, path] of [
    ['GET', '/_matrix/key/v2/server'],
    ['GET', '/_matrix/key/v2/query/example.org'],
    ['POST', '/_matrix/key/v2/query'],
    ['GET', '/_matrix/federation/v1/version'],
    ['GET', '/_matrix/federation/v1/query/profile'],
  ] as const) {
    const res = await server.request(method, path, method === 'POST' ? { body: { server_keys: {} } } : {});
    t.equal(res.status, 404, `${method} ${path}`);
    t.equal(res.body.errcode, 'M_UNRECOGNIZED', `${method} ${path}`);
  }
  t.equal(
    (await server.request('GET', '/_matrix/client/versions')).status,
    200,
    'the client API still works',
  );
});

void t.test('federation is on by default and served on a client+federation listener', async (t) => {
  const server = await startServer(t);
  const res = await server.request('GET', '/_matrix/federation/v1/version');
  t.equal(res.status, 200);
  t.equal(res.body.server.name, 'Axon');
  const keys = await server.request('GET', '/_matrix/key/v2/server');
  t.equal(keys.body.server_name, server.serverName);
  const noAuth = await server.request('GET', '/_matrix/federation/v1/query/profile?user_id=@a:test.local');
  t.equal(noAuth.status, 401);
  t.equal(noAuth.body.errcode, 'M_UNAUTHORIZED');
});

void t.test(
  'federation_domain_whitelist refuses other origins inbound and destinations outbound',
  async (t) => {
    const ca = await makeTestCa(t);
    const b = await startFederatedServer(t, ca, { federation_domain_whitelist: ['allowed.example'] });
    const a = await startFederatedServer(t, ca);
    const err = await a.kernel.container.cradle.federationClient
      .request({
        method: 'GET',
        destination: b.serverName,
        path: '/_matrix/federation/v1/query/profile',
        query: { user_id: `@x:${b.serverName}` },
      })
      .catch((e: unknown) => e as FederationRequestError);
    t.equal((err as FederationRequestError).status, 403, 'inbound: origin not whitelisted');
    t.equal((err as FederationRequestError).errcode, 'M_FORBIDDEN');
    const out = await b.kernel.container.cradle.federationClient
      .request({ method: 'GET', destination: a.serverName, path: '/_matrix/federation/v1/version' })
      .catch((e: unknown) => e as FederationRequestError);
    t.equal((out as FederationRequestError).kind, 'not_allowed', 'outbound: destination not whitelisted');
  },
);

void t.test(
  'rotate-signing-key retires the key into old_verify_keys; old_signing_keys adds more',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'axon-rotate-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    const original = generateSigningKey();
    const keyPath = join(dir, 'signing.key');
    await writeFile(keyPath, formatSigningKeyFile(original));
    const configured = generateSigningKey();
    const config = {
      server_name: 'rotate.test',
      listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['federation'] }] }],
      database: { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } },
      signing_key_path: 'signing.key',
      media_store_path: join(dir, 'media'),
      old_signing_keys: {
        [configured.keyId]: { key: encodeBase64(configured.publicKey), expired_ts: 1_000 },
      },
      log_level: 'silent',
    };
    const configPath = join(dir, 'homeserver.yaml');
    await writeFile(configPath, JSON.stringify(config));

    const log = console.log;
    console.log = () => {};
    let code: number;
    try {
      code = await rotateSigningKeyCommand.run(['-c', configPath]);
    } finally {
      console.log = log;
    }
    t.equal(code, 0);
    const rotated = parseSigningKeyFile(await readFile(keyPath, 'utf8'));
    t.not(rotated.keyId, original.keyId, 'a new key is in the key file');

    const kernel = await Kernel.boot({ configPath, modules: builtinModules, logger: createLogger('silent') });
    t.teardown(() => kernel.stop(1000));
    const res = await request(kernel.baseUrl(), 'GET', '/_matrix/key/v2/server');
    t.same(Object.keys(res.body.verify_keys), [rotated.keyId]);
    t.equal(res.body.old_verify_keys[original.keyId].key, encodeBase64(original.publicKey));
    t.ok(res.body.old_verify_keys[original.keyId].expired_ts <= Date.now());
    t.same(res.body.old_verify_keys[configured.keyId], {
      key: encodeBase64(configured.publicKey),
      expired_ts: 1_000,
    });
    t.ok(
      verifyJsonSignature(res.body, 'rotate.test', rotated.keyId, rotated.publicKey),
      'signed with the new key',
    );
  },
);
