import t from 'tap';
import { decodeBase64 } from '../../../../core/protocol/base64.js';
import { CanonicalJsonError } from '../../../../core/protocol/canonical-json.js';
import { buildEvent, referenceHashOf } from '../../../../core/protocol/event-builder.js';
import type { EventDraft } from '../../../../core/protocol/event-builder.js';
import { computeEventId, roomIdFromCreateEvent } from '../../../../core/protocol/event-id.js';
import { verifyContentHash } from '../../../../core/protocol/hashes.js';
import { isValidEventId, isValidRoomId } from '../../../../core/protocol/identifiers.js';
import { getRoomVersion } from '../../../../core/protocol/room-versions.js';
import { signingKeyFromSeed } from '../../../../core/protocol/signing-key.js';
import { verifyEventSignature } from '../../../../core/protocol/signing.js';

const v = (id: string) => getRoomVersion(id)!;
const KEY = signingKeyFromSeed('1', decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1')!);
const SERVER = 'example.org';

const MESSAGE: EventDraft = {
  room_id: '!room:example.org',
  sender: '@alice:example.org',
  type: 'm.room.message',
  content: { msgtype: 'm.text', body: 'hi' },
  prev_events: ['$prev'],
  auth_events: ['$create', '$power'],
  depth: 4,
  origin_server_ts: 1700000000000,
};

const CREATE: EventDraft = {
  sender: '@alice:example.org',
  type: 'm.room.create',
  state_key: '',
  content: { room_version: '12' },
  prev_events: [],
  auth_events: [],
  depth: 1,
  origin_server_ts: 1700000000000,
};

void t.test('v11: the event has the v4+ format, a valid hash, signature and id', async (t) => {
  const { eventId, roomId, pdu } = buildEvent({
    roomVersion: v('11'),
    serverName: SERVER,
    key: KEY,
    partial: MESSAGE,
  });
  t.same(Object.keys(pdu).sort(), [
    'auth_events',
    'content',
    'depth',
    'hashes',
    'origin_server_ts',
    'prev_events',
    'room_id',
    'sender',
    'signatures',
    'type',
  ]);
  t.same(pdu.prev_events, ['$prev']);
  t.same(pdu.auth_events, ['$create', '$power']);
  t.equal(roomId, '!room:example.org');
  t.equal(eventId, computeEventId(pdu, v('11')));
  t.ok(isValidEventId(eventId, v('11')));
  t.ok(verifyContentHash(pdu, v('11')));
  t.ok(verifyEventSignature(pdu, v('11'), SERVER, 'ed25519:1', KEY.publicKey));
});

void t.test('building is deterministic for v3+ given the timestamp', async (t) => {
  const a = buildEvent({ roomVersion: v('10'), serverName: SERVER, key: KEY, partial: MESSAGE });
  const b = buildEvent({ roomVersion: v('10'), serverName: SERVER, key: KEY, partial: MESSAGE });
  t.equal(a.eventId, b.eventId);
  t.same(a.pdu, b.pdu);
});

void t.test('v3 ids use standard base64', async (t) => {
  const { eventId, pdu } = buildEvent({
    roomVersion: v('3'),
    serverName: SERVER,
    key: KEY,
    partial: MESSAGE,
  });
  t.ok(isValidEventId(eventId, v('3')));
  t.equal(eventId, computeEventId(pdu, v('3')));
});

void t.test('state events carry state_key; other events do not', async (t) => {
  const state = buildEvent({
    roomVersion: v('11'),
    serverName: SERVER,
    key: KEY,
    partial: { ...MESSAGE, type: 'm.room.topic', state_key: '', content: { topic: 't' } },
  });
  t.equal(state.pdu.state_key, '');
  t.notOk(
    'state_key' in buildEvent({ roomVersion: v('11'), serverName: SERVER, key: KEY, partial: MESSAGE }).pdu,
  );
});

void t.test('v12 create: no room_id, and the room id is the create event hash', async (t) => {
  const { eventId, roomId, pdu } = buildEvent({
    roomVersion: v('12'),
    serverName: SERVER,
    key: KEY,
    partial: CREATE,
  });
  t.notOk('room_id' in pdu);
  t.equal(roomId, roomIdFromCreateEvent(pdu, v('12')));
  t.equal(roomId, '!' + eventId.slice(1));
  t.ok(isValidRoomId(roomId, v('12')));
  t.ok(verifyEventSignature(pdu, v('12'), SERVER, 'ed25519:1', KEY.publicKey));
});

void t.test('v12 create ignores a given room_id', async (t) => {
  const plain = buildEvent({ roomVersion: v('12'), serverName: SERVER, key: KEY, partial: CREATE });
  const given = buildEvent({
    roomVersion: v('12'),
    serverName: SERVER,
    key: KEY,
    partial: { ...CREATE, room_id: '!x:y' },
  });
  t.equal(given.roomId, plain.roomId);
  t.notOk('room_id' in given.pdu);
});

void t.test('room_id is required elsewhere, including create events before v12', async (t) => {
  const { room_id: _r, ...noRoom } = MESSAGE;
  t.throws(
    () => buildEvent({ roomVersion: v('12'), serverName: SERVER, key: KEY, partial: noRoom }),
    /room_id/,
  );
  t.throws(
    () => buildEvent({ roomVersion: v('11'), serverName: SERVER, key: KEY, partial: CREATE }),
    /room_id/,
  );
});

void t.test('v1: mints $random:server, writes event_id and tuple references from the lookup', async (t) => {
  const hashes: Record<string, string> = { $prev: 'hp', $create: 'hc', $power: 'hpow' };
  const { eventId, pdu } = buildEvent({
    roomVersion: v('1'),
    serverName: SERVER,
    key: KEY,
    partial: MESSAGE,
    referenceHash: (id) => hashes[id],
  });
  t.match(eventId, /^\$[A-Za-z0-9_-]+:example\.org$/);
  t.equal(pdu.event_id, eventId);
  t.same(pdu.prev_events, [['$prev', { sha256: 'hp' }]]);
  t.same(pdu.auth_events, [
    ['$create', { sha256: 'hc' }],
    ['$power', { sha256: 'hpow' }],
  ]);
  t.ok(verifyContentHash(pdu, v('1')));
  t.ok(verifyEventSignature(pdu, v('1'), SERVER, 'ed25519:1', KEY.publicKey));
});

void t.test('v1: pre-shaped tuples pass through; an unknown plain id fails', async (t) => {
  const partial = {
    ...MESSAGE,
    prev_events: [['$prev', { sha256: 'x' }]] as [string, { sha256: string }][],
    auth_events: [],
  };
  t.same(buildEvent({ roomVersion: v('2'), serverName: SERVER, key: KEY, partial }).pdu.prev_events, [
    ['$prev', { sha256: 'x' }],
  ]);
  t.throws(
    () => buildEvent({ roomVersion: v('2'), serverName: SERVER, key: KEY, partial: MESSAGE }),
    /\$prev/,
  );
});

void t.test('v3+: tuple references are reduced to their ids', async (t) => {
  const partial = { ...MESSAGE, prev_events: [['$prev', { sha256: 'x' }]] as [string, { sha256: string }][] };
  t.same(buildEvent({ roomVersion: v('4'), serverName: SERVER, key: KEY, partial }).pdu.prev_events, [
    '$prev',
  ]);
});

void t.test('referenceHashOf gives the v1 reference a built event can be cited by', async (t) => {
  const built = buildEvent({
    roomVersion: v('1'),
    serverName: SERVER,
    key: KEY,
    partial: { ...MESSAGE, prev_events: [], auth_events: [] },
  });
  t.match(referenceHashOf(built.pdu, v('1')), /^[A-Za-z0-9+/]{43}$/);
  t.not(referenceHashOf(built.pdu, v('1')), referenceHashOf({ ...built.pdu, depth: 9 }, v('1')));
});

const REDACTION: EventDraft = {
  ...MESSAGE,
  type: 'm.room.redaction',
  content: { reason: 'spam' },
  redacts: '$bad',
};

void t.test('redacts is top level before v11', async (t) => {
  const { pdu } = buildEvent({ roomVersion: v('10'), serverName: SERVER, key: KEY, partial: REDACTION });
  t.equal(pdu.redacts, '$bad');
  t.same(pdu.content, { reason: 'spam' });
});

void t.test('redacts moves into content from v11', async (t) => {
  const { pdu } = buildEvent({ roomVersion: v('11'), serverName: SERVER, key: KEY, partial: REDACTION });
  t.notOk('redacts' in pdu);
  t.same(pdu.content, { reason: 'spam', redacts: '$bad' });
});

void t.test('origin_server_ts defaults to now', async (t) => {
  const { origin_server_ts: _ts, ...partial } = MESSAGE;
  const before = Date.now();
  const { pdu } = buildEvent({ roomVersion: v('11'), serverName: SERVER, key: KEY, partial });
  t.ok(pdu.origin_server_ts >= before && pdu.origin_server_ts <= Date.now());
});

void t.test('floats are rejected from v6 and tolerated before', async (t) => {
  const partial = { ...MESSAGE, content: { n: 0.5 } };
  t.throws(
    () => buildEvent({ roomVersion: v('6'), serverName: SERVER, key: KEY, partial }),
    CanonicalJsonError,
  );
  t.ok(buildEvent({ roomVersion: v('5'), serverName: SERVER, key: KEY, partial }).eventId);
});
