import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer } from './rooms-test-server.js';

void t.test('create, send, read on every engine', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startRoomsServer(t, { database });
    const alice = await server.user('alice');
    const roomId = await server.createRoom(alice, { name: 'x' });
    const eventId = await server.send(alice, roomId, 'hi');
    const msgs = await server.call(alice, 'GET', server.room(roomId, '/messages?dir=b&limit=1'));
    t.equal(msgs.status, 200);
    t.equal(msgs.body.chunk[0].event_id, eventId);
  });
});
