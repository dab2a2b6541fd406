/**
 * What other modules may call on account data (registered as `accountDataApi`). Read markers write
 * `m.fully_read` through `setForRoom`; sync reads `ignoredUsers`. The sync feed is `accountDataFeed`
 * (modules/sync/api.ts).
 */
import type { JsonObject } from '../../core/protocol/pdu.js';

export interface AccountDataApi {
  getGlobal(userId: string, type: string): Promise<JsonObject | undefined>;
  getForRoom(userId: string, roomId: string, type: string): Promise<JsonObject | undefined>;
  /** Server-side write of any type (no client restrictions); wakes the user's syncs; returns the position. */
  setGlobal(userId: string, type: string, content: JsonObject): Promise<number>;
  setForRoom(userId: string, roomId: string, type: string, content: JsonObject): Promise<number>;
  /** The users `userId` ignores, from `m.ignored_user_list`. */
  ignoredUsers(userId: string): Promise<ReadonlySet<string>>;
}

export const ACCOUNT_DATA_STREAM = 'account_data';
