import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer } from './rooms-test-server.js';

void t.test('create, send, read on every engine', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startRoomsServer(t, { database });
    const alice = server.user('alice');
    const created = await server.request('POST', '/_matrix/client/v3/createRoom', {
      token: alice.token,
      body: { name: 'x' },
    });
    t.equal(created.status, 200, JSON.stringify(created.body));
    const roomId = encodeURIComponent(created.body.room_id as string);
    const sent = await server.request('PUT', `/_matrix/client/v3/rooms/${roomId}/send/m.room.message/t1`, {
      token: alice.token,
      body: { msgtype: 'm.text', body: 'hi' },
    });
    t.equal(sent.status, 200, JSON.stringify(sent.body));
    const msgs = await server.request('GET', `/_matrix/client/v3/rooms/${roomId}/messages?dir=b&limit=1`, {
      token: alice.token,
    });
    t.equal(msgs.status, 200);
    t.equal(msgs.body.chunk[0].event_id, sent.body.event_id);
  });
});
