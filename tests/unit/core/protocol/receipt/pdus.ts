/** Signed PDUs of every room version for the receipt-check tests, built by the real event builder. */
import { decodeBase64, encodeBase64, encodeBase64Url } from '../../../../../core/protocol/base64.js';
import { buildEvent, type EventDraft } from '../../../../../core/protocol/event-builder.js';
import type { EventReference, PduJson } from '../../../../../core/protocol/pdu.js';
import type { ServerVerifyKey, VerifyKeyLookup } from '../../../../../core/protocol/pdu-signatures.js';
import { getRoomVersion, type RoomVersion } from '../../../../../core/protocol/room-versions.js';
import { signingKeyFromSeed, type SigningKey } from '../../../../../core/protocol/signing-key.js';
import { signEvent } from '../../../../../core/protocol/signing.js';

export const v = (id: string): RoomVersion => getRoomVersion(id)!;
export const ALL = ['1', '2', '3', '4', '5', '6', '7', '8', '9', '10', '11', '12'];

// The spec's test key (appendices "Cryptographic Test Vectors") and a second server's key.
export const ORIGIN = 'origin.test';
export const ORIGIN_KEY = signingKeyFromSeed(
  '1',
  decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1')!,
);
export const OTHER = 'other.test';
export const OTHER_KEY = signingKeyFromSeed('2', new Uint8Array(32).fill(7));
export const TS = 1_700_000_000_000;

/** An event id of the right form for `rv`, pointing nowhere. */
export function someEventId(rv: RoomVersion, n = 0): string {
  const hash = new Uint8Array(32).fill(n);
  if (rv.eventIdFormat === 'v1') return `$e${n}:${ORIGIN}`;
  return '$' + (rv.eventIdFormat === 'v3' ? encodeBase64(hash) : encodeBase64Url(hash));
}

export function someRef(rv: RoomVersion, n = 0): EventReference {
  const id = someEventId(rv, n);
  return rv.eventReferencesAreTuples ? [id, { sha256: encodeBase64(new Uint8Array(32).fill(n)) }] : id;
}

export function roomIdFor(rv: RoomVersion): string {
  return rv.roomIdIsCreateEventHash ? '!' + encodeBase64Url(new Uint8Array(32).fill(9)) : `!room:${ORIGIN}`;
}

/** A signed message (or `overrides`) in a room of version `id`, sent by @alice:origin.test. */
export function message(
  id: string,
  overrides: Partial<EventDraft> = {},
  key: SigningKey = ORIGIN_KEY,
  server = ORIGIN,
): PduJson {
  const rv = v(id);
  return buildEvent({
    roomVersion: rv,
    serverName: server,
    key,
    partial: {
      room_id: roomIdFor(rv),
      sender: `@alice:${ORIGIN}`,
      type: 'm.room.message',
      content: { msgtype: 'm.text', body: 'hello' },
      prev_events: [someRef(rv, 1)],
      auth_events: [someRef(rv, 2), someRef(rv, 3)],
      depth: 5,
      origin_server_ts: TS,
      ...overrides,
    },
  }).pdu;
}

/** `pdu` with one more signature, from `server`. */
export function alsoSignedBy(pdu: PduJson, id: string, server: string, key: SigningKey): PduJson {
  return signEvent(pdu, v(id), server, key);
}

/** A key lookup over fixed keys; records what was asked. */
export function keyStore(
  keys: Record<string, Record<string, Partial<ServerVerifyKey> & { key: SigningKey }>>,
): VerifyKeyLookup & { asked: [string, string, number][] } {
  const asked: [string, string, number][] = [];
  return {
    asked,
    getVerifyKey(server, keyId, minimum) {
      asked.push([server, keyId, minimum]);
      const k = keys[server]?.[keyId];
      return k
        ? { publicKey: k.key.publicKey, validUntilTs: k.validUntilTs ?? Number.MAX_SAFE_INTEGER }
        : undefined;
    },
  };
}

/** Both test servers' keys, valid for ever. */
export const KEYS = (): ReturnType<typeof keyStore> =>
  keyStore({
    [ORIGIN]: { [ORIGIN_KEY.keyId]: { key: ORIGIN_KEY } },
    [OTHER]: { [OTHER_KEY.keyId]: { key: OTHER_KEY } },
  });
