import t from 'tap';
import { startServer } from '../../../helpers/start-server.js';
import { adminRegistrationConfig, makeUser, openRegistrationConfig } from '../../../helpers/fixtures.js';

void t.test("Synapse's default rate limits over HTTP", async (t) => {
  const server = await startServer(t, {
    defaultRateLimits: true,
    // media's own cap on pending uploads (5) would answer before rc_media_create does.
    config: { ...openRegistrationConfig, ...adminRegistrationConfig, max_pending_media_uploads: 1000 },
  });
  const alice = await makeUser(server);
  const admin = await makeUser(server, { admin: true });
  const room = await server.request('POST', '/_matrix/client/v3/createRoom', {
    body: { preset: 'public_chat' },
    token: alice.accessToken,
  });
  const roomId = encodeURIComponent(room.body.room_id as string);
  let txn = 0;
  const send = (token: string) =>
    server.request('PUT', `/_matrix/client/v3/rooms/${roomId}/send/m.room.message/t${++txn}`, {
      body: { msgtype: 'm.text', body: 'hi' },
      token,
    });

  await t.test(
    'rc_message: a burst of 10, then 429 M_LIMIT_EXCEEDED with retry_after_ms and Retry-After',
    async (t) => {
      // createRoom's own events are not counted: only client sends are.
      for (let i = 0; i < 10; i++) t.equal((await send(alice.accessToken)).status, 200, `message ${i + 1}`);
      const refused = await send(alice.accessToken);
      t.equal(refused.status, 429);
      t.equal(refused.body.errcode, 'M_LIMIT_EXCEEDED');
      t.ok(
        refused.body.retry_after_ms > 4000 && refused.body.retry_after_ms <= 5000,
        `${refused.body.retry_after_ms}`,
      );
      t.equal(refused.headers.get('retry-after'), '5');
      // State events share the bucket.
      const state = await server.request('PUT', `/_matrix/client/v3/rooms/${roomId}/state/m.room.topic/`, {
        body: { topic: 'x' },
        token: alice.accessToken,
      });
      t.equal(state.status, 429);
    },
  );

  await t.test('a server admin is exempt', async (t) => {
    const join = await server.request('POST', `/_matrix/client/v3/rooms/${roomId}/join`, {
      body: {},
      token: admin.accessToken,
    });
    t.equal(join.status, 200);
    for (let i = 0; i < 15; i++)
      t.equal((await send(admin.accessToken)).status, 200, `admin message ${i + 1}`);
  });

  await t.test('rc_media_create per user: a burst of 50 (10/s refill meanwhile), then 429', async (t) => {
    let allowed = 0;
    let refused: Awaited<ReturnType<typeof server.request>> | undefined;
    while (allowed < 200) {
      const res = await server.request('POST', '/_matrix/media/v1/create', { token: alice.accessToken });
      if (res.status !== 200) {
        refused = res;
        break;
      }
      allowed++;
    }
    t.ok(allowed >= 50 && allowed < 200, `${allowed} allowed before the first refusal`);
    t.same([refused?.status, refused?.body.errcode], [429, 'M_LIMIT_EXCEEDED']);
  });

  await t.test('rc_key_requests counts each recipient device', async (t) => {
    const messages = Object.fromEntries(
      Array.from({ length: 101 }, (_, i) => [`@u${i}:test.local`, { DEV: { action: 'request' } }]),
    );
    const res = await server.request('PUT', '/_matrix/client/v3/sendToDevice/m.room_key_request/k1', {
      body: { messages },
      token: alice.accessToken,
    });
    t.same([res.status, res.body.errcode], [429, 'M_LIMIT_EXCEEDED']);
    const other = await server.request('PUT', '/_matrix/client/v3/sendToDevice/m.custom/k2', {
      body: { messages },
      token: alice.accessToken,
    });
    t.equal(other.status, 200, 'other to-device types are not limited by it');
  });
});
