/**
 * Inbound transactions (`PUT /_matrix/federation/v1/send/{txnId}`, server-server-api "Transactions"): at
 * most 50 PDUs and 100 EDUs; each PDU through the rooms receive pipeline (rooms' `receivePdu`, with the
 * key ring as the signature key source), the rooms of a transaction in parallel and the PDUs of one room in
 * order, so one slow room does not hold up the others; each EDU to the handler registered for its type
 * (unknown types ignored). Answered once per (origin, txn id): a retry gets the stored answer, and
 * concurrent copies share one run.
 */
import type { Logger } from 'pino';
import { MatrixError } from '../../../core/errors.js';
import type { VerifyKeyLookup } from '../../../core/protocol/pdu-signatures.js';
import type { ReceiveResult, RemoteEventSource, RoomsFederationApi } from '../../rooms/api.js';
import type { KeyRing } from '../api.js';
import type { InboundTxnStore } from '../store/inbound-txn-store.js';
import type { HandlerRegistry } from './handler-registry.js';
import { isServerAllowedByAcl } from './server-acl.js';

export const MAX_PDUS = 50;
export const MAX_EDUS = 100;
/**
 * How long the answer to a transaction is kept for retries, and how often old ones are pruned (Synapse:
 * a day, checked every 30 minutes). A sender retries a transaction within minutes, not days.
 */
export const TXN_RETENTION_MS = 24 * 60 * 60 * 1000;
const PRUNE_INTERVAL_MS = 30 * 60 * 1000;

/** The answer: `{pdus: {event_id: {} | {error}}}`. */
export interface TransactionResponse {
  readonly pdus: Record<string, { readonly error?: string }>;
}

export interface TransactionReceiverDeps {
  readonly store: InboundTxnStore;
  readonly keyRing: KeyRing;
  readonly handlers: HandlerRegistry;
  /** Rooms' federation API, or undefined when the rooms module is disabled. */
  readonly rooms: () => RoomsFederationApi | undefined;
  /** The room's current `m.room.server_acl` content, if any. */
  readonly serverAcl: (roomId: string) => Promise<unknown>;
  /** Where the pipeline fetches what a PDU references and we lack: the origin's room reads. */
  readonly remoteOf: (origin: string) => RemoteEventSource;
  readonly logger: Logger;
}

export class TransactionReceiver {
  private readonly inFlight = new Map<string, Promise<TransactionResponse>>();
  private lastPruned = 0;
  /** Signature keys for the receive pipeline: the key ring. */
  readonly keys: VerifyKeyLookup;

  constructor(private readonly deps: TransactionReceiverDeps) {
    this.keys = {
      getVerifyKey: (server, keyId, minimumValidUntilTs) =>
        deps.keyRing.getKey(server, keyId, minimumValidUntilTs || undefined),
    };
  }

  /** Validates and processes one transaction (400 M_BAD_JSON for a malformed body). */
  async receive(origin: string, txnId: string, body: unknown): Promise<TransactionResponse> {
    const { pdus, edus } = parseTransaction(body);
    const key = `${origin}\u0000${txnId}`;
    const running = this.inFlight.get(key);
    if (running) return running;
    const run = this.run(origin, txnId, pdus, edus);
    this.inFlight.set(key, run);
    try {
      return await run;
    } finally {
      this.inFlight.delete(key);
    }
  }

  private async run(
    origin: string,
    txnId: string,
    pdus: readonly unknown[],
    edus: readonly Edu[],
  ): Promise<TransactionResponse> {
    const previous = await this.deps.store.get(origin, txnId);
    if (previous !== undefined) return previous as TransactionResponse;

    const results: Record<string, { error?: string }> = {};
    const byRoom = new Map<string, unknown[]>();
    for (const pdu of pdus) {
      const roomId = roomIdOf(pdu);
      if (roomId === undefined) continue; // not an event of any room: no id to answer under
      const list = byRoom.get(roomId) ?? [];
      list.push(pdu);
      byRoom.set(roomId, list);
    }
    await Promise.all(
      [...byRoom].map(async ([roomId, roomPdus]) => {
        const denied = await this.deniedByAcl(origin, roomId);
        for (const outcome of await this.receiveRoomPdus(origin, roomId, roomPdus, denied)) {
          if (outcome.eventId !== undefined) results[outcome.eventId] = outcome.result;
        }
      }),
    );
    for (const edu of edus) await this.dispatchEdu(origin, edu);

    const response: TransactionResponse = { pdus: results };
    await this.deps.store.put(origin, txnId, response);
    await this.pruneWhenDue();
    return response;
  }

  /**
   * Forgets answers older than TXN_RETENTION_MS, at most every PRUNE_INTERVAL_MS, on the way out of a
   * transaction (no timer to stop; a server receiving nothing has nothing new to prune).
   */
  async pruneWhenDue(now = Date.now()): Promise<void> {
    if (now - this.lastPruned < PRUNE_INTERVAL_MS) return;
    this.lastPruned = now;
    try {
      await this.deps.store.deleteReceivedBefore(now - TXN_RETENTION_MS);
    } catch (err) {
      this.deps.logger.warn({ err }, 'old inbound transactions could not be pruned');
    }
  }

  /**
   * Why the room's server ACL keeps `origin`'s PDUs out, if it does (read once per room and transaction;
   * an ACL that cannot be read keeps them out too, as a transient error).
   */
  private async deniedByAcl(origin: string, roomId: string): Promise<string | undefined> {
    if (!this.deps.rooms()) return undefined;
    try {
      const acl = await this.deps.serverAcl(roomId);
      return acl !== undefined && !isServerAllowedByAcl(origin, acl)
        ? `${origin} is denied by the room's server ACL`
        : undefined;
    } catch (err) {
      this.deps.logger.warn({ err, roomId }, 'the server ACL of a room could not be read');
      return 'the event could not be processed, try again later';
    }
  }

  /** One room's PDUs, in order, through rooms' pipeline in one call (committed together where it can). */
  private async receiveRoomPdus(
    origin: string,
    roomId: string,
    pdus: readonly unknown[],
    deniedByAcl: string | undefined,
  ): Promise<{ eventId?: string; result: { error?: string } }[]> {
    const rooms = this.deps.rooms();
    if (!rooms) return [];
    const idOf = (pdu: unknown): Promise<string | undefined> => rooms.eventIdOf(pdu).catch(() => undefined);
    if (deniedByAcl !== undefined) {
      return Promise.all(
        pdus.map(async (pdu) => ({ eventId: await idOf(pdu), result: { error: deniedByAcl } })),
      );
    }
    let results: ReceiveResult[];
    try {
      results = await rooms.receivePdus(
        pdus.map((pdu) => ({ pdu, keys: this.keys, origin, remote: this.deps.remoteOf(origin) })),
      );
    } catch (err) {
      results = pdus.map(() => ({ error: err }));
    }
    return Promise.all(
      results.map(async (r, i) => {
        if ('outcome' in r) {
          const { outcome } = r;
          if (outcome.status === 'refused')
            return { eventId: outcome.eventId, result: { error: outcome.reason } };
          return { eventId: outcome.eventId, result: {} };
        }
        this.deps.logger.warn({ err: r.error, origin, roomId }, 'an inbound PDU could not be processed');
        return {
          eventId: await idOf(pdus[i]),
          result: { error: 'the event could not be processed, try again later' },
        };
      }),
    );
  }

  private async dispatchEdu(origin: string, edu: Edu): Promise<void> {
    const handler = this.deps.handlers.eduHandler(edu.edu_type);
    if (!handler) return;
    try {
      await handler({ origin, content: edu.content });
    } catch (err) {
      this.deps.logger.warn({ err, origin, eduType: edu.edu_type }, 'an EDU handler failed');
    }
  }
}

interface Edu {
  readonly edu_type: string;
  readonly content: unknown;
}

function roomIdOf(pdu: unknown): string | undefined {
  if (typeof pdu !== 'object' || pdu === null || Array.isArray(pdu)) return undefined;
  const roomId = (pdu as { room_id?: unknown }).room_id;
  return typeof roomId === 'string' ? roomId : undefined;
}

function badJson(message: string): MatrixError {
  return new MatrixError(400, 'M_BAD_JSON', message);
}

/** The transaction body's shape (server-server-api `Transaction`), or 400 M_BAD_JSON. */
function parseTransaction(body: unknown): { pdus: unknown[]; edus: Edu[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badJson('The transaction must be a JSON object');
  }
  const t = body as Record<string, unknown>;
  if (t['origin'] !== undefined && typeof t['origin'] !== 'string') throw badJson('origin must be a string');
  if (t['origin_server_ts'] !== undefined && typeof t['origin_server_ts'] !== 'number') {
    throw badJson('origin_server_ts must be an integer');
  }
  const pdus = t['pdus'];
  if (!Array.isArray(pdus)) throw badJson('pdus must be an array');
  if (pdus.length > MAX_PDUS) throw badJson(`a transaction holds at most ${MAX_PDUS} PDUs`);
  const rawEdus = t['edus'] ?? [];
  if (!Array.isArray(rawEdus)) throw badJson('edus must be an array');
  if (rawEdus.length > MAX_EDUS) throw badJson(`a transaction holds at most ${MAX_EDUS} EDUs`);
  const edus: Edu[] = [];
  for (const e of rawEdus) {
    if (typeof e !== 'object' || e === null || Array.isArray(e)) throw badJson('an EDU must be an object');
    const type = (e as Record<string, unknown>)['edu_type'];
    if (typeof type !== 'string') throw badJson('an EDU needs an edu_type');
    edus.push({ edu_type: type, content: (e as Record<string, unknown>)['content'] });
  }
  return { pdus, edus };
}
