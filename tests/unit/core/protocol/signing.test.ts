import t from 'tap';
import { decodeBase64 } from '../../../../core/protocol/base64.js';
import { CanonicalJsonError } from '../../../../core/protocol/canonical-json.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { getRoomVersion } from '../../../../core/protocol/room-versions.js';
import { signingKeyFromSeed } from '../../../../core/protocol/signing-key.js';
import {
  hashAndSignEvent,
  serversRequiredToSign,
  signEvent,
  signJson,
  verifyEventSignature,
  verifyJsonSignature,
} from '../../../../core/protocol/signing.js';

// Spec appendices "Cryptographic Test Vectors".
const KEY = signingKeyFromSeed('1', decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1')!);
const v = (id: string) => getRoomVersion(id)!;

void t.test('spec vector: signing an empty object', async (t) => {
  t.same(signJson({}, 'domain', KEY), {
    signatures: {
      domain: {
        'ed25519:1': 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ',
      },
    },
  });
});

void t.test('spec vector: signing an object with data', async (t) => {
  t.same(signJson({ one: 1, two: 'Two' }, 'domain', KEY), {
    one: 1,
    signatures: {
      domain: {
        'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
      },
    },
    two: 'Two',
  });
});

void t.test('signJson ignores and keeps unsigned and existing signatures, and does not mutate', async (t) => {
  const input = {
    one: 1,
    two: 'Two',
    unsigned: { age_ts: 5 },
    signatures: { other: { 'ed25519:x': 'abc' } },
  };
  const signed = signJson(input, 'domain', KEY);
  t.same(signed, {
    one: 1,
    two: 'Two',
    unsigned: { age_ts: 5 },
    signatures: {
      other: { 'ed25519:x': 'abc' },
      domain: {
        'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw',
      },
    },
  });
  t.same(input.signatures, { other: { 'ed25519:x': 'abc' } });
});

void t.test('verifyJsonSignature accepts a good signature, ignoring unsigned', async (t) => {
  const signed = { ...signJson({ one: 1, two: 'Two' }, 'domain', KEY), unsigned: { added: 'later' } };
  t.ok(verifyJsonSignature(signed, 'domain', 'ed25519:1', KEY.publicKey));
});

void t.test('verifyJsonSignature rejects tampering, wrong keys and malformed signatures', async (t) => {
  const signed = signJson({ one: 1, two: 'Two' }, 'domain', KEY);
  const other = signingKeyFromSeed('2', new Uint8Array(32).fill(7));
  t.notOk(verifyJsonSignature({ ...signed, one: 2 }, 'domain', 'ed25519:1', KEY.publicKey), 'tampered');
  t.notOk(verifyJsonSignature(signed, 'domain', 'ed25519:1', other.publicKey), 'other key');
  t.notOk(verifyJsonSignature(signed, 'elsewhere', 'ed25519:1', KEY.publicKey), 'no signature by server');
  t.notOk(verifyJsonSignature(signed, 'domain', 'ed25519:2', KEY.publicKey), 'no signature with key id');
  t.notOk(verifyJsonSignature(signed, 'domain', 'curve25519:1', KEY.publicKey), 'unknown algorithm');
  t.notOk(verifyJsonSignature(signed, 'domain', 'ed25519:1', KEY.publicKey.slice(1)), 'short public key');
  const withSig = (sig: unknown) => ({ ...signed, signatures: { domain: { 'ed25519:1': sig } } });
  t.notOk(verifyJsonSignature(withSig('not base64!'), 'domain', 'ed25519:1', KEY.publicKey), 'bad base64');
  t.notOk(verifyJsonSignature(withSig('AAAA'), 'domain', 'ed25519:1', KEY.publicKey), 'wrong length');
  t.notOk(verifyJsonSignature(withSig(42), 'domain', 'ed25519:1', KEY.publicKey), 'not a string');
  t.notOk(
    verifyJsonSignature({ ...signed, signatures: 'x' }, 'domain', 'ed25519:1', KEY.publicKey),
    'bad signatures',
  );
});

void t.test('signJson strictness is opt-in; strict signing rejects floats', async (t) => {
  t.ok(signJson({ n: 1.5 }, 'domain', KEY).signatures['domain']?.['ed25519:1']);
  t.throws(() => signJson({ n: 1.5 }, 'domain', KEY, { strict: true }), CanonicalJsonError);
});

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

const SIGNED_MINIMAL_EVENT = {
  auth_events: [],
  content: {},
  depth: 3,
  hashes: { sha256: '5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos' },
  origin: 'domain',
  origin_server_ts: 1000000,
  prev_events: [],
  room_id: '!x:domain',
  sender: '@a:domain',
  signatures: {
    domain: {
      'ed25519:1': 'KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg',
    },
  },
  type: 'X',
  unsigned: { age_ts: 1000000 },
};

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

const SIGNED_MESSAGE_EVENT = {
  content: { body: 'Here is the message content' },
  event_id: '$0:domain',
  hashes: { sha256: 'onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g' },
  origin: 'domain',
  origin_server_ts: 1000000,
  type: 'm.room.message',
  room_id: '!r:domain',
  sender: '@u:domain',
  signatures: {
    domain: {
      'ed25519:1': 'Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA',
    },
  },
  unsigned: { age_ts: 1000000 },
};

// The vectors keep top-level `origin`, protected until room version 11, so they hold for versions 1–10.
void t.test('spec vector: signing a minimal event', async (t) => {
  for (const id of ['1', '3', '6', '10'])
    t.same(hashAndSignEvent(MINIMAL_EVENT, v(id), 'domain', KEY), SIGNED_MINIMAL_EVENT, id);
});

void t.test('spec vector: signing an event with redactable content', async (t) => {
  t.same(hashAndSignEvent(MESSAGE_EVENT, v('1'), 'domain', KEY), SIGNED_MESSAGE_EVENT);
});

void t.test('the spec vector events verify, and still verify once redacted', async (t) => {
  const full = SIGNED_MESSAGE_EVENT as unknown as PduJson;
  t.ok(verifyEventSignature(full, v('1'), 'domain', 'ed25519:1', KEY.publicKey));
  const redacted = { ...full, content: {} } as PduJson;
  t.ok(verifyEventSignature(redacted, v('1'), 'domain', 'ed25519:1', KEY.publicKey));
  t.ok(verifyEventSignature(SIGNED_MINIMAL_EVENT, v('1'), 'domain', 'ed25519:1', KEY.publicKey));
});

void t.test('verifyEventSignature fails when a protected field changes', async (t) => {
  const full = SIGNED_MESSAGE_EVENT as unknown as PduJson;
  t.notOk(
    verifyEventSignature({ ...full, sender: '@v:domain' }, v('1'), 'domain', 'ed25519:1', KEY.publicKey),
  );
  t.notOk(
    verifyEventSignature({ ...full, hashes: { sha256: 'x' } }, v('1'), 'domain', 'ed25519:1', KEY.publicKey),
    'hashes are covered',
  );
});

void t.test('v11 signatures do not cover origin', async (t) => {
  const signed = hashAndSignEvent(MINIMAL_EVENT, v('11'), 'domain', KEY);
  t.not(signed.signatures['domain']?.['ed25519:1'], SIGNED_MINIMAL_EVENT.signatures.domain['ed25519:1']);
  t.ok(
    verifyEventSignature({ ...signed, origin: 'elsewhere' }, v('11'), 'domain', 'ed25519:1', KEY.publicKey),
  );
  t.notOk(
    verifyEventSignature({ ...signed, origin: 'elsewhere' }, v('10'), 'domain', 'ed25519:1', KEY.publicKey),
  );
});

void t.test('signEvent keeps an existing hash and adds to existing signatures', async (t) => {
  const signed = signEvent(
    { ...MINIMAL_EVENT, hashes: { sha256: 'given' }, signatures: { other: { 'ed25519:z': 'sig' } } },
    v('1'),
    'domain',
    KEY,
  );
  t.same(signed.hashes, { sha256: 'given' });
  t.same(Object.keys(signed.signatures).sort(), ['domain', 'other']);
  t.same(MINIMAL_EVENT.signatures, {}, 'input untouched');
});

void t.test('event signing follows the room version canonical JSON strictness', async (t) => {
  const floaty = { ...MINIMAL_EVENT, content: { n: 0.5 } } as PduJson;
  t.ok(hashAndSignEvent(floaty, v('5'), 'domain', KEY).hashes.sha256);
  t.throws(() => hashAndSignEvent(floaty, v('6'), 'domain', KEY), CanonicalJsonError);
});

const base = (over: Record<string, unknown>) =>
  ({ ...MINIMAL_EVENT, sender: '@a:one.org', ...over }) as unknown as PduJson;

void t.test('serversRequiredToSign: the sender server for v3+', async (t) => {
  t.same(serversRequiredToSign(base({}), v('3')), ['one.org']);
  t.same(serversRequiredToSign(base({ event_id: '$e:two.org' }), v('12')), ['one.org']);
});

void t.test('serversRequiredToSign: v1–2 add the event_id server when different', async (t) => {
  t.same(serversRequiredToSign(base({ event_id: '$e:two.org' }), v('1')), ['one.org', 'two.org']);
  t.same(serversRequiredToSign(base({ event_id: '$e:one.org' }), v('2')), ['one.org']);
});

void t.test('serversRequiredToSign: third-party invites do not need the sender server', async (t) => {
  const invite = base({
    type: 'm.room.member',
    state_key: '@b:three.org',
    content: { membership: 'invite', third_party_invite: { signed: {} } },
  });
  t.same(serversRequiredToSign(invite, v('11')), []);
  // Any third_party_invite value marks it (as Synapse reads it): a redacted v11 invite keeps `{}`.
  const redacted = base({ ...invite, content: { membership: 'invite', third_party_invite: {} } });
  t.same(serversRequiredToSign(redacted, v('11')), []);
});

void t.test('serversRequiredToSign: v8+ member events need the authorising server', async (t) => {
  const join = base({
    type: 'm.room.member',
    state_key: '@a:one.org',
    content: { membership: 'join', join_authorised_via_users_server: '@mod:two.org' },
  });
  t.same(serversRequiredToSign(join, v('8')), ['one.org', 'two.org']);
  t.same(serversRequiredToSign(join, v('7')), ['one.org']);
  // Other memberships carrying the key are not dropped for it (Synapse); the auth rules judge them.
  const leave = base({
    type: 'm.room.member',
    state_key: '@a:one.org',
    content: { membership: 'leave', join_authorised_via_users_server: '@mod:two.org' },
  });
  t.same(serversRequiredToSign(leave, v('10')), ['one.org']);
  t.same(
    serversRequiredToSign(base({ content: { join_authorised_via_users_server: '@mod:two.org' } }), v('9')),
    ['one.org'],
  );
});
