/**
 * Outbound delivery across failures, on both engines: B goes down (its port answers every connection
 * with a reset, and counts them) — A makes one attempt, then none until its persisted backoff ends; B comes
 * back and speaks to A — A ends the backoff at once and sends everything B missed, in order; A stops
 * with PDUs queued and with events committed but not yet fanned out (its fan-out halted first, as a crash
 * between commit and fan-out would leave them) — a new A on the same database delivers all of them.
 */
import { createServer, type Server } from 'node:net';
import t from 'tap';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import {
  eventually,
  joinFrom,
  recordTransactions,
  sendMessages,
  type TxnRecorder,
} from './outbound-helpers.js';
import { makeTestCa, startFederatedServer, type FederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);
const MIN_RETRY_MS = 3000;
const RETRY = {
  federation: {
    destination_min_retry_interval: MIN_RETRY_MS,
    destination_retry_multiplier: 2,
    destination_max_retry_interval: 5000,
  },
};

/** A "down" server on `port`: every connection is reset at once; connections are counted with their times. */
async function downServer(port: number): Promise<{
  readonly times: number[];
  connections(n: number): Promise<void>;
  close(): Promise<void>;
}> {
  const times: number[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((socket) => {
    times.push(Date.now());
    socket.destroy();
    for (const w of [...waiters]) w();
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    times,
    connections: (n) =>
      new Promise((resolve) => {
        const check = (): void => {
          if (times.length < n) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
        check();
      }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

void withAllDatabasesConcurrently(t, async (t, database) => {
  let a = await startFederatedServer(t, ca, { ...openRegistrationConfig, ...RETRY }, 'localhost', {
    database,
  });
  const aPort = a.federationPort;
  const aKey = a.signingKey;
  let b = await startFederatedServer(t, ca);
  const bPort = b.federationPort;
  const bKey = b.signingKey;
  const alice = await makeUser(a, { localpart: 'alice' });
  const created = await a.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.accessToken,
    body: { preset: 'public_chat' },
  });
  const roomId = created.body.room_id as string;
  await joinFrom(b, a, roomId, `@bob:${b.serverName}`);
  let atB: TxnRecorder = recordTransactions(b);
  await sendMessages(a, alice.accessToken, roomId, 'a', 1);
  await atB.waitFor(() => atB.bodies().includes('a0'));

  const db = (server: FederatedServer) => server.kernel.container.cradle.db;
  const outboxFor = async (server: FederatedServer): Promise<number> => {
    const rows = await db(server)('federation_outbound_pdus').where({ destination: b.serverName }).count({
      n: '*',
    });
    return Number(rows[0]?.['n']);
  };
  /** B (same name and key, fresh database) is back, recording what arrives. */
  async function restartB(): Promise<void> {
    b = await startFederatedServer(t, ca, {}, 'localhost', { federationPort: bPort, signingKey: bKey });
    atB = recordTransactions(b);
  }
  /** B makes a signed request to A (any endpoint): A learns B is up. */
  async function bSpeaks(): Promise<void> {
    await b.kernel.container.cradle.federationClient.request({
      method: 'GET',
      destination: a.serverName,
      path: '/_matrix/federation/v1/query/profile',
      query: { user_id: alice.userId },
    });
  }

  await t.test('B down: one attempt, then no request until the backoff ends', async (t) => {
    await b.stop();
    const down = await downServer(bPort);
    t.teardown(() => down.close());
    await sendMessages(a, alice.accessToken, roomId, 'b', 5);
    await down.connections(1);
    await eventually(async () => (await outboxFor(a)) === 5);
    const sinceFailure = Date.now() - down.times[0]!;
    if (sinceFailure < MIN_RETRY_MS) {
      t.equal(
        down.times.length,
        1,
        `no second attempt ${sinceFailure} ms after the failure, with 5 PDUs waiting`,
      );
    }
    const row = await db(a)('federation_destinations').where({ destination: b.serverName }).first();
    t.equal(Number(row.retry_interval), MIN_RETRY_MS, 'the backoff is recorded');
    await down.connections(2);
    t.ok(
      down.times[1]! - down.times[0]! >= MIN_RETRY_MS - 5,
      `the retry came after the backoff (${down.times[1]! - down.times[0]!} ms)`,
    );
    await down.close();
  });

  await t.test('B returns and speaks: the backoff ends and B gets what it missed, in order', async (t) => {
    await eventually(async () => {
      const row = await db(a)('federation_destinations').where({ destination: b.serverName }).first();
      return Number(row.retry_interval) > MIN_RETRY_MS; // the second failure was recorded
    });
    const row = await db(a)('federation_destinations').where({ destination: b.serverName }).first();
    const retryAt = Number(row.retry_last_ts) + Number(row.retry_interval);
    await restartB();
    await bSpeaks();
    await atB.waitFor(() => atB.bodies().includes('b4'));
    t.ok(Date.now() < retryAt, 'delivered before the backoff would have ended: B’s request ended it');
    t.same(atB.bodies(), ['b0', 'b1', 'b2', 'b3', 'b4'], 'everything missed, once, in order');
    await eventually(async () => (await outboxFor(a)) === 0);
    const after = await db(a)('federation_destinations').where({ destination: b.serverName }).first();
    t.equal(Number(after.retry_interval), 0, 'B is marked up');
  });

  await t.test('A stops with PDUs queued and events not fanned out; a new A delivers them', async (t) => {
    await b.stop();
    const down = await downServer(bPort);
    t.teardown(() => down.close());
    await sendMessages(a, alice.accessToken, roomId, 'c', 3);
    await down.connections(1);
    await eventually(async () => (await outboxFor(a)) === 3);
    // As a crash right after the commit of d0, d1: persisted, never fanned out.
    await a.kernel.container.cradle.federationFanout.stop();
    await sendMessages(a, alice.accessToken, roomId, 'd', 2);
    t.equal(await outboxFor(a), 3, 'd0 and d1 are not in the outbox');
    await a.stop();
    await down.close();

    await restartB();
    a = await startFederatedServer(t, ca, { ...openRegistrationConfig, ...RETRY }, 'localhost', {
      database,
      federationPort: aPort,
      signingKey: aKey,
    });
    const row = await db(a)('federation_destinations').where({ destination: b.serverName }).first();
    t.ok(Number(row.retry_interval) > 0, 'the backoff survived the restart');
    await bSpeaks();
    await atB.waitFor(() => atB.bodies().includes('d1'));
    t.same(atB.bodies(), ['c0', 'c1', 'c2', 'd0', 'd1'], 'all of them, once, in order');
    await eventually(async () => (await outboxFor(a)) === 0);
    t.pass('the outbox is empty');
  });
});
