import t from 'tap';
import { startRoomsServer } from './rooms-test-server.js';

void t.test('create, send, read', async (t) => {
  const server = await startRoomsServer(t);
  const alice = server.user('alice');
  const created = await server.request('POST', '/_matrix/client/v3/createRoom', {
    token: alice.token,
    body: { name: 'x' },
  });
  t.equal(created.status, 200, JSON.stringify(created.body));
  const roomId = created.body.room_id as string;
  const sent = await server.request(
    'PUT',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/t1`,
    {
      token: alice.token,
      body: { msgtype: 'm.text', body: 'hi' },
    },
  );
  t.equal(sent.status, 200, JSON.stringify(sent.body));
  const msgs = await server.request(
    'GET',
    `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/messages?dir=b`,
    { token: alice.token },
  );
  t.equal(msgs.status, 200, JSON.stringify(msgs.body));
  t.comment(JSON.stringify(msgs.body.chunk.map((e: { type: string }) => e.type)));
});
