/**
 * Read receipts across servers (server-server API "Receipts"): a local user's `m.read` goes out as an
 * `m.receipt` EDU to every other server with a joined member in the room (`m.read.private` never leaves
 * this server); `m.receipt` EDUs from other servers are stored like local receipts and reach /sync.
 * Best effort, as Synapse: the EDUs are volatile (`sendEdu`).
 */
import type { Cradle } from '../../../core/container.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import type { FederationApi } from '../../federation/api.js';
import type { RoomsApi } from '../../rooms/api.js';
import type { ReceiptUpdate } from '../api.js';
import type { ReceiptsService } from './receipts-service.js';

export const RECEIPT_EDU = 'm.receipt';

type Deps = Pick<Cradle, 'serverName' | 'logger'> & {
  federationApi: Pick<FederationApi, 'sendEdu' | 'registerEduHandler'>;
  roomsApi: Pick<RoomsApi, 'members' | 'roomVersion'>;
  receiptsService: ReceiptsService;
};

export class ReceiptsFederation {
  constructor(private readonly deps: Deps) {}

  /** Wires both directions (called in the module's start when federation is enabled). */
  start(): void {
    this.deps.receiptsService.onReceipt(async (update) => {
      if (update.receiptType !== 'm.read' || serverNameOf(update.userId) !== this.deps.serverName) return;
      // Never fails the receipt itself: the EDU is best effort.
      await this.send(update).catch((err: unknown) =>
        this.deps.logger.warn({ err, roomId: update.roomId }, 'a receipt could not be sent to other servers'),
      );
    });
    this.deps.federationApi.registerEduHandler(RECEIPT_EDU, ({ origin, content }) =>
      this.receive(origin, content),
    );
  }

  private async send(update: ReceiptUpdate): Promise<void> {
    const servers = await this.serversIn(update.roomId);
    servers.delete(this.deps.serverName);
    if (servers.size === 0) return;
    const data =
      update.threadId === undefined ? { ts: update.ts } : { ts: update.ts, thread_id: update.threadId };
    const content = {
      [update.roomId]: { 'm.read': { [update.userId]: { event_ids: [update.eventId], data } } },
    };
    // Keyed per (room, user, thread): a receipt only moves forward, so the newest replaces a waiting one.
    const key = `receipt:${update.roomId}:${update.userId}:${update.threadId ?? ''}`;
    for (const server of servers) this.deps.federationApi.sendEdu(server, RECEIPT_EDU, content, { key });
  }

  /**
   * An inbound `m.receipt`: each receipt is taken or dropped (and logged) on its own — only `m.read`, of a
   * user of the origin, in a room we know where the origin has a joined member, for an event we hold.
   */
  async receive(origin: string, content: unknown): Promise<void> {
    if (!isObject(content)) {
      this.deps.logger.info({ origin }, 'a malformed m.receipt EDU was dropped');
      return;
    }
    for (const [roomId, byType] of Object.entries(content)) {
      if (!isObject(byType)) {
        this.deps.logger.info({ origin, roomId }, 'a malformed m.receipt EDU entry was dropped');
        continue;
      }
      const reads = byType['m.read'];
      if (reads === undefined) continue; // other receipt types are not ours to understand
      if (!isObject(reads)) {
        this.deps.logger.info({ origin, roomId }, 'a malformed m.read receipt map was dropped');
        continue;
      }
      if (!(await this.originInRoom(origin, roomId))) {
        this.deps.logger.info({ origin, roomId }, 'm.receipt for a room the origin is not in was dropped');
        continue;
      }
      for (const [userId, receipt] of Object.entries(reads))
        await this.receiveOne(origin, roomId, userId, receipt);
    }
  }

  private async receiveOne(origin: string, roomId: string, userId: string, receipt: unknown): Promise<void> {
    const parsed = parseReceipt(receipt);
    if (!parsed || serverNameOf(userId) !== origin) {
      this.deps.logger.info({ origin, roomId, userId }, 'a malformed or foreign m.read receipt was dropped');
      return;
    }
    // Several ids are allowed; the last one we hold is where the user has read up to.
    for (const eventId of [...parsed.eventIds].reverse()) {
      if (await this.deps.receiptsService.storeRemote(userId, roomId, eventId, parsed.threadId, parsed.ts))
        return;
    }
    this.deps.logger.info(
      { origin, roomId, userId },
      'an m.read receipt for events unknown here was dropped',
    );
  }

  private async originInRoom(origin: string, roomId: string): Promise<boolean> {
    if ((await this.deps.roomsApi.roomVersion(roomId)) === undefined) return false;
    return (await this.serversIn(roomId)).has(origin);
  }

  private async serversIn(roomId: string): Promise<Set<string>> {
    const servers = new Set<string>();
    for (const member of await this.deps.roomsApi.members(roomId, 'join')) {
      const server = serverNameOf(member);
      if (server !== undefined) servers.add(server);
    }
    return servers;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseReceipt(
  receipt: unknown,
): { eventIds: string[]; threadId: string | undefined; ts: number } | undefined {
  if (!isObject(receipt)) return undefined;
  const { event_ids: eventIds, data } = receipt;
  if (!Array.isArray(eventIds) || eventIds.length === 0 || eventIds.length > 100) return undefined;
  if (!eventIds.every((id): id is string => typeof id === 'string')) return undefined;
  const d = isObject(data) ? data : {};
  const threadId = d['thread_id'];
  if (threadId !== undefined && (typeof threadId !== 'string' || threadId === '')) return undefined;
  const ts = typeof d['ts'] === 'number' && Number.isFinite(d['ts']) ? d['ts'] : Date.now();
  return { eventIds, threadId, ts };
}
