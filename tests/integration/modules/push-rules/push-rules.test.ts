import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { enc, startEphemeralServer } from '../typing/ephemeral-test-server.js';

const P = '/_matrix/client/v3/pushrules';

void t.test('push rules API', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startEphemeralServer(t, { database });
    const alice = await server.user('alice');
    const bob = await server.user('bob');

    await t.test('GET /pushrules/ has the default ruleset under global', async (t) => {
      const res = await server.call('GET', `${P}/`, alice);
      t.equal(res.status, 200);
      t.equal(res.body.global.override[0].rule_id, '.m.rule.master');
      t.same(res.body.global.content, []);
      t.equal(res.body.global.underride.at(-1).rule_id, '.m.rule.encrypted');
      const global = await server.call('GET', `${P}/global/`, alice);
      t.same(global.body, res.body.global);
    });

    await t.test('PUT then GET a content rule; it is enabled and user-defined', async (t) => {
      const put = await server.call('PUT', `${P}/global/content/cake`, alice, {
        pattern: 'cake',
        actions: ['notify', { set_tweak: 'sound', value: 'cakealarm.wav' }],
      });
      t.equal(put.status, 200);
      t.same(put.body, {});
      const got = await server.call('GET', `${P}/global/content/cake`, alice);
      t.same(got.body, {
        rule_id: 'cake',
        default: false,
        enabled: true,
        pattern: 'cake',
        actions: ['notify', { set_tweak: 'sound', value: 'cakealarm.wav' }],
      });
    });

    await t.test('before and after place rules relative to user rules', async (t) => {
      await server.call('PUT', `${P}/global/content/lie?before=cake`, alice, {
        pattern: 'cake*lie',
        actions: ['notify'],
      });
      await server.call('PUT', `${P}/global/content/tea?after=cake`, alice, { pattern: 'tea', actions: [] });
      const list = await server.call('GET', `${P}/global/`, alice);
      t.same(
        list.body.content.map((r: { rule_id: string }) => r.rule_id),
        ['lie', 'cake', 'tea'],
      );
      const missing = await server.call('PUT', `${P}/global/content/x?before=nope`, alice, {
        pattern: 'x',
        actions: [],
      });
      t.equal(missing.status, 404);
      const beforeDefault = await server.call('PUT', `${P}/global/override/x?before=.m.rule.master`, alice, {
        actions: [],
      });
      t.equal(beforeDefault.status, 400);
    });

    await t.test(
      'invalid rules: reserved id 400, content without pattern 400, unknown kind 400, bad action 400',
      async (t) => {
        t.equal((await server.call('PUT', `${P}/global/override/.mine`, alice, { actions: [] })).status, 400);
        const noPattern = await server.call('PUT', `${P}/global/content/np`, alice, { actions: [] });
        t.equal(noPattern.status, 400);
        t.equal(noPattern.body.errcode, 'M_MISSING_PARAM');
        t.equal((await server.call('GET', `${P}/global/weird/x`, alice)).status, 400);
        t.equal(
          (await server.call('PUT', `${P}/global/override/y`, alice, { actions: ['explode'] })).status,
          400,
        );
        t.equal(
          (await server.call('PUT', `${P}/global/override/y`, alice, {})).status,
          400,
          'actions required',
        );
      },
    );

    await t.test('enabled and actions sub-resources, on user and default rules', async (t) => {
      t.same((await server.call('GET', `${P}/global/content/cake/enabled`, alice)).body, { enabled: true });
      t.equal(
        (await server.call('PUT', `${P}/global/content/cake/enabled`, alice, { enabled: false })).status,
        200,
      );
      t.same((await server.call('GET', `${P}/global/content/cake/enabled`, alice)).body, { enabled: false });
      await server.call('PUT', `${P}/global/content/cake/actions`, alice, { actions: ['notify'] });
      t.same((await server.call('GET', `${P}/global/content/cake/actions`, alice)).body, {
        actions: ['notify'],
      });
      t.equal(
        (await server.call('PUT', `${P}/global/override/.m.rule.master/enabled`, alice, { enabled: true }))
          .status,
        200,
      );
      t.same((await server.call('GET', `${P}/global/override/.m.rule.master`, alice)).body, {
        rule_id: '.m.rule.master',
        default: true,
        enabled: true,
        actions: [],
        conditions: [],
      });
      await server.call('PUT', `${P}/global/override/.m.rule.master/enabled`, alice, { enabled: false });
      t.equal((await server.call('GET', `${P}/global/content/nope/enabled`, alice)).status, 404);
    });

    await t.test('DELETE removes a user rule; default rules cannot be deleted', async (t) => {
      t.equal((await server.call('DELETE', `${P}/global/content/tea`, alice)).status, 200);
      const gone = await server.call('GET', `${P}/global/content/tea`, alice);
      t.equal(gone.status, 404);
      t.equal(gone.body.errcode, 'M_NOT_FOUND');
      t.equal((await server.call('DELETE', `${P}/global/content/tea`, alice)).status, 404);
      t.equal((await server.call('DELETE', `${P}/global/underride/.m.rule.message`, alice)).status, 400);
    });

    await t.test('rules are per user', async (t) => {
      t.same((await server.call('GET', `${P}/global/`, bob)).body.content, []);
    });

    await t.test('a change reaches the next sync as m.push_rules account data', async (t) => {
      const since = (await server.sync(alice)).body.next_batch as string;
      const waiting = server.syncUntil(alice, since, (body) =>
        (body.account_data?.events ?? []).find((e: { type: string }) => e.type === 'm.push_rules'),
      );
      await server.call('PUT', `${P}/global/room/${enc('!some:test.local')}`, alice, { actions: [] });
      const { value } = await waiting;
      t.same(value.content.global.room, [
        { rule_id: '!some:test.local', default: false, enabled: true, actions: [] },
      ]);
    });
  });
});
