import t from 'tap';
import { encodeBase64 } from '../../../../../core/protocol/base64.js';
import type { PduJson } from '../../../../../core/protocol/pdu.js';
import {
  keyRequestsFor,
  signedByVerifiedServers,
  verifyPduSignatures,
  verifyThirdPartyInviteSignature,
} from '../../../../../core/protocol/pdu-signatures.js';
import { redactEvent } from '../../../../../core/protocol/redaction.js';
import { signJson } from '../../../../../core/protocol/signing.js';
import {
  ALL,
  alsoSignedBy,
  KEYS,
  keyStore,
  message,
  ORIGIN,
  ORIGIN_KEY,
  OTHER,
  OTHER_KEY,
  TS,
  v,
} from './pdus.js';

const result = async (pdu: PduJson, id: string, keys = KEYS()) => {
  const r = await verifyPduSignatures(pdu, v(id), keys);
  return r.ok ? `ok ${r.servers.join(',')}` : `${r.code} ${r.server}`;
};

void t.test('an event signed by the sender’s server verifies, full or redacted', async (t) => {
  for (const id of ALL) {
    const pdu = message(id);
    t.equal(await result(pdu, id), `ok ${ORIGIN}`, `v${id}`);
    t.equal(await result(redactEvent(pdu, v(id)), id), `ok ${ORIGIN}`, `v${id} redacted copy`);
  }
});

void t.test('no signature from the sender’s server, or none in ed25519: dropped as unsigned', async (t) => {
  const pdu = message('11');
  t.equal(await result({ ...pdu, signatures: {} }, '11'), `unsigned ${ORIGIN}`);
  t.equal(await result({ ...pdu, signatures: { [ORIGIN]: { 'curve:1': 'x' } } }, '11'), `unsigned ${ORIGIN}`);
  const otherOnly = { ...pdu, signatures: {} } as PduJson;
  t.equal(await result(alsoSignedBy(otherOnly, '11', OTHER, OTHER_KEY), '11'), `unsigned ${ORIGIN}`);
});

void t.test('a signature that does not verify with a known key: bad_signature', async (t) => {
  const pdu = message('11');
  t.equal(await result({ ...pdu, origin_server_ts: TS + 1 }, '11'), `bad_signature ${ORIGIN}`, 'tampered');
  const wrongKey = keyStore({ [ORIGIN]: { [ORIGIN_KEY.keyId]: { key: OTHER_KEY } } });
  t.equal(await result(pdu, '11', wrongKey), `bad_signature ${ORIGIN}`);
  // Content outside the redacted form is covered by the hash, not the signature.
  t.equal(await result({ ...pdu, content: { body: 'changed' } }, '11'), `ok ${ORIGIN}`);
});

void t.test('unknown keys are skipped; with no known key the event is dropped', async (t) => {
  const pdu = message('11');
  t.equal(await result(pdu, '11', keyStore({})), `no_usable_key ${ORIGIN}`);
  const extra = { ...pdu, signatures: { [ORIGIN]: { ...pdu.signatures[ORIGIN], 'ed25519:gone': 'AAAA' } } };
  t.equal(await result(extra, '11'), `ok ${ORIGIN}`, 'an unknown key beside a good one');
  const bothKnown = keyStore({
    [ORIGIN]: { [ORIGIN_KEY.keyId]: { key: ORIGIN_KEY }, 'ed25519:gone': { key: OTHER_KEY } },
  });
  t.equal(await result(extra, '11', bothKnown), `bad_signature ${ORIGIN}`, 'every known key must verify');
});

void t.test(
  'v5+: the key must be valid at origin_server_ts (enforceKeyValidity); v1–4 do not ask',
  async (t) => {
    for (const id of ALL) {
      const pdu = message(id);
      const expired = keyStore({
        [ORIGIN]: { [ORIGIN_KEY.keyId]: { key: ORIGIN_KEY, validUntilTs: TS - 1 } },
      });
      const want = v(id).enforceKeyValidity ? `no_usable_key ${ORIGIN}` : `ok ${ORIGIN}`;
      t.equal(await result(pdu, id, expired), want, `v${id} key expired before the event`);
      t.same(expired.asked, [[ORIGIN, ORIGIN_KEY.keyId, v(id).enforceKeyValidity ? TS : 0]], `v${id} asks`);
      const exact = keyStore({ [ORIGIN]: { [ORIGIN_KEY.keyId]: { key: ORIGIN_KEY, validUntilTs: TS } } });
      t.equal(await result(pdu, id, exact), `ok ${ORIGIN}`, `v${id} valid until the event's time`);
    }
    t.equal(Number(ALL.find((id) => v(id).enforceKeyValidity)), 5, 'from room version 5');
  },
);

void t.test('v1–2: the server named in event_id must sign too', async (t) => {
  for (const id of ['1', '2']) {
    const fromOther = message(id, {}, OTHER_KEY, OTHER); // sender @alice:origin.test, event id $…:other.test
    t.match(fromOther.event_id, /:other\.test$/);
    t.equal(await result(fromOther, id), `unsigned ${ORIGIN}`, `v${id} the sender's server has not signed`);
    const both = alsoSignedBy(fromOther, id, ORIGIN, ORIGIN_KEY);
    t.equal(await result(both, id), `ok ${ORIGIN},${OTHER}`, `v${id}`);
    t.equal(
      await result({ ...both, signatures: { [ORIGIN]: both.signatures[ORIGIN]! } }, id),
      `unsigned ${OTHER}`,
    );
  }
  // From v3 the event id names no server.
  const v3 = alsoSignedBy(message('3', {}, OTHER_KEY, OTHER), '3', ORIGIN, ORIGIN_KEY);
  t.equal(await result(v3, '3'), `ok ${ORIGIN}`);
});

void t.test(
  'v8+: a member event with join_authorised_via_users_server needs that server’s signature',
  async (t) => {
    const join = (id: string) =>
      message(id, {
        type: 'm.room.member',
        state_key: `@alice:${ORIGIN}`,
        content: { membership: 'join', join_authorised_via_users_server: `@mod:${OTHER}` },
      });
    for (const id of ALL) {
      const pdu = join(id);
      if (!v(id).restrictedJoinRule) {
        t.equal(await result(pdu, id), `ok ${ORIGIN}`, `v${id} the key means nothing`);
        continue;
      }
      t.equal(await result(pdu, id), `unsigned ${OTHER}`, `v${id}`);
      const both = alsoSignedBy(pdu, id, OTHER, OTHER_KEY);
      t.equal(await result(both, id), `ok ${ORIGIN},${OTHER}`, `v${id} signed by both`);
      const isSignedBy = signedByVerifiedServers(v(id));
      t.ok(isSignedBy({ pdu: both }, OTHER));
      t.notOk(isSignedBy({ pdu: both }, 'third.test'));
    }
  },
);

void t.test('v8+: other member events naming an authoriser are not dropped for its signature', async (t) => {
  const leave = message('10', {
    type: 'm.room.member',
    state_key: `@alice:${ORIGIN}`,
    content: { membership: 'leave', join_authorised_via_users_server: `@mod:${OTHER}` },
  });
  t.equal(await result(leave, '10'), `ok ${ORIGIN}`, 'unsigned by the authoriser: kept, for the auth rules');
  const signed = alsoSignedBy(leave, '10', OTHER, OTHER_KEY);
  t.equal(await result(signed, '10'), `ok ${ORIGIN},${OTHER}`, 'a valid authoriser signature is reported');
  const forged = { ...signed, signatures: { ...signed.signatures, [OTHER]: { [OTHER_KEY.keyId]: 'AAAA' } } };
  t.equal(await result(forged, '10'), `ok ${ORIGIN}`, 'an invalid one is not');
  t.notOk(signedByVerifiedServers(v('10'))({ pdu: signed }, OTHER), 'not a required signer');
});

void t.test('third-party invites: the sender’s server need not sign (any server may send it)', async (t) => {
  const invite = message(
    '11',
    {
      type: 'm.room.member',
      state_key: `@bob:${OTHER}`,
      content: {
        membership: 'invite',
        third_party_invite: { display_name: 'b', signed: { mxid: `@bob:${OTHER}`, token: 't' } },
      },
    },
    OTHER_KEY,
    OTHER,
  );
  t.equal(await result(invite, '11'), 'ok ', 'no server is required; the auth rules check `signed`');
  const plain = message(
    '11',
    { type: 'm.room.member', state_key: `@bob:${OTHER}`, content: { membership: 'invite' } },
    OTHER_KEY,
    OTHER,
  );
  t.equal(await result(plain, '11'), `unsigned ${ORIGIN}`);
});

void t.test(
  'keyRequestsFor lists each required server’s ed25519 key ids and the validity needed',
  async (t) => {
    const pdu = alsoSignedBy(message('2', {}, OTHER_KEY, OTHER), '2', ORIGIN, ORIGIN_KEY);
    t.same(keyRequestsFor(pdu, v('2')), [
      { serverName: ORIGIN, keyIds: [ORIGIN_KEY.keyId], minimumValidUntilTs: 0 },
      { serverName: OTHER, keyIds: [OTHER_KEY.keyId], minimumValidUntilTs: 0 },
    ]);
    t.same(keyRequestsFor(message('5'), v('5')), [
      { serverName: ORIGIN, keyIds: [ORIGIN_KEY.keyId], minimumValidUntilTs: TS },
    ]);
  },
);

void t.test('verifyThirdPartyInviteSignature checks `signed` against a published public key', async (t) => {
  const signed = signJson({ mxid: '@bob:x', token: 'tok' }, 'id.test', ORIGIN_KEY);
  const key = encodeBase64(ORIGIN_KEY.publicKey);
  t.ok(verifyThirdPartyInviteSignature(signed, 'id.test', key));
  t.notOk(verifyThirdPartyInviteSignature(signed, 'id.test', encodeBase64(OTHER_KEY.publicKey)), 'other key');
  t.notOk(verifyThirdPartyInviteSignature(signed, 'elsewhere', key), 'other server');
  t.notOk(verifyThirdPartyInviteSignature({ ...signed, mxid: '@eve:x' }, 'id.test', key), 'tampered');
  t.notOk(verifyThirdPartyInviteSignature(signed, 'id.test', '!!'), 'bad base64');
  t.notOk(verifyThirdPartyInviteSignature({ mxid: '@bob:x' }, 'id.test', key), 'no signatures');
});
