/**
 * For the outbound tests: a remote server's user joins a room of A through make_join + send_join driven
 * from the test (signed with the remote server's real key; joining remote rooms is built elsewhere), and a
 * recorder of the transactions a real Axon server receives on its `/send` endpoint — after TLS and the
 * X-Matrix check, before its receiver (which answers per-PDU errors: it does not know A's room).
 */
import { computeEventId } from '../../../../core/protocol/event-id.js';
import type { PduJson } from '../../../../core/protocol/pdu.js';
import { getRoomVersion, ROOM_VERSIONS } from '../../../../core/protocol/room-versions.js';
import { hashAndSignEvent } from '../../../../core/protocol/signing.js';
import type { FederatedServer } from './test-federation.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** `userId` of `remote` joins `roomId` at `host` (make_join → sign → send_join v2); returns the join id. */
export async function joinFrom(
  remote: FederatedServer,
  host: { readonly serverName: string },
  roomId: string,
  userId: string,
): Promise<string> {
  const client = remote.kernel.container.cradle.federationClient;
  const enc = encodeURIComponent;
  const template = (await client.request({
    method: 'GET',
    destination: host.serverName,
    path: `/_matrix/federation/v1/make_join/${enc(roomId)}/${enc(userId)}`,
    query: { ver: [...ROOM_VERSIONS.keys()] },
  })) as Json;
  const version = getRoomVersion(template.room_version as string)!;
  const signed = hashAndSignEvent(
    { ...(template.event as PduJson), origin_server_ts: Date.now() },
    version,
    remote.serverName,
    remote.signingKey,
  );
  const eventId = version.eventIdFormat === 'v1' ? signed.event_id! : computeEventId(signed, version);
  await client.request({
    method: 'PUT',
    destination: host.serverName,
    path: `/_matrix/federation/v2/send_join/${enc(roomId)}/${enc(eventId)}`,
    body: signed,
  });
  return eventId;
}

export interface ReceivedTxn {
  readonly origin: string;
  readonly txnId: string;
  readonly pdus: PduJson[];
  readonly edus: { edu_type: string; content: Json }[];
}

export interface TxnRecorder {
  readonly txns: ReceivedTxn[];
  /** Runs before the receiver for each transaction: may delay, or throw a MatrixError to answer with it. */
  before: ((txn: ReceivedTxn) => Promise<void>) | undefined;
  /** Resolves once `predicate` holds over the transactions received (rejects after `timeoutMs`). */
  waitFor(predicate: (txns: ReceivedTxn[]) => boolean, timeoutMs?: number): Promise<void>;
  /** The `body` of every m.room.message PDU received, in arrival order. */
  bodies(): string[];
}

export function recordTransactions(server: FederatedServer): TxnRecorder {
  const receiver = server.kernel.container.cradle.federationTransactions;
  const original = receiver.receive.bind(receiver);
  const waiters = new Set<() => void>();
  const recorder: TxnRecorder = {
    txns: [],
    before: undefined,
    waitFor(predicate, timeoutMs = 15_000) {
      if (predicate(recorder.txns)) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(recorder.txns)) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`not received in ${timeoutMs} ms: ${JSON.stringify(recorder.bodies())}`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
    bodies: () =>
      recorder.txns.flatMap((txn) =>
        txn.pdus.filter((p) => p.type === 'm.room.message').map((p) => p.content['body'] as string),
      ),
  };
  receiver.receive = async (origin, txnId, body) => {
    const b = body as { pdus?: PduJson[]; edus?: ReceivedTxn['edus'] };
    const txn: ReceivedTxn = { origin, txnId, pdus: b.pdus ?? [], edus: b.edus ?? [] };
    recorder.txns.push(txn);
    for (const check of [...waiters]) check();
    if (recorder.before) await recorder.before(txn);
    return original(origin, txnId, body);
  };
  return recorder;
}

/** Messages 0..n-1 with bodies `${prefix}${i}`, sent one after another by `token` into `roomId`. */
export async function sendMessages(
  server: FederatedServer,
  token: string,
  roomId: string,
  prefix: string,
  n: number,
): Promise<string[]> {
  const bodies: string[] = [];
  for (let i = 0; i < n; i++) {
    const body = `${prefix}${i}`;
    const res = await server.request(
      'PUT',
      `/_matrix/client/v3/rooms/${encodeURIComponent(roomId)}/send/m.room.message/${prefix}-${i}`,
      { token, body: { msgtype: 'm.text', body } },
    );
    if (res.status !== 200) throw new Error(`send failed: ${res.status} ${res.text}`);
    bodies.push(body);
  }
  return bodies;
}

/** Polls `check` (every 20 ms, up to `timeoutMs`) for a state no event announces (a row A deletes). */
export async function eventually(check: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
