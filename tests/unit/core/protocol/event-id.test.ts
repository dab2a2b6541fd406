import t from 'tap';
import {
  computeEventId,
  generateLegacyEventId,
  roomIdFromCreateEvent,
} from '../../../../core/protocol/event-id.js';
import { isValidEventId } from '../../../../core/protocol/identifiers.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../core/protocol/room-versions.js';

const v = (id: string) => getRoomVersion(id)!;

// Expected ids computed independently with the spec's Python canonical_json over the hand-redacted events.
const EVENT = {
  auth_events: [],
  content: {},
  depth: 5,
  hashes: { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' },
  origin: 'domain',
  origin_server_ts: 1000000,
  prev_events: [],
  room_id: '!x:domain',
  sender: '@a:domain',
  signatures: { domain: { 'ed25519:1': 'sig' } },
  type: 'X',
  unsigned: { age_ts: 1000000 },
} as unknown as PduJson;

const CREATE = {
  auth_events: [],
  content: { room_version: '12', 'm.federate': true },
  depth: 1,
  hashes: { sha256: 'abc' },
  origin_server_ts: 1700000000000,
  prev_events: [],
  sender: '@alice:example.org',
  state_key: '',
  type: 'm.room.create',
  signatures: { 'example.org': { 'ed25519:1': 'sig' } },
  unsigned: { age: 3 },
} as unknown as PduJson;

void t.test('v3 event ids are $ + the reference hash in standard base64', async (t) => {
  t.equal(computeEventId(EVENT, v('3')), '$Dst8nddHyB+rq/NxCgoksQtbOXBhAX8zIOGo/f9ak8o');
});

void t.test('v4+ event ids use the URL-safe alphabet', async (t) => {
  for (const id of ['4', '5', '10'])
    t.equal(computeEventId(EVENT, v(id)), '$Dst8nddHyB-rq_NxCgoksQtbOXBhAX8zIOGo_f9ak8o');
});

void t.test('event ids do not depend on unsigned, signatures or redactable content', async (t) => {
  const noisy = { ...EVENT, unsigned: {}, signatures: {}, content: { body: 'x' }, extra: 1 } as PduJson;
  t.equal(computeEventId(noisy, v('4')), '$Dst8nddHyB-rq_NxCgoksQtbOXBhAX8zIOGo_f9ak8o');
});

void t.test('v1–v2 event ids are the event_id field', async (t) => {
  t.equal(computeEventId({ ...EVENT, event_id: '$abc:domain' }, v('1')), '$abc:domain');
  t.equal(computeEventId({ ...EVENT, event_id: '$abc:domain' }, v('2')), '$abc:domain');
  t.throws(() => computeEventId(EVENT, v('2')), /event_id/);
});

void t.test('generateLegacyEventId makes distinct valid v1 ids on the server', async (t) => {
  const a = generateLegacyEventId('example.org:8448');
  const b = generateLegacyEventId('example.org:8448');
  t.not(a, b);
  t.match(a, /^\$[A-Za-z0-9_-]{24}:example\.org:8448$/);
  t.ok(isValidEventId(a, v('1')));
});

void t.test('v12 room ids are ! + the create event URL-safe reference hash', async (t) => {
  t.equal(roomIdFromCreateEvent(CREATE, v('12')), '!Edy82BPQuYmcEBt61dFP8KJw61xORC5SHEwFUxtrZQ0');
  t.equal(computeEventId(CREATE, v('12')), '$Edy82BPQuYmcEBt61dFP8KJw61xORC5SHEwFUxtrZQ0');
});

void t.test('roomIdFromCreateEvent refuses older versions and other events', async (t) => {
  t.throws(() => roomIdFromCreateEvent(CREATE, v('11')), /not derived/);
  t.throws(() => roomIdFromCreateEvent({ ...CREATE, type: 'm.room.name' }, v('12')), /m\.room\.create/);
  t.throws(() => roomIdFromCreateEvent({ ...CREATE, state_key: 'x' }, v('12')), /m\.room\.create/);
});
