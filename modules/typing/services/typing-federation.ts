/**
 * Typing across servers (server-server API "Typing Notifications"): a local user's typing goes out as an
 * `m.typing` EDU to every other server with a joined member in the room; `m.typing` EDUs from other servers
 * mark their users typing here for 30 s (or the EDU's `timeout`, capped at 30 s) unless refreshed.
 */
import type { Cradle } from '../../../core/container.js';
import { serverNameOf } from '../../../core/protocol/identifiers.js';
import type { FederationApi } from '../../federation/api.js';
import type { RoomsApi } from '../../rooms/api.js';
import { MAX_TYPING_TIMEOUT_MS, type TypingRooms, type TypingService } from './typing-service.js';

export const TYPING_EDU = 'm.typing';

type Deps = Pick<Cradle, 'serverName' | 'logger'> & {
  federationApi: Pick<FederationApi, 'sendEdu' | 'registerEduHandler'>;
  roomsApi: Pick<RoomsApi, 'members'>;
  typingService: TypingService;
  typingRooms: TypingRooms;
};

export class TypingFederation {
  constructor(private readonly deps: Deps) {}

  /** Wires both directions (called in the module's start when federation is enabled). */
  start(): void {
    this.deps.typingService.onTyping((roomId, userId, typing) => {
      if (serverNameOf(userId) !== this.deps.serverName) return; // remote typists are their server's to send
      this.send(roomId, userId, typing).catch((err: unknown) =>
        this.deps.logger.warn({ err, roomId }, 'typing could not be sent to other servers'),
      );
    });
    this.deps.federationApi.registerEduHandler(TYPING_EDU, ({ origin, content }) =>
      this.receive(origin, content),
    );
  }

  private async send(roomId: string, userId: string, typing: boolean): Promise<void> {
    const servers = new Set<string>();
    for (const member of await this.deps.roomsApi.members(roomId, 'join')) {
      const server = serverNameOf(member);
      if (server !== undefined && server !== this.deps.serverName) servers.add(server);
    }
    for (const server of servers) {
      // Keyed: a newer typing state of this user replaces one still waiting for the destination.
      this.deps.federationApi.sendEdu(
        server,
        TYPING_EDU,
        { room_id: roomId, user_id: userId, typing },
        { key: `typing:${roomId}:${userId}` },
      );
    }
  }

  /** An inbound `m.typing`: dropped (and logged) unless well formed, of the origin's user, joined here. */
  async receive(origin: string, content: unknown): Promise<void> {
    const edu = parseTypingEdu(content);
    if (!edu) {
      this.deps.logger.info({ origin }, 'a malformed m.typing EDU was dropped');
      return;
    }
    if (serverNameOf(edu.userId) !== origin) {
      this.deps.logger.info(
        { origin, userId: edu.userId },
        'an m.typing EDU for another server’s user was dropped',
      );
      return;
    }
    if (!(await this.deps.typingRooms.isJoined(edu.roomId, edu.userId))) {
      this.deps.logger.info(
        { origin, roomId: edu.roomId, userId: edu.userId },
        'an m.typing EDU of a user not joined to the room was dropped',
      );
      return;
    }
    const typing = this.deps.typingService;
    if (edu.typing) typing.start(edu.roomId, edu.userId, Math.min(edu.timeoutMs, MAX_TYPING_TIMEOUT_MS));
    else typing.stopTyping(edu.roomId, edu.userId);
  }
}

function parseTypingEdu(
  content: unknown,
): { roomId: string; userId: string; typing: boolean; timeoutMs: number } | undefined {
  if (typeof content !== 'object' || content === null || Array.isArray(content)) return undefined;
  const c = content as Record<string, unknown>;
  const { room_id: roomId, user_id: userId, typing, timeout } = c;
  if (typeof roomId !== 'string' || typeof userId !== 'string' || typeof typing !== 'boolean')
    return undefined;
  if (timeout !== undefined && (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0))
    return undefined;
  return { roomId, userId, typing, timeoutMs: timeout ?? MAX_TYPING_TIMEOUT_MS };
}
