/**
 * The end-to-end proof: two matrix-js-sdk clients with the Rust crypto stack (wasm, in-memory
 * stores) set up cross-signing, share an encrypted room through Axon, and Bob decrypts Alice's message.
 * Nothing is stubbed: every key upload, query, claim, to-device message and sync goes over HTTP to Axon.
 */
import t, { type Test } from 'tap';
import * as sdk from 'matrix-js-sdk';
import * as RustCrypto from '@matrix-org/matrix-sdk-crypto-wasm';
import { logger } from 'matrix-js-sdk/lib/logger.js';
import type { TestServer } from '../../../helpers/start-server.js';
import { makeUser, type TestUser } from '../../../helpers/fixtures.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { e2eeModules, startE2eeServer } from './e2ee-fixtures.js';
import { unrefLongTimers } from '../../../helpers/js-sdk.js';
import { builtinModules } from '../../../../modules/index.js';

// The SDK's logger is loglevel underneath; its typed interface does not expose setLevel.
(logger as unknown as { setLevel(level: string): void }).setLevel('silent');

unrefLongTimers(30_000);

async function waitFor<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function startClient(
  t: Test,
  server: TestServer,
  user: TestUser,
  clients: sdk.MatrixClient[],
): Promise<sdk.MatrixClient> {
  const client = sdk.createClient({
    baseUrl: server.baseUrl,
    accessToken: user.accessToken,
    userId: user.userId,
    deviceId: user.deviceId,
  });
  await client.initRustCrypto({ useIndexedDB: false });
  // initRustCrypto turns the wasm's tracing on at debug level; errors are enough here.
  new RustCrypto.Tracing(RustCrypto.LoggerLevel.Error).turnOn();
  clients.push(client);
  const prepared = new Promise<void>((resolve) => {
    client.on(sdk.ClientEvent.Sync, (state) => {
      if (state === sdk.SyncState.Prepared || state === sdk.SyncState.Syncing) resolve();
    });
  });
  await client.startClient({ initialSyncLimit: 20 });
  await prepared;
  return client;
}

async function bootstrapCrossSigning(client: sdk.MatrixClient, user: TestUser): Promise<void> {
  const crypto = client.getCrypto();
  if (!crypto) throw new Error('no crypto');
  await crypto.bootstrapCrossSigning({
    authUploadDeviceSigningKeys: async (makeRequest) => {
      try {
        await makeRequest(null);
      } catch (err) {
        const session = (err as { data?: { session?: string } }).data?.session;
        await makeRequest({
          type: 'm.login.password',
          identifier: { type: 'm.id.user', user: user.userId },
          password: user.password,
          session,
        });
      }
    },
  });
}

void withAllDatabasesConcurrently(t, async (t, database) => {
  // Registered before the server's own teardown so the clients stop first: a client outliving the server
  // keeps retrying its requests on timers and the test process never exits.
  const clients: sdk.MatrixClient[] = [];
  t.teardown(() => {
    for (const c of clients) c.stopClient();
  });
  // Every built-in module: matrix-js-sdk needs push rules (and reads receipts) besides the e2ee endpoints.
  const server = await startE2eeServer(
    t,
    database,
    builtinModules.filter((m) => !e2eeModules.includes(m)),
  );
  const aliceUser = await makeUser(server, { localpart: 'alice' });
  const bobUser = await makeUser(server, { localpart: 'bob' });
  const alice = await startClient(t, server, aliceUser, clients);
  const bob = await startClient(t, server, bobUser, clients);

  await bootstrapCrossSigning(alice, aliceUser);
  await bootstrapCrossSigning(bob, bobUser);
  const aliceStatus = await alice.getCrypto()?.getCrossSigningStatus();
  t.ok(aliceStatus?.publicKeysOnDevice, 'alice has cross-signing keys');
  const keys = await server.request('POST', '/_matrix/client/v3/keys/query', {
    token: bobUser.accessToken,
    body: { device_keys: { [aliceUser.userId]: [] } },
  });
  t.ok(keys.body.master_keys[aliceUser.userId], "bob sees alice's master key on the server");
  t.ok(keys.body.self_signing_keys[aliceUser.userId], "bob sees alice's self-signing key on the server");

  const { room_id: roomId } = await alice.createRoom({
    invite: [bobUser.userId],
    initial_state: [
      { type: 'm.room.encryption', state_key: '', content: { algorithm: 'm.megolm.v1.aes-sha2' } },
    ],
  });
  await waitFor(
    'bob to see the invite',
    () => bob.getRoom(roomId)?.getMyMembership() === 'invite' || undefined,
  );
  await bob.joinRoom(roomId);
  await waitFor(
    'alice to see bob joined',
    () => alice.getRoom(roomId)?.getMember(bobUser.userId)?.membership === 'join' || undefined,
  );
  t.ok(await alice.getCrypto()?.isEncryptionEnabledInRoom(roomId), 'the room is encrypted');

  const plaintext = 'Hello Bob, this is end-to-end encrypted';
  const { event_id: eventId } = await alice.sendTextMessage(roomId, plaintext);

  const raw = await server.request(
    'GET',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/event/${encodeURIComponent(eventId)}`,
    { token: bobUser.accessToken },
  );
  t.equal(raw.body.type, 'm.room.encrypted', 'the server only ever holds ciphertext');
  t.notOk(JSON.stringify(raw.body).includes(plaintext), 'no plaintext on the server');

  const event = await waitFor('bob to receive the event', () => bob.getRoom(roomId)?.findEventById(eventId));
  await bob.decryptEventIfNeeded(event);
  const decrypted = await waitFor('bob to decrypt', () =>
    event.isDecryptionFailure() ? undefined : (event.getClearContent() ?? undefined),
  );
  t.equal(event.getType(), 'm.room.message');
  t.equal(decrypted['body'], plaintext, 'bob reads the plaintext');

  const aliceDevice = await bob
    .getCrypto()
    ?.getDeviceVerificationStatus(aliceUser.userId, aliceUser.deviceId);
  t.ok(aliceDevice?.signedByOwner, "bob sees alice's device signed by her self-signing key");

  // Alice backs her room key up: the Rust SDK creates a version and uploads the session to /room_keys.
  await alice.getCrypto()?.resetKeyBackup();
  const backup = await waitFor('the room key in the backup', async () => {
    const res = await server.request('GET', '/_matrix/client/v3/room_keys/version', {
      token: aliceUser.accessToken,
    });
    return res.status === 200 && res.body.count > 0 ? res.body : undefined;
  });
  t.equal(backup.algorithm, 'm.megolm_backup.v1.curve25519-aes-sha2');
  const stored = await server.request('GET', `/_matrix/client/v3/room_keys/keys?version=${backup.version}`, {
    token: aliceUser.accessToken,
  });
  t.ok(stored.body.rooms[roomId], "the room's session is backed up (encrypted)");
});
