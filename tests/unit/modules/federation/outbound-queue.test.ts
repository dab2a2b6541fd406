/**
 * The outbound store, the backoff registry and one destination's queue, on both engines, with a scripted
 * client standing in for the remote server: the migration (up and down), batching from the outbox, the
 * catch-up bound (beyond it, the newest PDU of each room only), what each kind of failure does (backoff
 * and no request while it lasts; 4xx dropped; 429, 401 and network errors retried), and transaction ids across boots.
 */
import t from 'tap';
import { createLogger } from '../../../../core/logger.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { openDatabase } from '../../../../core/storage/database.js';
import { migrateToLatest, rollbackAll } from '../../../../core/storage/migrate.js';
import federation from '../../../../modules/federation/index.js';
import {
  FederationRequestError,
  type FederationClient,
  type FederationRequest,
} from '../../../../modules/federation/api.js';
import { DestinationBackoff } from '../../../../modules/federation/services/outbound/destination-backoff.js';
import { DestinationQueue } from '../../../../modules/federation/services/outbound/destination-queue.js';
import { OutboundStore, type OutboxEntry } from '../../../../modules/federation/store/outbound-store.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';

const logger = createLogger('silent');
const REMOTE = 'remote.example';

/** A fake PDU whose body names its stream ordering. */
const pduOf = (n: number): PduJson => ({ type: 'm.room.message', content: { n } }) as unknown as PduJson;

/** A client that answers each /send with `answer` (default {}), recording the bodies. */
function scriptedClient(): {
  client: FederationClient;
  sent: { pdus: PduJson[]; edus: unknown[]; path: string }[];
  answer: (req: FederationRequest) => unknown;
} {
  const state = {
    sent: [] as { pdus: PduJson[]; edus: unknown[]; path: string }[],
    answer: (_req: FederationRequest): unknown => ({ pdus: {} }),
    client: {
      request: async (req: FederationRequest): Promise<unknown> => {
        const body = req.body as { pdus: PduJson[]; edus: unknown[] };
        state.sent.push({ ...body, path: req.path });
        await Promise.resolve(); // answered asynchronously, as over the network
        return state.answer(req);
      },
    } satisfies FederationClient,
  };
  return state;
}

void withAllDatabases(t, async (t, database) => {
  const db = await openDatabase(database, '/tmp');
  t.teardown(() => db.destroy());
  await migrateToLatest(db, [federation], logger);
  const store = new OutboundStore({ db });
  let now = 1_000_000;
  const policy = { minRetryIntervalMs: 1000, retryMultiplier: 2, maxRetryIntervalMs: 3000 };

  const entries = (rooms: number, perRoom: number, from = 1): OutboxEntry[] => {
    const out: OutboxEntry[] = [];
    let n = from;
    for (let i = 0; i < perRoom; i++)
      for (let r = 0; r < rooms; r++)
        out.push({ destination: REMOTE, streamOrdering: n, roomId: `!r${r}:x`, eventId: `$${n++}` });
    return out;
  };
  function queueWith(
    client: FederationClient,
    catchUpLimit = 500,
  ): { queue: DestinationQueue; backoff: DestinationBackoff } {
    const backoff = new DestinationBackoff(store, policy, () => now);
    let txn = 0;
    const queue = new DestinationQueue({
      destination: REMOTE,
      serverName: 'me.example',
      client,
      store,
      backoff,
      rooms: () => ({
        pdusOf: (ids: readonly string[]) =>
          Promise.resolve(new Map(ids.map((id) => [id, pduOf(Number(id.slice(1)))]))),
      }),
      nextTxnId: () => `t${++txn}`,
      catchUpLimit,
      timeoutMs: 1000,
      logger,
    });
    return { queue, backoff };
  }
  const sentNumbers = (pdus: PduJson[]): number[] => pdus.map((p) => p.content['n'] as number);

  await t.test('the store: positions, txn epochs, the outbox, EDUs, retry timings', async (t) => {
    t.equal(await store.position('fanout'), undefined);
    t.equal(await store.nextTxnEpoch(), 1);
    t.equal(await store.nextTxnEpoch(), 2, 'one more each boot');
    await store.recordFanout(entries(2, 2), 10);
    t.equal(await store.position('fanout'), 10);
    t.same(
      (await store.oldestPending(REMOTE, 3)).map((e) => e.streamOrdering),
      [1, 2, 3],
    );
    t.same(
      (await store.latestPendingPerRoom(REMOTE, 10, 10)).map((e) => [e.roomId, e.streamOrdering]),
      [
        ['!r0:x', 3],
        ['!r1:x', 4],
      ],
    );
    await store.delivered(REMOTE, [
      { destination: REMOTE, streamOrdering: 3, roomId: '!r0:x', eventId: '$3' },
    ]);
    t.same(
      (await store.oldestPending(REMOTE, 10)).map((e) => e.streamOrdering),
      [2, 4],
      'a room’s PDUs up to the one delivered are done; other rooms are not',
    );
    await store.delivered(REMOTE, await store.oldestPending(REMOTE, 10));
    t.equal(await store.pendingCount(REMOTE), 0);
    await store.addEdu(REMOTE, 'm.direct_to_device', { a: 1 });
    t.same(await store.destinationsWithPending(), [REMOTE]);
    const edus = await store.pendingEdus(REMOTE, 10);
    t.same(
      edus.map((e) => [e.eduType, e.content]),
      [['m.direct_to_device', { a: 1 }]],
    );
    await store.deleteEdus(edus.map((e) => e.id));
    t.same(await store.destinationsWithPending(), []);
  });

  await t.test('backoff: min, ×multiplier with jitter, capped; persisted; reset', async (t) => {
    const backoff = new DestinationBackoff(store, policy, () => now);
    await backoff.load();
    t.equal((await backoff.failure('down.example')).retryInterval, 1000);
    t.ok(backoff.isBackingOff('down.example'));
    const second = (await backoff.failure('down.example')).retryInterval;
    t.ok(second >= 1600 && second <= 2800, `×2 jittered 0.8–1.4 (${second})`);
    await backoff.failure('down.example');
    t.equal((await backoff.failure('down.example')).retryInterval, 3000, 'capped');
    const reloaded = new DestinationBackoff(store, policy, () => now);
    await reloaded.load();
    t.equal(reloaded.interval('down.example'), 3000, 'persisted');
    now += 3000;
    t.notOk(reloaded.isBackingOff('down.example'), 'due for a retry');
    t.ok(reloaded.isMarkedDown('down.example'));
    t.ok(await reloaded.success('down.example'));
    t.notOk(await reloaded.success('down.example'), 'already up: no write');
    const again = new DestinationBackoff(store, policy, () => now);
    await again.load();
    t.notOk(again.isMarkedDown('down.example'));
  });

  await t.test('catch-up: in order, 50 a transaction', async (t) => {
    await store.recordFanout(entries(3, 40), 200); // 120 PDUs, limit 500
    const remote = scriptedClient();
    const { queue } = queueWith(remote.client);
    queue.startCatchingUp();
    queue.wake();
    await queue.settled();
    t.same(
      remote.sent.map((s) => s.pdus.length),
      [50, 50, 20],
    );
    t.same(
      remote.sent.flatMap((s) => sentNumbers(s.pdus)),
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    t.equal(await store.pendingCount(REMOTE), 0, 'delivered PDUs leave the outbox');
    t.equal(new Set(remote.sent.map((s) => s.path)).size, 3, 'a new txn id each time');
  });

  await t.test('catch-up beyond the bound: the newest PDU of each room only', async (t) => {
    await store.recordFanout(entries(3, 10, 1000), 2000); // 30 PDUs, bound 10
    const remote = scriptedClient();
    const { queue } = queueWith(remote.client, 10);
    queue.startCatchingUp();
    queue.wake();
    await queue.settled();
    t.same(
      remote.sent.map((s) => sentNumbers(s.pdus)),
      [[1027, 1028, 1029]],
    );
    t.equal(await store.pendingCount(REMOTE), 0, 'the older ones are done');
  });

  await t.test('catch-up beyond the bound: PDUs fanned out meanwhile all go', async (t) => {
    await store.recordFanout(entries(3, 10, 5000), 6000); // 30 PDUs, bound 10
    const remote = scriptedClient();
    const { queue } = queueWith(remote.client, 10);
    remote.answer = async () => {
      // Two more events of one room are fanned out while the first transaction is in flight.
      if (remote.sent.length === 1) await store.recordFanout(entries(1, 2, 5100), 6100);
      return { pdus: {} };
    };
    queue.startCatchingUp();
    queue.wake();
    await queue.settled();
    t.same(
      remote.sent.map((s) => sentNumbers(s.pdus)),
      [
        [5027, 5028, 5029],
        [5100, 5101],
      ],
    );
  });

  await t.test(
    'failures: backoff without requests; 4xx dropped; 429, 401 and network errors retried',
    async (t) => {
      const remote = scriptedClient();
      const { queue, backoff } = queueWith(remote.client);
      await backoff.load();
      remote.answer = () => {
        throw new FederationRequestError(REMOTE, 'network', 'connection refused');
      };
      await store.recordFanout(entries(1, 2, 3000), 4000);
      queue.startCatchingUp();
      queue.wake();
      await queue.settled();
      t.equal(remote.sent.length, 1, 'one attempt');
      t.ok(backoff.isBackingOff(REMOTE));
      queue.addEdu('m.typing', {}, 'typing:!r');
      queue.wake();
      await queue.settled();
      t.equal(remote.sent.length, 1, 'no request while backing off, whatever is queued');

      now += 10_000; // the retry time passed
      remote.answer = () => {
        throw new FederationRequestError(REMOTE, 'http', '429', 429, 'M_LIMIT_EXCEEDED');
      };
      queue.wake();
      await queue.settled();
      t.equal(remote.sent.length, 2);
      t.ok(backoff.isBackingOff(REMOTE), '429 backs off');
      t.equal(await store.pendingCount(REMOTE), 2, 'and keeps the PDUs');

      now += 10_000;
      remote.answer = () => {
        throw new FederationRequestError(REMOTE, 'http', '401', 401, 'M_UNAUTHORIZED');
      };
      queue.wake();
      await queue.settled();
      t.ok(backoff.isBackingOff(REMOTE), '401 (our keys not fetched yet) backs off too');
      t.equal(await store.pendingCount(REMOTE), 2, 'and keeps the PDUs');

      now += 10_000;
      remote.answer = () => {
        throw new FederationRequestError(REMOTE, 'http', '400', 400, 'M_BAD_JSON');
      };
      queue.wake();
      await queue.settled();
      t.equal(remote.sent.length, 4);
      t.same(sentNumbers(remote.sent[3]!.pdus), [3000, 3001], 'the PDUs missed, in order, with the EDU');
      t.equal(remote.sent[3]!.edus.length, 1);
      t.notOk(backoff.isMarkedDown(REMOTE), 'a 4xx answer means the server is up');
      t.equal(await store.pendingCount(REMOTE), 0, 'the refused transaction is dropped');
      remote.answer = () => ({ pdus: {} });
      queue.wake();
      await queue.settled();
      t.equal(remote.sent.length, 4, 'and not sent again');
      await queue.stop(0);
    },
  );

  await t.test('the migration rolls back', async (t) => {
    await rollbackAll(db, [federation]);
    t.notOk(await db.schema.hasTable('federation_outbound_pdus'));
    t.notOk(await db.schema.hasTable('federation_destinations'));
  });
});
