import t from 'tap';
import auth from '../../../../modules/auth/index.js';
import { AuthStore } from '../../../../modules/auth/store/auth-store.js';
import { openDatabase } from '../../../../core/storage/database.js';
import { migrateToLatest, rollbackAll } from '../../../../core/storage/migrate.js';
import { createLogger } from '../../../../core/logger.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';

void t.test('auth store on every engine', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await openDatabase(database, '.');
    t.teardown(() => db.destroy());
    await migrateToLatest(db, [auth], createLogger('silent'));
    const store = new AuthStore({ db });

    await t.test(
      'users: insert, get, case-insensitive login lookup, deactivation keeps the row',
      async (t) => {
        await store.users.insert({
          userId: '@alice:hs',
          passwordHash: 'h',
          admin: true,
          isGuest: false,
          userType: null,
          creationTs: 1,
        });
        const alice = await store.users.get('@alice:hs');
        t.same(alice, {
          userId: '@alice:hs',
          passwordHash: 'h',
          admin: true,
          isGuest: false,
          deactivated: false,
          shadowBanned: false,
          userType: null,
          creationTs: 1,
        });
        t.equal((await store.users.findForLogin('@ALICE:hs'))?.userId, '@alice:hs');
        await t.rejects(
          store.users.insert({
            userId: '@alice:hs',
            passwordHash: null,
            admin: false,
            isGuest: false,
            userType: null,
            creationTs: 2,
          }),
        );
        await store.users.markDeactivated('@alice:hs');
        const after = await store.users.get('@alice:hs');
        t.equal(after?.deactivated, true);
        t.equal(after?.passwordHash, null);
        t.equal(await store.users.count(), 1);
      },
    );

    await t.test('devices: ensure is idempotent, last seen is written in a batch', async (t) => {
      await store.users.insert({
        userId: '@bob:hs',
        passwordHash: null,
        admin: false,
        isGuest: false,
        userType: null,
        creationTs: 1,
      });
      t.equal(await store.devices.ensure('@bob:hs', 'D1', 'phone', 5), true);
      t.equal(await store.devices.ensure('@bob:hs', 'D1', 'other', 6), false);
      await store.devices.updateLastSeen([
        { userId: '@bob:hs', deviceId: 'D1', ip: '10.0.0.1', userAgent: 'ua', ts: 99 },
      ]);
      t.same(await store.devices.get('@bob:hs', 'D1'), {
        userId: '@bob:hs',
        deviceId: 'D1',
        displayName: 'phone',
        lastSeenIp: '10.0.0.1',
        lastSeenUserAgent: 'ua',
        lastSeenTs: 99,
      });
      await store.devices.delete('@bob:hs', ['D1']);
      t.same(await store.devices.list('@bob:hs'), []);
    });

    await t.test('tokens: access tokens by hash, refresh chain, single-use login tokens', async (t) => {
      const refreshId = await store.tokens.insertRefreshToken({
        tokenHash: 'r1',
        userId: '@bob:hs',
        deviceId: 'D',
        expiryTs: null,
        ultimateSessionExpiryTs: null,
        now: 1,
      });
      const accessId = await store.tokens.insertAccessToken({
        tokenHash: 'a1',
        userId: '@bob:hs',
        deviceId: 'D',
        validUntilMs: 10,
        refreshTokenId: refreshId,
        now: 1,
      });
      const row = await store.tokens.accessTokenByHash('a1');
      t.same(row, {
        id: accessId,
        userId: '@bob:hs',
        deviceId: 'D',
        validUntilMs: 10,
        refreshTokenId: refreshId,
        used: false,
      });
      const next = await store.tokens.insertRefreshToken({
        tokenHash: 'r2',
        userId: '@bob:hs',
        deviceId: 'D',
        expiryTs: 5,
        ultimateSessionExpiryTs: null,
        now: 2,
      });
      await store.tokens.setNextRefreshToken(refreshId, next);
      t.equal((await store.tokens.refreshTokenPredecessor(next))?.id, refreshId);
      t.same(await store.tokens.accessTokensOfRefreshToken(refreshId), [{ id: accessId, tokenHash: 'a1' }]);
      await store.tokens.insertLoginToken('l1', '@bob:hs', 100);
      t.equal(await store.tokens.consumeLoginToken('l1', 50), '@bob:hs');
      t.equal(await store.tokens.consumeLoginToken('l1', 50), undefined, 'single use');
      await store.tokens.insertLoginToken('l2', '@bob:hs', 100);
      t.equal(await store.tokens.consumeLoginToken('l2', 150), undefined, 'expired');
    });

    await t.test('profiles keep JSON values per field', async (t) => {
      await store.profiles.set('@bob:hs', 'displayname', 'Bob');
      await store.profiles.set('@bob:hs', 'com.example.x', { a: [1] });
      await store.profiles.set('@bob:hs', 'displayname', 'Robert');
      t.same(await store.profiles.get('@bob:hs'), { 'com.example.x': { a: [1] }, displayname: 'Robert' });
      await store.profiles.delete('@bob:hs', ['displayname']);
      t.same(await store.profiles.get('@bob:hs'), { 'com.example.x': { a: [1] } });
    });

    await t.test('registration tokens count pending then completed uses', async (t) => {
      await store.registrationTokens.insert({ token: 'tok', uses_allowed: 2, expiry_time: null });
      await store.registrationTokens.addPending('tok', 1);
      await store.registrationTokens.completePending('tok');
      t.same(await store.registrationTokens.get('tok'), {
        token: 'tok',
        uses_allowed: 2,
        pending: 0,
        completed: 1,
        expiry_time: null,
      });
    });

    await t.test('UIA sessions store JSON dictionaries', async (t) => {
      await store.uia.create({
        sessionId: 's',
        creationTs: 1,
        uri: '/x',
        method: 'POST',
        description: 'd',
        clientDict: { a: 1 },
      });
      await store.uia.setCompleted('s', { 'm.login.dummy': true });
      await store.uia.setServerDict('s', { password_hash: 'h' });
      const s = await store.uia.get('s');
      t.same(s?.clientDict, { a: 1 });
      t.same(s?.completed, { 'm.login.dummy': true });
      t.same(s?.serverDict, { password_hash: 'h' });
      await store.uia.deleteOlderThan(2);
      t.equal(await store.uia.get('s'), undefined);
    });

    await t.test('the down migration removes every table', async (t) => {
      await rollbackAll(db, [auth]);
      for (const table of [
        'auth_users',
        'auth_devices',
        'auth_access_tokens',
        'auth_profiles',
        'auth_uia_sessions',
      ]) {
        t.equal(await db.schema.hasTable(table), false, table);
      }
    });
  });
});
