/**
 * The shapes the auth rules work on. Event ids are supplied by the caller (they are derived from the
 * PDU by the room version's event id algorithm, which lives elsewhere), so every rule is a pure
 * function of PDUs plus ids.
 */
import type { PduJson } from '../pdu.js';

/** A PDU together with its event id. `rejected` marks events that failed auth on receipt. */
export interface AuthEvent {
  readonly eventId: string;
  readonly pdu: Readonly<PduJson>;
  readonly rejected?: boolean;
}

/** Looks up the state event for `(type, stateKey)` in whichever state the check runs against. */
export type AuthStateLookup = (type: string, stateKey: string) => AuthEvent | undefined;

export type AuthResult = { readonly allowed: true } | AuthRejection;

export interface AuthRejection {
  readonly allowed: false;
  /** A stable identifier of the rule that failed, e.g. `member.join.banned`. */
  readonly rule: string;
  /** Human-readable: which rule, and for power failures the level needed vs the level held. */
  readonly reason: string;
}

/** Checks that need cryptography are injected, so this code stays free of the signing helpers. */
export interface AuthCheckOptions {
  /**
   * Verifies that `signed` (a third-party invite's `signed` object) carries a valid signature from
   * `server` made with the ed25519 `publicKey` (unpadded base64, as published in
   * `m.room.third_party_invite`). Without it, third-party invites are rejected.
   */
  readonly verifySignature?: (
    signed: Readonly<Record<string, unknown>>,
    server: string,
    publicKey: string,
  ) => boolean;
  /**
   * Whether the event is validly signed by `serverName` (for `join_authorised_via_users_server`, v8+).
   * Without it, no event counts as signed: a member event naming an authoriser is rejected. Events this
   * server built are signed by it; events that passed `checkPduOnReceipt` had every required signature
   * (the authoriser's server's included) verified, so `signedByVerifiedServers` answers for them.
   */
  readonly isSignedBy?: (event: AuthEvent, serverName: string) => boolean;
}

export const ALLOWED: AuthResult = Object.freeze({ allowed: true });

export function reject(rule: string, reason: string): AuthRejection {
  return { allowed: false, rule, reason };
}
