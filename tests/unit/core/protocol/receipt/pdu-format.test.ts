import t from 'tap';
import { checkPduFormat, MAX_PDU_BYTES } from '../../../../../core/protocol/pdu-format.js';
import { canonicalJson } from '../../../../../core/protocol/canonical-json.js';
import { parseJsonLossless } from '../../../../../core/protocol/lossless-json.js';
import type { PduJson } from '../../../../../core/protocol/pdu.js';
import { ALL, message, ORIGIN, someEventId, someRef, v } from './pdus.js';

const code = (value: unknown, id: string) => {
  const r = checkPduFormat(value, v(id));
  return r.ok ? 'ok' : r.code;
};
const without = (pdu: PduJson, key: string) => {
  const copy: Record<string, unknown> = { ...pdu };
  delete copy[key];
  return copy;
};

void t.test(
  'events built by this server are valid in every room version, also after a JSON round trip',
  async (t) => {
    for (const id of ALL) {
      const pdu = message(id);
      t.equal(code(pdu, id), 'ok', `v${id}`);
      t.equal(code(parseJsonLossless(JSON.stringify(pdu)), id), 'ok', `v${id} round trip`);
    }
  },
);

void t.test('a PDU must be a JSON object', async (t) => {
  for (const value of [null, [], 'x', 3, true]) t.equal(code(value, '11'), 'not_object');
});

void t.test('required fields (pdu_base and each version’s format)', async (t) => {
  for (const id of ALL) {
    const pdu = message(id);
    for (const key of ['sender', 'type', 'content', 'origin_server_ts', 'depth', 'hashes', 'signatures']) {
      t.equal(code(without(pdu, key), id), 'missing_field', `v${id} ${key}`);
    }
    t.equal(code(without(pdu, 'room_id'), id), 'missing_field', `v${id} room_id`);
    t.equal(code(without(pdu, 'prev_events'), id), 'missing_field', `v${id} prev_events`);
    t.equal(code(without(pdu, 'auth_events'), id), 'missing_field', `v${id} auth_events`);
    t.equal(code(without(pdu, 'event_id'), id), Number(id) <= 2 ? 'missing_field' : 'ok', `v${id} event_id`);
  }
});

void t.test('v12: the create event has no room_id; every other event has one', async (t) => {
  const create = message('12', {
    type: 'm.room.create',
    state_key: '',
    content: {},
    room_id: undefined,
    prev_events: [],
    auth_events: [],
  });
  t.notOk('room_id' in create);
  t.equal(code(create, '12'), 'ok');
  t.equal(
    code(without(message('12', { type: 'm.room.name', state_key: '' }), 'room_id'), '12'),
    'missing_field',
  );
});

void t.test('v1–2 event ids are $opaque:server; v3+ references are ids of the version’s form', async (t) => {
  t.equal(code({ ...message('1'), event_id: 'nodollar' }, '1'), 'bad_field');
  t.equal(code({ ...message('2'), event_id: '$noserver' }, '2'), 'bad_field');
  t.equal(
    code({ ...message('2'), event_id: `$${'a'.repeat(250)}:${ORIGIN}` }, '2'),
    'bad_field',
    '> 255 bytes',
  );
  t.equal(code({ ...message('1'), prev_events: [someEventId(v('1'), 1)] }, '1'), 'bad_field', 'v1 plain id');
  t.equal(code({ ...message('1'), prev_events: [[someEventId(v('1'), 1)]] }, '1'), 'bad_field', 'v1 1-tuple');
  t.equal(
    code({ ...message('1'), auth_events: [[someEventId(v('1'), 1), {}]] }, '1'),
    'bad_field',
    'no sha256',
  );
  t.equal(code({ ...message('4'), prev_events: [someRef(v('1'), 1)] }, '4'), 'bad_field', 'v4 tuple');
  t.equal(code({ ...message('4'), prev_events: [someEventId(v('3'), 62)] }, '4'), 'bad_field', 'v3 id in v4');
  t.equal(code({ ...message('3'), auth_events: [`$x:${ORIGIN}`] }, '3'), 'bad_field', 'v1 id in v3');
  t.equal(code({ ...message('11'), prev_events: 'x' }, '11'), 'bad_field');
});

void t.test('at most 20 prev_events and 10 auth_events', async (t) => {
  for (const id of ['2', '11']) {
    const rv = v(id);
    const refs = (n: number) => Array.from({ length: n }, (_, i) => someRef(rv, i));
    t.equal(code({ ...message(id), prev_events: refs(20) }, id), 'ok');
    t.equal(code({ ...message(id), prev_events: refs(21) }, id), 'too_many_references');
    t.equal(code({ ...message(id), auth_events: refs(10) }, id), 'ok');
    t.equal(code({ ...message(id), auth_events: refs(11) }, id), 'too_many_references');
  }
});

void t.test('65,536 bytes of canonical JSON at most, unsigned not counted', async (t) => {
  const base = message('11', { content: { body: '' } });
  const size = (p: unknown) => Buffer.byteLength(canonicalJson(p), 'utf8');
  const padded = (n: number) => ({ ...base, content: { body: 'x'.repeat(n) } });
  const fits = padded(MAX_PDU_BYTES - size(base));
  t.equal(size(fits), MAX_PDU_BYTES);
  t.equal(code(fits, '11'), 'ok', 'exactly the limit');
  t.equal(code(padded(MAX_PDU_BYTES - size(base) + 1), '11'), 'too_large');
  t.equal(code({ ...fits, unsigned: { age: 1234 } }, '11'), 'ok', 'unsigned is not part of the size');
  const multibyte = { ...base, content: { body: 'é'.repeat(MAX_PDU_BYTES / 2) } };
  t.equal(code(multibyte, '11'), 'too_large', 'bytes, not characters');
});

void t.test('type and state_key: strings of at most 255 bytes', async (t) => {
  t.equal(code(message('11', { type: 't'.repeat(255) }), '11'), 'ok');
  t.equal(code(message('11', { type: 't'.repeat(256) }), '11'), 'too_long');
  t.equal(code(message('11', { state_key: '€'.repeat(85) }), '11'), 'ok', '255 bytes');
  t.equal(code(message('11', { state_key: 'é'.repeat(128) }), '11'), 'too_long', '256 bytes');
  t.equal(code({ ...message('11'), state_key: 5 }, '11'), 'bad_field');
  t.equal(code({ ...message('11'), type: ['m.room.message'] }, '11'), 'bad_field');
});

void t.test(
  'sender and room_id: identifiers of at most 255 bytes, historical grammar accepted',
  async (t) => {
    t.equal(code({ ...message('11'), sender: `@Old_User!:${ORIGIN}` }, '11'), 'ok', 'historical localpart');
    t.equal(code({ ...message('11'), sender: 'alice' }, '11'), 'bad_field');
    t.equal(code({ ...message('11'), sender: `@${'a'.repeat(250)}:${ORIGIN}` }, '11'), 'bad_field');
    t.equal(code({ ...message('11'), room_id: `!${'r'.repeat(250)}:${ORIGIN}` }, '11'), 'bad_field');
    t.equal(
      code({ ...message('11'), room_id: message('12').room_id }, '11'),
      'bad_field',
      'v12 room id in v11',
    );
    t.equal(code({ ...message('12'), room_id: `!room:${ORIGIN}` }, '12'), 'bad_field', 'v11 room id in v12');
  },
);

void t.test('field types: content, hashes, signatures, unsigned, origin_server_ts, redacts', async (t) => {
  const pdu = message('10');
  t.equal(code({ ...pdu, content: [] }, '10'), 'bad_field');
  t.equal(code({ ...pdu, hashes: {} }, '10'), 'bad_field');
  t.equal(code({ ...pdu, hashes: { sha256: 1 } }, '10'), 'bad_field');
  t.equal(code({ ...pdu, signatures: [] }, '10'), 'bad_field');
  t.equal(code({ ...pdu, signatures: { [ORIGIN]: { 'ed25519:1': 5 } } }, '10'), 'bad_field');
  t.equal(code({ ...pdu, signatures: { [ORIGIN]: 'sig' } }, '10'), 'bad_field');
  t.equal(code({ ...pdu, unsigned: 'x' }, '10'), 'bad_field');
  t.equal(code({ ...pdu, origin_server_ts: '1' }, '10'), 'bad_field');
  t.equal(code({ ...pdu, redacts: 5 }, '10'), 'bad_field', 'v1–10 redacts is a string');
  t.equal(code({ ...message('11'), redacts: 5 }, '11'), 'ok', 'v11+ top-level redacts is only an extra key');
});

void t.test('depth: an integer in [0, 2^63 - 1]; from v6 within canonical JSON’s range', async (t) => {
  for (const id of ['1', '5']) {
    t.equal(code({ ...message(id), depth: -1 }, id), 'bad_field', `v${id} negative`);
    t.equal(code({ ...message(id), depth: 1.5 }, id), 'bad_field', `v${id} float`);
    t.equal(code({ ...message(id), depth: '5' }, id), 'bad_field', `v${id} string`);
    t.equal(code({ ...message(id), depth: 2n ** 63n - 1n }, id), 'ok', `v${id} 2^63 - 1`);
    t.equal(code({ ...message(id), depth: 2n ** 63n }, id), 'bad_field', `v${id} 2^63`);
  }
  const big = parseJsonLossless(
    JSON.stringify(message('5')).replace('"depth":5', '"depth":9223372036854775807'),
  );
  t.equal(code(big, '5'), 'ok', 'parsed losslessly');
  t.equal(code({ ...message('6'), depth: 2 ** 53 - 1 }, '6'), 'ok');
  t.equal(code({ ...message('6'), depth: 2n ** 53n }, '6'), 'canonical_json');
});

void t.test('strict canonical JSON from v6: no floats or out-of-range integers anywhere', async (t) => {
  for (const id of ALL) {
    const floaty = { ...message(id), content: { n: 0.5 } };
    const bigInt = { ...message(id), content: { n: 2n ** 60n } };
    const want = Number(id) >= 6 ? 'canonical_json' : 'ok';
    t.equal(code(floaty, id), want, `v${id} float`);
    t.equal(code(bigInt, id), want, `v${id} big integer`);
  }
  const r = checkPduFormat({ ...message('6'), content: { a: { b: 1.5 } } }, v('6'));
  t.match(!r.ok && r.reason, /\$\.content\.a\.b/, 'the reason names the path');
  const inUnsigned = checkPduFormat({ ...message('6'), unsigned: { age: 0.5 } }, v('6'));
  t.match(!inUnsigned.ok && inUnsigned.reason, /\$\.unsigned\.age/, 'unsigned too');
});
