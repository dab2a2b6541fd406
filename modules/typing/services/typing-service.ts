/**
 * Who is typing where. Typing is ephemeral and, as in Synapse's single-process deployment, kept in this
 * process's memory: the stream position restarts at 0 with the process (the sync feed treats a token from a
 * previous run as 0). Several processes sharing one database would need the typing state in the database or
 * on a shared channel; see README.md.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';

/** The typing notifications stream on the notifier and in sync tokens. */
export const TYPING_STREAM = 'typing';
/** Synapse's cap: a client re-sends well before this; a longer timeout would leave a ghost typist. */
export const MAX_TYPING_TIMEOUT_MS = 30_000;

/** What typing needs from the rooms module. */
export interface TypingRooms {
  isJoined(roomId: string, userId: string): Promise<boolean>;
}

interface Typist {
  readonly timer: NodeJS.Timeout;
}

/** Told of every start (refreshes included) and stop; federation sends local users' typing out from it. */
export type TypingListener = (roomId: string, userId: string, typing: boolean) => void;

type Deps = Pick<Cradle, 'notifier'> & { typingRooms: TypingRooms };

export class TypingService {
  private position = 0;
  private readonly rooms = new Map<string, Map<string, Typist>>();
  /** The position at which each room's typing list last changed. */
  private readonly changedAt = new Map<string, number>();
  private readonly listeners: TypingListener[] = [];

  constructor(private readonly deps: Deps) {}

  /** PUT /rooms/{roomId}/typing/{userId} by `requester`. */
  async setTyping(
    requester: string,
    roomId: string,
    userId: string,
    typing: boolean,
    timeoutMs?: number,
  ): Promise<void> {
    if (requester !== userId)
      throw new MatrixError(403, 'M_FORBIDDEN', 'Cannot set the typing state of another user');
    if (!(await this.deps.typingRooms.isJoined(roomId, userId)))
      throw new MatrixError(403, 'M_FORBIDDEN', 'You are not a member of this room');
    if (typing)
      this.start(
        roomId,
        userId,
        Math.min(Math.max(timeoutMs ?? MAX_TYPING_TIMEOUT_MS, 0), MAX_TYPING_TIMEOUT_MS),
      );
    else this.stopTyping(roomId, userId);
  }

  onTyping(listener: TypingListener): void {
    this.listeners.push(listener);
  }

  /** Marks `userId` typing in `roomId` for `timeoutMs` (replacing an earlier timeout). */
  start(roomId: string, userId: string, timeoutMs: number): void {
    let typists = this.rooms.get(roomId);
    if (!typists) this.rooms.set(roomId, (typists = new Map<string, Typist>()));
    const existing = typists.get(userId);
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => this.stopTyping(roomId, userId), timeoutMs);
    timer.unref();
    typists.set(userId, { timer });
    // A refresh of someone already typing changes nothing a client sees: no new position, no wake-up.
    if (!existing) this.changed(roomId);
    // A refresh still goes to listeners: other servers expire typists on their own clocks.
    for (const listener of this.listeners) listener(roomId, userId, true);
  }

  /** Marks `userId` as no longer typing (explicitly, on timeout, or when they leave). */
  stopTyping(roomId: string, userId: string): void {
    const typists = this.rooms.get(roomId);
    const existing = typists?.get(userId);
    if (!typists || !existing) return;
    clearTimeout(existing.timer);
    typists.delete(userId);
    if (typists.size === 0) this.rooms.delete(roomId);
    this.changed(roomId);
    for (const listener of this.listeners) listener(roomId, userId, false);
  }

  typingIn(roomId: string): string[] {
    return [...(this.rooms.get(roomId)?.keys() ?? [])];
  }

  currentPosition(): number {
    return this.position;
  }

  /** The position at which `roomId`'s typing list last changed (0: never in this process). */
  lastChange(roomId: string): number {
    return this.changedAt.get(roomId) ?? 0;
  }

  /** Clears every timer (graceful stop). */
  clear(): void {
    for (const typists of this.rooms.values()) for (const t of typists.values()) clearTimeout(t.timer);
    this.rooms.clear();
  }

  private changed(roomId: string): void {
    this.position += 1;
    this.changedAt.set(roomId, this.position);
    this.deps.notifier.publish({ stream: TYPING_STREAM, position: this.position, roomIds: [roomId] });
  }
}
