import t from 'tap';
import { createHash } from 'node:crypto';
import { computeEventId } from '../../../../core/protocol/event-id.js';
import { parseJsonLossless } from '../../../../core/protocol/lossless-json.js';
import { encodeBase64, encodeBase64Url } from '../../../../core/protocol/base64.js';
import { CanonicalJsonError } from '../../../../core/protocol/canonical-json.js';
import {
  addContentHash,
  computeContentHash,
  computeReferenceHash,
  verifyContentHash,
} from '../../../../core/protocol/hashes.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../core/protocol/room-versions.js';

const v = (id: string) => getRoomVersion(id)!;

// The spec's "Event Signing" vectors (appendices), before signing.
const MINIMAL_EVENT = {
  room_id: '!x:domain',
  sender: '@a:domain',
  origin: 'domain',
  origin_server_ts: 1000000,
  signatures: {},
  hashes: {},
  type: 'X',
  content: {},
  prev_events: [],
  auth_events: [],
  depth: 3,
  unsigned: { age_ts: 1000000 },
} as unknown as PduJson;
const MESSAGE_EVENT = {
  content: { body: 'Here is the message content' },
  event_id: '$0:domain',
  origin: 'domain',
  origin_server_ts: 1000000,
  type: 'm.room.message',
  room_id: '!r:domain',
  sender: '@u:domain',
  signatures: {},
  unsigned: { age_ts: 1000000 },
} as unknown as PduJson;

void t.test('spec vectors: content hashes', async (t) => {
  t.equal(
    encodeBase64(computeContentHash(MINIMAL_EVENT, v('1'))),
    '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos',
  );
  t.equal(
    encodeBase64(computeContentHash(MESSAGE_EVENT, v('1'))),
    'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g',
  );
});

void t.test('the content hash ignores unsigned, signatures and existing hashes', async (t) => {
  const noisy = {
    ...MINIMAL_EVENT,
    unsigned: { age: 5 },
    signatures: { a: {} },
    hashes: { sha256: 'old' },
  } as PduJson;
  t.equal(encodeBase64(computeContentHash(noisy, v('1'))), '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos');
});

void t.test('the content hash covers non-ASCII content as UTF-8', async (t) => {
  // Expected value from the spec's Python canonical_json + hashlib.
  const msg = {
    content: { body: '日本語 😀', n: 1 },
    origin_server_ts: 1,
    room_id: '!r:x',
    sender: '@u:x',
    type: 'm.room.message',
    depth: 2,
    prev_events: ['$a'],
    auth_events: ['$b'],
    unsigned: { age: 1 },
    hashes: { sha256: 'zz' },
    signatures: {},
  } as unknown as PduJson;
  t.equal(encodeBase64(computeContentHash(msg, v('11'))), '6Hn4Hw6pE6tTUptzxsXPP3gOK1yndTEb56pFofoV3uk');
});

// Computed independently with the spec's Python canonical_json over the hand-redacted event.
const HASHED = {
  ...MINIMAL_EVENT,
  depth: 5,
  hashes: { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' },
  signatures: { domain: { 'ed25519:1': 'sig' } },
  custom: 'dropped by redaction',
} as PduJson;

void t.test('the reference hash covers the redacted event without signatures and unsigned', async (t) => {
  t.equal(encodeBase64(computeReferenceHash(HASHED, v('3'))), 'Dst8nddHyB+rq/NxCgoksQtbOXBhAX8zIOGo/f9ak8o');
});

void t.test('the reference hash follows the version redaction rules (v11 drops origin)', async (t) => {
  const minimal = { ...HASHED, depth: 3 } as PduJson;
  t.equal(
    encodeBase64(computeReferenceHash(minimal, v('11'))),
    '70O/oKlXzFbkfu0KE88USi98DjSWrOELrPj+8tisl8I',
  );
});

void t.test('addContentHash sets hashes.sha256, keeps other algorithms and does not mutate', async (t) => {
  const input = { ...MINIMAL_EVENT, hashes: { sha256: 'old', other: 'x' } } as PduJson;
  t.same(addContentHash(input, v('1')).hashes, {
    sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos',
    other: 'x',
  });
  t.same(input.hashes, { sha256: 'old', other: 'x' });
});

void t.test('verifyContentHash accepts the right hash, padded or not', async (t) => {
  const hashed = addContentHash(MESSAGE_EVENT, v('1'));
  t.ok(verifyContentHash(hashed, v('1')));
  t.ok(verifyContentHash({ ...hashed, hashes: { sha256: hashed.hashes.sha256 + '=' } }, v('1')));
});

void t.test('verifyContentHash rejects redacted, tampered, missing or malformed hashes', async (t) => {
  const hashed = addContentHash(MESSAGE_EVENT, v('1'));
  t.notOk(verifyContentHash({ ...hashed, content: {} }, v('1')), 'redacted copy');
  t.notOk(verifyContentHash({ ...hashed, origin_server_ts: 2 }, v('1')), 'tampered');
  t.notOk(verifyContentHash({ ...hashed, hashes: {} } as unknown as PduJson, v('1')), 'missing');
  t.notOk(verifyContentHash({ ...hashed, hashes: { sha256: '!!' } }, v('1')), 'not base64');
  t.notOk(verifyContentHash({ ...hashed, hashes: 'x' } as unknown as PduJson, v('1')), 'not an object');
});

void t.test('hashes are computed as other servers compute them, whatever the room version', async (t) => {
  // Strict canonical JSON is a validity rule (building, receipt), not part of hashing: Synapse hashes
  // whatever integers an event holds. Only making an event (addContentHash) enforces it.
  const floaty = { ...MINIMAL_EVENT, content: { n: 0.5 } } as PduJson;
  t.ok(computeContentHash(floaty, v('5')));
  t.ok(computeContentHash(floaty, v('6')));
  t.ok(computeReferenceHash({ ...floaty, type: 'm.room.create' }, v('12')));
  t.ok(addContentHash(floaty, v('5')));
  t.throws(() => addContentHash(floaty, v('6')), CanonicalJsonError);
});

// An old room's event whose depth is 2^63 - 1, as stored or received (text). JSON.parse would round the
// depth to 2^63; the hashes must cover the digits as written, as Synapse (Python ints) computes them.
const BIG_DEPTH_TEXT =
  '{"auth_events":[],"content":{"body":"hi"},"depth":9223372036854775807,"hashes":{"sha256":"x"},' +
  '"origin_server_ts":1,"prev_events":[],"room_id":"!r:domain","sender":"@a:domain","signatures":{},' +
  '"type":"m.room.message"}';

void t.test('a big integer parsed losslessly hashes with every digit, in every room version', async (t) => {
  const pdu = parseJsonLossless(BIG_DEPTH_TEXT) as unknown as PduJson;
  const sha = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  const contentText =
    '{"auth_events":[],"content":{"body":"hi"},"depth":9223372036854775807,"origin_server_ts":1,' +
    '"prev_events":[],"room_id":"!r:domain","sender":"@a:domain","type":"m.room.message"}';
  const referenceText =
    '{"auth_events":[],"content":{},"depth":9223372036854775807,"hashes":{"sha256":"x"},' +
    '"origin_server_ts":1,"prev_events":[],"room_id":"!r:domain","sender":"@a:domain","type":"m.room.message"}';
  for (const id of ['1', '4', '5', '6', '11']) {
    t.same(computeContentHash(pdu, v(id)), sha(contentText), `content hash, v${id}`);
    t.same(computeReferenceHash(pdu, v(id)), sha(referenceText), `reference hash, v${id}`);
  }
  t.equal(computeEventId(pdu, v('4')), '$' + encodeBase64Url(sha(referenceText)));
  const rounded = JSON.parse(BIG_DEPTH_TEXT) as PduJson;
  t.not(computeEventId(rounded, v('4')), computeEventId(pdu, v('4')), 'JSON.parse would lose it');
});
