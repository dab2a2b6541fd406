/**
 * The shapes of persistent data units (room events as servers exchange them), spec
 * content/server-server-api.md "PDUs" and content/rooms/fragments/*-event-format.md.
 * Pure types: no behaviour lives here.
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** `{ server_name: { "ed25519:key_id": "base64 signature" } }` */
export type Signatures = Record<string, Record<string, string>>;

/** An event reference: a plain id (v3+) or `[id, { sha256 }]` (v1–v2). */
export type EventReference = string | [string, { sha256: string }];

/** A PDU as JSON. Version-specific fields are optional; `room_id` is absent on a v12 create event. */
export interface PduJson {
  event_id?: string; // present only in v1–v2 events
  room_id?: string;
  sender: string;
  type: string;
  state_key?: string;
  content: JsonObject;
  origin_server_ts: number;
  /** A number; in a v1–5 event read with `parseJsonLossless`, a bigint when beyond 2^53 - 1. */
  depth: number;
  prev_events: EventReference[];
  auth_events: EventReference[];
  hashes: { sha256: string } & Record<string, string>;
  signatures: Signatures;
  unsigned?: JsonObject;
  redacts?: string; // top level until v11
  origin?: string; // dropped by v11 redaction
  membership?: string; // legacy top-level field
  prev_state?: EventReference[]; // legacy
  [extra: string]: unknown;
}

/** A PDU with the facts a server derives from it: its id and its version's rules. */
export interface RoomEvent {
  readonly eventId: string;
  readonly roomVersion: string;
  readonly pdu: Readonly<PduJson>;
}

/** `type` + `state_key`, the key of a room's state map. */
export type StateKey = `${string}\u0000${string}`;

export function stateKey(type: string, key: string): StateKey {
  return `${type}\u0000${key}`;
}

export function splitStateKey(k: StateKey): [type: string, stateKey: string] {
  const i = k.indexOf('\u0000');
  return [k.slice(0, i), k.slice(i + 1)];
}

/** Room state: (type, state_key) → event id. */
export type StateMap = ReadonlyMap<StateKey, string>;
