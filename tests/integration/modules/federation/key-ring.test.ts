/**
 * The key ring and its cache on both engines, with a scripted remote side: direct fetches and caching,
 * validity (7-day cap, atTs, old keys), notaries with pinned keys (and falling back when one lies),
 * refused key responses and the failure backoff; the migration up and down.
 */
import t from 'tap';
import { createLogger } from '../../../../core/logger.js';
import { encodeBase64 } from '../../../../core/protocol/base64.js';
import { generateSigningKey, type SigningKey } from '../../../../core/protocol/signing-key.js';
import { signJson } from '../../../../core/protocol/signing.js';
import { openDatabase } from '../../../../core/storage/database.js';
import { migrateToLatest, rollbackAll } from '../../../../core/storage/migrate.js';
import {
  FederationRequestError,
  type FederationClient,
  type FederationRequest,
} from '../../../../modules/federation/api.js';
import type { TrustedKeyServer } from '../../../../modules/federation/config.js';
import federation from '../../../../modules/federation/index.js';
import { KeyRingImpl } from '../../../../modules/federation/services/key-ring.js';
import { OwnServerKeys } from '../../../../modules/federation/services/own-server-keys.js';
import { FederationStore } from '../../../../modules/federation/store/federation-store.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';

const NOW = 1_700_000_000_000;
const HOUR = 3_600_000;

function keyResponse(
  serverName: string,
  key: SigningKey,
  validUntil: number,
  old: Record<string, { key: string; expired_ts: number }> = {},
): Record<string, unknown> {
  return signJson(
    {
      server_name: serverName,
      valid_until_ts: validUntil,
      verify_keys: { [key.keyId]: { key: encodeBase64(key.publicKey) } },
      old_verify_keys: old,
    },
    serverName,
    key,
  );
}

/** A client whose answers are scripted per destination and path; records every request. */
function scriptedClient(answers: Record<string, (req: FederationRequest) => unknown>) {
  const calls: string[] = [];
  const client: FederationClient = {
    async request(req) {
      const name = `${req.method} ${req.destination}${req.path}`;
      calls.push(name);
      const answer = answers[name];
      if (!answer) throw new FederationRequestError(req.destination, 'network', 'unreachable');
      return answer(req);
    },
  };
  return { client, calls };
}

void withAllDatabases(t, async (t, database) => {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy());
  const logger = createLogger('silent');
  await migrateToLatest(db, [federation], logger);
  const store = new FederationStore({ db });
  const ownKey = generateSigningKey();
  const ownKeys = new OwnServerKeys({
    serverName: 'me.example',
    signingKey: ownKey,
    store,
    configuredOldKeys: {},
    refreshIntervalMs: 86_400_000,
    now: () => NOW,
  });
  await ownKeys.load();
  const ring = (client: FederationClient, trusted: readonly TrustedKeyServer[] = []) =>
    new KeyRingImpl({
      serverName: 'me.example',
      ownKeys,
      store,
      client,
      trustedKeyServers: trusted,
      logger,
      now: () => NOW,
    });

  await t.test('direct fetch, cache, validity and its 7-day cap', async (t) => {
    const remote = generateSigningKey();
    const { client, calls } = scriptedClient({
      'GET remote.example/_matrix/key/v2/server': () =>
        keyResponse('remote.example', remote, NOW + 30 * 24 * HOUR),
    });
    const keys = ring(client);
    const key = await keys.getKey('remote.example', remote.keyId);
    t.equal(key?.validUntilTs, NOW + 7 * 24 * HOUR, 'capped at 7 days after fetching');
    await keys.getKey('remote.example', remote.keyId);
    t.equal(calls.length, 1, 'served from the cache');
    t.equal(await keys.getKey('remote.example', 'ed25519:unknown'), undefined);
    t.equal(calls.length, 1, 'an unknown key id does not make us ask again within 30 s');

    const signed = signJson({ hello: 'world' }, 'remote.example', remote);
    t.ok(await keys.verifyServerSignature('remote.example', remote.keyId, signed));
    t.ok(await keys.verifySignedBy('remote.example', signed));
    t.notOk(
      await keys.verifyServerSignature('remote.example', remote.keyId, { ...signed, hello: 'there' }),
      'tampered',
    );
    t.notOk(
      await keys.verifyServerSignature('remote.example', remote.keyId, signed, { atTs: NOW + 8 * 24 * HOUR }),
      'beyond the validity (after a refetch that does not extend it)',
    );
    t.ok(
      await keys.verifyServerSignature('remote.example', remote.keyId, signed, {
        atTs: NOW + 8 * 24 * HOUR,
        enforceValidity: false,
      }),
      'room versions 1–4 ignore validity',
    );
    t.notOk(await keys.verifySignedBy('other.example', signed), 'not signed by that server');
    t.ok(
      await keys.verifyServerSignature('me.example', ownKey.keyId, signJson({ a: 1 }, 'me.example', ownKey)),
      'our own keys need no fetch',
    );
  });

  await t.test('old keys: valid before expired_ts, never for requests', async (t) => {
    const current = generateSigningKey();
    const retired = generateSigningKey();
    const { client } = scriptedClient({
      'GET old.example/_matrix/key/v2/server': () =>
        keyResponse('old.example', current, NOW + HOUR, {
          [retired.keyId]: { key: encodeBase64(retired.publicKey), expired_ts: NOW - HOUR },
        }),
    });
    const keys = ring(client);
    const signed = signJson({ event: 1 }, 'old.example', retired);
    t.ok(await keys.verifyServerSignature('old.example', retired.keyId, signed, { atTs: NOW - 2 * HOUR }));
    t.notOk(
      await keys.verifyServerSignature('old.example', retired.keyId, signed, { atTs: NOW }),
      'after expiry',
    );
    t.notOk(
      await keys.verifyServerSignature('old.example', retired.keyId, signed, {
        atTs: NOW - 2 * HOUR,
        allowOldKeys: false,
      }),
      'request signatures need a current key',
    );
  });

  await t.test(
    'notaries: pinned signature checked; a lying notary is skipped for the next source',
    async (t) => {
      const remote = generateSigningKey();
      const notary = generateSigningKey();
      const liar = generateSigningKey();
      const answer = (signer: SigningKey, name: string) => () => ({
        server_keys: [signJson(keyResponse('via.example', remote, NOW + HOUR), name, signer)],
      });
      const { client, calls } = scriptedClient({
        'POST liar.example/_matrix/key/v2/query': answer(liar, 'liar.example'),
        'POST notary.example/_matrix/key/v2/query': answer(notary, 'notary.example'),
      });
      const keys = ring(client, [
        { serverName: 'liar.example', verifyKeys: new Map([[notary.keyId, notary.publicKey]]) },
        { serverName: 'notary.example', verifyKeys: new Map([[notary.keyId, notary.publicKey]]) },
      ]);
      const key = await keys.getKey('via.example', remote.keyId);
      t.ok(key);
      t.same(calls, ['POST liar.example/_matrix/key/v2/query', 'POST notary.example/_matrix/key/v2/query']);
      const [row] = (await db('federation_server_keys').where({ server_name: 'via.example' })) as {
        fetched_from: string;
      }[];
      t.equal(row?.fetched_from, 'notary.example');
      const [json] = (await db('federation_server_key_json').where({ server_name: 'via.example' })) as {
        key_json: string;
      }[];
      t.same(
        Object.keys(JSON.parse(json!.key_json).signatures),
        ['via.example'],
        'stored with the origin’s signature only',
      );
    },
  );

  await t.test('bad key responses are refused and not stored; failures back off', async (t) => {
    const remote = generateSigningKey();
    const impostor = generateSigningKey();
    const forged = keyResponse('bad.example', impostor, NOW + HOUR);
    (forged['verify_keys'] as Record<string, unknown>) = {
      [remote.keyId]: { key: encodeBase64(remote.publicKey) },
    };
    const { client, calls } = scriptedClient({
      'GET bad.example/_matrix/key/v2/server': () => forged,
      'GET wrongname.example/_matrix/key/v2/server': () => keyResponse('other.example', remote, NOW + HOUR),
    });
    const keys = ring(client);
    t.equal(await keys.getKey('bad.example', remote.keyId), undefined, 'not self-signed by its verify key');
    t.equal(await keys.getKey('wrongname.example', remote.keyId), undefined, 'for another server');
    t.equal(await keys.getKey('down.example', 'ed25519:x'), undefined, 'unreachable');
    await keys.getKey('down.example', 'ed25519:x');
    t.equal(calls.filter((c) => c.includes('down.example')).length, 1, 'not asked again within 30 s');
    t.equal(
      (await db('federation_server_keys').whereIn('server_name', ['bad.example', 'wrongname.example']))
        .length,
      0,
    );
  });

  await t.test('an older response never shortens a stored key', async (t) => {
    const remote = generateSigningKey();
    const row = {
      serverName: 's.example',
      keyId: remote.keyId,
      verifyKey: encodeBase64(remote.publicKey),
      expired: false,
      fetchedFrom: 's.example',
      fetchedTs: NOW,
    };
    await store.storeKeyResponse([{ ...row, validUntilTs: NOW + 2 * HOUR }], {
      serverName: 's.example',
      validUntilTs: NOW + 2 * HOUR,
      keyJson: '{"v":2}',
    });
    await store.storeKeyResponse([{ ...row, validUntilTs: NOW + HOUR }], {
      serverName: 's.example',
      validUntilTs: NOW + HOUR,
      keyJson: '{"v":1}',
    });
    const [stored] = await store.serverKeys('s.example');
    t.equal(stored?.validUntilTs, NOW + 2 * HOUR);
    t.same(await store.keyJson('s.example'), [
      { keyId: remote.keyId, validUntilTs: NOW + 2 * HOUR, keyJson: '{"v":2}' },
    ]);
    await store.addOldSigningKey({ keyId: 'ed25519:old', verifyKey: 'AAAA', expiredTs: 5 });
    await store.addOldSigningKey({ keyId: 'ed25519:old', verifyKey: 'BBBB', expiredTs: 6 });
    t.same(
      await store.oldSigningKeys(),
      [{ keyId: 'ed25519:old', verifyKey: 'AAAA', expiredTs: 5 }],
      'first record kept',
    );
  });

  await t.test('the migration goes down and up again', async (t) => {
    await rollbackAll(db, [federation]);
    t.notOk(await db.schema.hasTable('federation_server_keys'));
    await migrateToLatest(db, [federation], logger);
    t.ok(await db.schema.hasTable('federation_server_keys'));
    t.ok(await db.schema.hasTable('federation_server_key_json'));
    t.ok(await db.schema.hasTable('federation_old_signing_keys'));
  });
});
