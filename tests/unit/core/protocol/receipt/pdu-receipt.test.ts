import t from 'tap';
import { computeEventId } from '../../../../../core/protocol/event-id.js';
import { parseJsonLossless } from '../../../../../core/protocol/lossless-json.js';
import type { PduJson } from '../../../../../core/protocol/pdu.js';
import { checkPduOnReceipt, type PduReceiptVerdict } from '../../../../../core/protocol/pdu-receipt.js';
import type { VerifyKeyLookup } from '../../../../../core/protocol/pdu-signatures.js';
import { redactEvent } from '../../../../../core/protocol/redaction.js';
import { ALL, KEYS, keyStore, message, ORIGIN, ORIGIN_KEY, roomIdFor, v } from './pdus.js';

const check = (pdu: unknown, id: string, keys: VerifyKeyLookup = KEYS(), roomId?: string) =>
  checkPduOnReceipt({ pdu, roomVersion: v(id), keys, roomId });
const summary = (r: PduReceiptVerdict) =>
  r.accepted ? (r.redacted ? 'redacted' : 'accepted') : `${r.stage}:${r.code}`;

// Spec appendices "Event Signing": the minimally-sized event, signed with the test key as `domain`.
const SPEC_SIGNED_EVENT = `{
  "auth_events": [], "content": {}, "depth": 3,
  "hashes": { "sha256": "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos" },
  "origin": "domain", "origin_server_ts": 1000000, "prev_events": [], "room_id": "!x:domain",
  "sender": "@a:domain",
  "signatures": { "domain": { "ed25519:1": "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg" } },
  "type": "X", "unsigned": { "age_ts": 1000000 }
}`;

void t.test('spec vector: the signed minimal event passes every check (v3+ format)', async (t) => {
  const keys = keyStore({ domain: { 'ed25519:1': { key: ORIGIN_KEY, validUntilTs: 1000000 } } });
  for (const id of ['3', '4', '5', '6', '10']) {
    const pdu = parseJsonLossless(SPEC_SIGNED_EVENT);
    const r = await check(pdu, id, keys);
    t.equal(summary(r), 'accepted', `v${id}`);
    t.equal(r.accepted && r.eventId, computeEventId(pdu as unknown as PduJson, v(id)));
    t.same(r.accepted && r.signedBy, ['domain']);
  }
  // The vector carries `origin`, which the v11 redaction rules no longer keep: signed under the older
  // rules, its signature does not cover the v11 redacted form.
  const v11 = await check(parseJsonLossless(SPEC_SIGNED_EVENT), '11', keys);
  t.equal(summary(v11), 'signatures:bad_signature', 'v11 redacts origin away');
  const expired = keyStore({ domain: { 'ed25519:1': { key: ORIGIN_KEY, validUntilTs: 999999 } } });
  t.equal(
    summary(await check(parseJsonLossless(SPEC_SIGNED_EVENT), '4', expired)),
    'accepted',
    'v4 ignores validity',
  );
  t.equal(
    summary(await check(parseJsonLossless(SPEC_SIGNED_EVENT), '5', expired)),
    'signatures:no_usable_key',
  );
  t.equal(
    summary(await check(parseJsonLossless(SPEC_SIGNED_EVENT), '1', keys)),
    'format:missing_field',
    'no event_id',
  );
});

void t.test('a good event of every version is accepted with its id', async (t) => {
  for (const id of ALL) {
    const pdu = message(id);
    const r = await check(JSON.parse(JSON.stringify(pdu)), id);
    t.equal(summary(r), 'accepted', `v${id}`);
    t.equal(r.accepted && r.eventId, computeEventId(pdu, v(id)), `v${id} id`);
    t.same(r.accepted && r.pdu, pdu);
  }
});

void t.test('a content hash mismatch keeps the redacted form, with the reason', async (t) => {
  for (const id of ALL) {
    const pdu = message(id);
    const r = await check({ ...pdu, content: { msgtype: 'm.text', body: 'forged' } }, id);
    t.equal(summary(r), 'redacted', `v${id}`);
    if (!r.accepted) continue;
    t.same(r.pdu, redactEvent(pdu, v(id)), `v${id} redacted form`);
    t.equal(r.eventId, computeEventId(pdu, v(id)), 'the id is unchanged');
    t.match(r.redactedReason, /content hash/);
  }
  // A copy redacted by the sender passes the signatures and is kept redacted.
  t.equal(summary(await check(redactEvent(message('11'), v('11')), '11')), 'redacted');
});

void t.test('format failures are dropped before any key is looked up', async (t) => {
  const keys = KEYS();
  const r = await check({ ...message('11'), depth: -1 }, '11', keys);
  t.equal(summary(r), 'format:bad_field');
  t.match(!r.accepted && r.reason, /depth/);
  t.same(keys.asked, []);
  t.equal(summary(await check('not json', '11')), 'format:not_object');
  t.equal(summary(await check({ ...message('11'), content: { f: 1.5 } }, '11')), 'format:canonical_json');
  t.equal(summary(await check(message('2'), '11')), 'format:bad_field', 'a v2 event in a v11 room');
  t.equal(summary(await check(message('11'), '2')), 'format:missing_field', 'a v11 event in a v2 room');
});

void t.test('signature failures are dropped, naming the server', async (t) => {
  const r = await check({ ...message('11'), signatures: {} }, '11');
  t.equal(summary(r), 'signatures:unsigned');
  t.match(!r.accepted && r.reason, ORIGIN);
  t.ok(!r.accepted && r.eventId, 'the id is known by then');
  t.equal(summary(await check({ ...message('11'), origin_server_ts: 5 }, '11')), 'signatures:bad_signature');
  t.equal(summary(await check(message('11'), '11', keyStore({}))), 'signatures:no_usable_key');
});

void t.test('an event for another room than the one it arrived for is dropped', async (t) => {
  for (const id of ['2', '11', '12']) {
    const roomId = roomIdFor(v(id));
    t.equal(summary(await check(message(id), id, KEYS(), roomId)), 'accepted', `v${id}`);
    t.equal(summary(await check(message(id), id, KEYS(), '!elsewhere:x')), 'format:wrong_room', `v${id}`);
  }
  const create = message('12', {
    type: 'm.room.create',
    state_key: '',
    content: {},
    room_id: undefined,
    prev_events: [],
    auth_events: [],
  });
  const createRoomId = '!' + computeEventId(create, v('12')).slice(1);
  t.equal(
    summary(await check(create, '12', KEYS(), createRoomId)),
    'accepted',
    'a v12 create names its room',
  );
  t.equal(summary(await check(create, '12', KEYS(), roomIdFor(v('12')))), 'format:wrong_room');
});

void t.test('a lookup that throws aborts the check without a verdict', async (t) => {
  const failing = { getVerifyKey: () => Promise.reject(new Error('key server down')) };
  await t.rejects(check(message('11'), '11', failing), /key server down/);
});
