/** identity-proxy's stores and mail queue on every engine. */
import type { Knex } from 'knex';
import type { Test } from 'tap';
import t from 'tap';
import type { DatabaseConfig } from '../../../../core/config/schema.js';
import { createLogger } from '../../../../core/logger.js';
import { isUniqueViolation } from '../../../../core/storage/errors.js';
import { openDatabase } from '../../../../core/storage/database.js';
import { migrateToLatest } from '../../../../core/storage/migrate.js';
import identityProxy from '../../../../modules/identity-proxy/index.js';
import { MailQueue } from '../../../../modules/identity-proxy/services/mail-queue.js';
import { IdServerBindingsStore } from '../../../../modules/identity-proxy/store/id-server-bindings-store.js';
import {
  MailQueueStore,
  type OutgoingMail,
} from '../../../../modules/identity-proxy/store/mail-queue-store.js';
import { UserThreepidsStore } from '../../../../modules/identity-proxy/store/user-threepids-store.js';
import { ValidationSessionsStore } from '../../../../modules/identity-proxy/store/validation-sessions-store.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';

async function database(t: Test, config: DatabaseConfig): Promise<Knex> {
  const db = await openDatabase(config, '/tmp');
  t.teardown(() => db.destroy());
  await migrateToLatest(db, [identityProxy], createLogger('silent'));
  return db;
}

const session = {
  sessionId: 'S1',
  purpose: 'registration' as const,
  medium: 'email',
  address: 'a@example.org',
  clientSecret: 'secret',
  lastSendAttempt: 1,
  tokenHash: 'h1',
  tokenExpiresTs: 5000,
  nextLink: 'https://client.example/',
  validatedAt: null,
  createdTs: 1000,
};

void t.test('identity-proxy stores', async (t) => {
  await withAllDatabases(t, async (t, config) => {
    const db = await database(t, config);

    await t.test('validation sessions: insert, find by key, renew, validate once, delete', async (t) => {
      const store = new ValidationSessionsStore({ db });
      await store.insert(session);
      t.same(await store.get('S1'), session);
      const key = {
        medium: 'email',
        address: 'a@example.org',
        clientSecret: 'secret',
        purpose: 'registration' as const,
      };
      t.equal((await store.find(key))?.sessionId, 'S1');
      t.equal(
        await store.find({ ...key, purpose: 'add_threepid' }),
        undefined,
        'the purpose is part of the key',
      );
      await t.rejects(store.insert({ ...session, sessionId: 'S2' }), 'one session per key');
      await store.renewToken('S1', { sendAttempt: 2, tokenHash: 'h2', tokenExpiresTs: 9000, nextLink: null });
      t.match(await store.get('S1'), {
        lastSendAttempt: 2,
        tokenHash: 'h2',
        tokenExpiresTs: 9000,
        nextLink: null,
      });
      t.equal(await store.markValidated('S1', 'h1', 7000), false, 'the replaced token does not validate');
      t.equal(await store.markValidated('S1', 'h2', 7000), true);
      t.equal(await store.markValidated('S1', 'h2', 7001), false, 'a token validates once');
      t.match(await store.get('S1'), { validatedAt: 7000, tokenHash: null, tokenExpiresTs: null });
      t.equal(await store.delete('S1'), true);
      t.equal(await store.delete('S1'), false, 'consumed once');
      await store.insert({ ...session, sessionId: 'OLD', createdTs: 10 });
      await store.insert({ ...session, sessionId: 'NEW', clientSecret: 'other', createdTs: 100_000 });
      t.equal(await store.deleteCreatedBefore(50_000), 1);
      t.ok(await store.get('NEW'));
    });

    await t.test('user 3PIDs: one account per address', async (t) => {
      const store = new UserThreepidsStore({ db });
      const a = { userId: '@a:hs', medium: 'email', address: 'x@example.org', validatedAt: 1, addedAt: 2 };
      await store.insert(a);
      await store.insert({ ...a, address: 'y@example.org', addedAt: 3 });
      const err = await store.insert({ ...a, userId: '@b:hs' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      t.ok(isUniqueViolation(err), 'a second account cannot take the address');
      t.same(
        (await store.listForUser('@a:hs')).map((x) => x.address),
        ['x@example.org', 'y@example.org'],
      );
      t.equal((await store.find('email', 'x@example.org'))?.userId, '@a:hs');
      t.equal(await store.delete('@b:hs', 'email', 'x@example.org'), false, 'only the owner deletes');
      t.equal(await store.delete('@a:hs', 'email', 'x@example.org'), true);
      t.equal(await store.deleteAllForUser('@a:hs'), 1);
      t.same(await store.listForUser('@a:hs'), []);
    });

    await t.test('identity server bindings', async (t) => {
      const store = new IdServerBindingsStore({ db });
      const b = { userId: '@a:hs', medium: 'email', address: 'x@example.org', idServer: 'id.example.org' };
      await store.add(b);
      await store.add(b);
      await store.add({ ...b, idServer: 'id2.example.org' });
      t.same(await store.idServersFor('@a:hs', 'email', 'x@example.org'), [
        'id.example.org',
        'id2.example.org',
      ]);
      await store.remove(b);
      t.same(await store.listForUser('@a:hs'), [{ ...b, idServer: 'id2.example.org' }]);
    });

    await t.test('mail queue store: claim is exclusive', async (t) => {
      const store = new MailQueueStore({ db });
      await store.enqueue({ recipient: 'r@example.org', subject: 's', text: 't', html: 'h' }, 100);
      const [mail] = await store.due(100, 10);
      t.ok(mail);
      if (!mail) return;
      t.same(await store.due(99, 10), [], 'not due before its time');
      t.equal(await store.claim(mail, 1000), true);
      t.equal(await store.claim(mail, 1000), false, 'a second process cannot take it');
      t.same(await store.due(500, 10), [], 'leased');
      await store.retryAt(mail.id, 2000, 'boom');
      t.match((await store.due(2000, 10))[0], { attempts: 1, nextAttemptTs: 2000 });
      await store.delete(mail.id);
      t.equal(await store.count(), 0);
    });

    await t.test('mail queue: sends, retries with backoff, gives up', async (t) => {
      const store = new MailQueueStore({ db });
      const sent: OutgoingMail[] = [];
      let failures = 2;
      const queue = new MailQueue(
        store,
        async (mail) => {
          if (failures > 0) {
            failures--;
            throw new Error('451 try later');
          }
          sent.push(mail);
        },
        createLogger('silent'),
        { baseDelayMs: 20, maxDelayMs: 50, maxAttempts: 5, leaseMs: 10_000, pollMs: 1000 },
      );
      queue.start();
      t.teardown(() => queue.stop());
      await queue.enqueue({ recipient: 'a@example.org', subject: 'hello', text: 't', html: 'h' });
      const deadline = Date.now() + 5000;
      // The row is deleted just after the send resolves.
      while ((sent.length === 0 || (await store.count()) > 0) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      t.equal(sent.length, 1, 'sent after two failures');
      t.equal(sent[0]?.subject, 'hello');
      t.equal(await store.count(), 0, 'removed once sent');

      failures = 100;
      await queue.enqueue({ recipient: 'b@example.org', subject: 'never', text: 't', html: 'h' });
      const giveUp = Date.now() + 5000;
      while ((await store.count()) > 0 && Date.now() < giveUp) await new Promise((r) => setTimeout(r, 20));
      t.equal(await store.count(), 0, 'given up after maxAttempts');
      t.equal(failures, 95, 'exactly maxAttempts tries');
    });
  });
});
