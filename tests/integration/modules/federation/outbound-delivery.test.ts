/**
 * Outbound transactions between real Axon servers over TLS (server-server-api "Transactions"): A's local
 * messages reach B in order, in transactions of at most 50 PDUs, each once; events B sent are not sent
 * back; a destination that answers 4xx gets the transaction dropped (not retried, no backoff); a slow
 * destination does not hold up another; EDUs (keyed ones replacing each other, stored ones). B's users join
 * A's rooms through make_join/send_join driven by the test, and B's /send records what arrives.
 */
import t from 'tap';
import { MatrixError } from '../../../../core/errors.js';
import { makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';
import { withAllDatabasesConcurrently } from '../../../helpers/with-all-databases.js';
import { eventually, joinFrom, recordTransactions, sendMessages } from './outbound-helpers.js';
import { makeTestCa, startFederatedServer } from './test-federation.js';

const ca = await makeTestCa(t);

void withAllDatabasesConcurrently(t, async (t, _database, engine) => {
  const a = await startFederatedServer(t, ca, { ...openRegistrationConfig }, 'localhost', { engine });
  const b = await startFederatedServer(t, ca);
  const c = await startFederatedServer(t, ca);
  const alice = await makeUser(a, { localpart: 'alice' });
  const atB = recordTransactions(b);
  const atC = recordTransactions(c);

  async function createRoom(): Promise<string> {
    const res = await a.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.accessToken,
      body: { preset: 'public_chat' },
    });
    return res.body.room_id as string;
  }

  await t.test('messages arrive in order, ≤ 50 PDUs a transaction, each once', async (t) => {
    const roomId = await createRoom();
    await joinFrom(b, a, roomId, `@bob:${b.serverName}`);
    // Hold B's first transaction so that the rest pile up behind it (one in flight per destination).
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    atB.before = async (txn) => {
      if (txn.pdus.some((p) => p.content['body'] === 'm0')) await held;
    };
    const sent = await sendMessages(a, alice.accessToken, roomId, 'm', 120);
    await atB.waitFor((txns) => txns.some((x) => x.pdus.some((p) => p.content['body'] === 'm0')));
    t.equal(atB.txns.length, 1, 'nothing else is sent while a transaction is in flight');
    release();
    await atB.waitFor(() => atB.bodies().length >= 120);
    atB.before = undefined;
    t.same(atB.bodies(), sent, 'every message once, in order');
    const sizes = atB.txns.map((x) => x.pdus.length);
    t.ok(
      sizes.every((n) => n <= 50),
      `at most 50 PDUs a transaction (${sizes.join(', ')})`,
    );
    t.ok(sizes.includes(50), 'the queue filled whole transactions');
    t.ok(
      atB.txns.every((x) => x.pdus.every((p) => p.sender === alice.userId)),
      'only A’s own events: B’s join is not sent back',
    );
    t.equal(new Set(atB.txns.map((x) => x.txnId)).size, atB.txns.length, 'transaction ids are unique');
    t.ok(
      atB.txns.every((x) => x.origin === a.serverName),
      'signed by A',
    );
  });

  await t.test(
    'a destination answering 4xx: the transaction is dropped, the next goes at once',
    async (t) => {
      const roomId = await createRoom();
      await joinFrom(c, a, roomId, `@carol:${c.serverName}`);
      atC.before = (txn) => {
        if (txn.pdus.some((p) => p.content['body'] === 'x0'))
          return Promise.reject(new MatrixError(400, 'M_BAD_JSON', 'refused by the test'));
        return Promise.resolve();
      };
      await sendMessages(a, alice.accessToken, roomId, 'x', 1);
      await atC.waitFor(() => atC.bodies().includes('x0'));
      // Default backoff (10 minutes): x1 arriving proves C was not marked down.
      await sendMessages(a, alice.accessToken, roomId, 'y', 1);
      await atC.waitFor(() => atC.bodies().includes('y0'));
      atC.before = undefined;
      t.same(
        atC.bodies().filter((body) => body === 'x0' || body === 'y0'),
        ['x0', 'y0'],
        'the refused transaction is not sent again',
      );
    },
  );

  await t.test('a slow destination does not delay another', async (t) => {
    const roomId = await createRoom();
    await joinFrom(b, a, roomId, `@bob2:${b.serverName}`);
    await joinFrom(c, a, roomId, `@carol2:${c.serverName}`);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    atC.before = async (txn) => {
      if (txn.pdus.some((p) => p.content['body'] === 's0')) await held;
    };
    await sendMessages(a, alice.accessToken, roomId, 's', 2);
    await atC.waitFor(() => atC.bodies().includes('s0'));
    await atB.waitFor(() => atB.bodies().includes('s1'));
    t.notOk(atC.bodies().includes('s1'), 'C (stuck on s0) has not had s1');
    t.same(
      atB.bodies().filter((x) => x.startsWith('s')),
      ['s0', 's1'],
      'B got both while C hangs',
    );
    release();
    await atC.waitFor(() => atC.bodies().includes('s1'));
    atC.before = undefined;
  });

  await t.test('EDUs: a keyed EDU replaces a waiting one; stored EDUs arrive', async (t) => {
    const federation = a.kernel.container.cradle.federationApi;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    atB.before = async (txn) => {
      if (txn.edus.some((e) => e.edu_type === 'org.example.first')) await held;
    };
    federation.sendEdu(b.serverName, 'org.example.first', {});
    await atB.waitFor((txns) => txns.some((x) => x.edus.some((e) => e.edu_type === 'org.example.first')));
    federation.sendEdu(b.serverName, 'm.typing', { typing: true, n: 1 }, { key: 'typing:!r' });
    federation.sendEdu(b.serverName, 'm.typing', { typing: false, n: 2 }, { key: 'typing:!r' });
    await federation.sendStoredEdu(b.serverName, 'm.direct_to_device', { message_id: 'm1', messages: {} });
    federation.sendEdu(a.serverName, 'm.typing', {}); // ourselves: ignored
    release();
    await atB.waitFor((txns) => txns.some((x) => x.edus.some((e) => e.edu_type === 'm.direct_to_device')));
    atB.before = undefined;
    const edus = atB.txns.flatMap((x) => x.edus);
    t.same(
      edus.filter((e) => e.edu_type === 'm.typing').map((e) => e.content.n),
      [2],
      'only the latest typing EDU',
    );
    t.equal(edus.filter((e) => e.edu_type === 'm.direct_to_device').length, 1);
    // A deletes it when B's answer comes back, just after B recorded the transaction.
    await eventually(async () => {
      const stored = await a.kernel.container.cradle.db('federation_outbound_edus').count({ n: '*' });
      return Number(stored[0]?.['n']) === 0;
    });
    t.pass('the stored EDU is deleted once accepted');
  });
});
