/**
 * matrix-js-sdk as a real client reading an edited message's history: paginating back (/messages) and
 * jumping to the message (/context) both show the edited text, the second from the bundled edit alone (the
 * edit itself lies outside the window loaded).
 */
import t from 'tap';
import { ClientEvent, createClient, SyncState, type MatrixClient, type MatrixEvent } from 'matrix-js-sdk';
import { startSyncingClient, unrefLongTimers, waitFor } from '../../../helpers/js-sdk.js';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { startRoomsServer, type TestUser } from '../rooms/rooms-test-server.js';

unrefLongTimers(60_000);

async function timelineClient(baseUrl: string, user: TestUser): Promise<MatrixClient> {
  const client = createClient({
    baseUrl,
    accessToken: user.token,
    userId: user.userId,
    deviceId: user.deviceId,
    timelineSupport: true,
  });
  const prepared = waitFor<void>('the first sync', (done) =>
    client.on(ClientEvent.Sync, (state) => {
      if (state === SyncState.Prepared) done();
    }),
  );
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  return client;
}

void withAllDatabases(t, async (t, database) => {
  const server = await startRoomsServer(t, { database });
  const alice = await server.user('alice');
  const bob = await server.user('bob');
  const roomId = await server.createRoom(alice, { preset: 'public_chat' });
  await server.call(bob, 'POST', server.room(roomId, '/join'), {});
  const original = await server.send(alice, roomId, 'original text');
  for (let i = 0; i < 15; i++) await server.send(alice, roomId, `filler ${i}`);
  const edit = await server.call(alice, 'PUT', server.room(roomId, '/send/m.room.message/jsedit'), {
    msgtype: 'm.text',
    body: '* edited text',
    'm.new_content': { msgtype: 'm.text', body: 'edited text' },
    'm.relates_to': { rel_type: 'm.replace', event_id: original },
  });
  t.equal(edit.status, 200);
  for (let i = 0; i < 15; i++) await server.send(alice, roomId, `later ${i}`);

  await t.test('jumping to the message (/context) shows the edit from the bundle', async (t) => {
    const client = await timelineClient(server.baseUrl, bob);
    t.teardown(() => client.stopClient());
    const room = client.getRoom(roomId);
    t.ok(room);
    if (!room) return;
    const timeline = await client.getEventTimeline(room.getUnfilteredTimelineSet(), original);
    const events = timeline?.getEvents() ?? [];
    t.notOk(
      events.some((e) => e.getId() === edit.body.event_id),
      'the edit itself is not in the loaded window',
    );
    const event = events.find((e: MatrixEvent) => e.getId() === original);
    t.equal(event?.getContent()['body'], 'edited text');
    t.equal(event?.getOriginalContent()['body'], 'original text');
    t.equal(event?.replacingEventId(), edit.body.event_id);
  });

  await t.test('paginating the history back shows the edited text', async (t) => {
    const client = await startSyncingClient(server.baseUrl, {
      accessToken: bob.token,
      userId: bob.userId,
      deviceId: bob.deviceId,
    });
    t.teardown(() => client.stopClient());
    const room = client.getRoom(roomId);
    t.ok(room);
    if (!room) return;
    let found: MatrixEvent | undefined;
    for (let i = 0; i < 10 && !found; i++) {
      await client.scrollback(room, 10);
      found = room
        .getLiveTimeline()
        .getEvents()
        .find((e) => e.getId() === original);
    }
    t.ok(found, 'the original was reached');
    t.equal(found?.getContent()['body'], 'edited text');
    t.equal(found?.getOriginalContent()['body'], 'original text');
  });
});
