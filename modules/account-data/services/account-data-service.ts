/** Account data, room tags and the ignored-users list, with a wake-up for the owner's syncs on each change. */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { JsonObject, JsonValue } from '../../../core/protocol/pdu.js';
import { ACCOUNT_DATA_STREAM, type AccountDataApi } from '../api.js';
import { GLOBAL, type AccountDataStore } from '../store/account-data-store.js';

export const IGNORED_USER_LIST = 'm.ignored_user_list';
export const TAG = 'm.tag';

/** Types the server maintains itself; clients may read but not write them (spec: 405 M_BAD_JSON). */
const SERVER_CONTROLLED_GLOBAL = new Set(['m.push_rules']);
const SERVER_CONTROLLED_ROOM = new Set(['m.fully_read']);

export class AccountDataService implements AccountDataApi {
  private readonly store: AccountDataStore;
  private readonly notifier: Cradle['notifier'];

  constructor({
    accountDataStore,
    notifier,
  }: {
    accountDataStore: AccountDataStore;
    notifier: Cradle['notifier'];
  }) {
    this.store = accountDataStore;
    this.notifier = notifier;
  }

  async getGlobal(userId: string, type: string): Promise<JsonObject | undefined> {
    return this.store.get(userId, GLOBAL, type);
  }

  async getForRoom(userId: string, roomId: string, type: string): Promise<JsonObject | undefined> {
    return this.store.get(userId, roomId, type);
  }

  /** A client's write: refuses server-controlled types and malformed ignore lists. */
  async putGlobalFromClient(userId: string, type: string, content: JsonObject): Promise<void> {
    if (SERVER_CONTROLLED_GLOBAL.has(type)) throw serverControlled(type);
    if (type === IGNORED_USER_LIST) validateIgnoredUserList(userId, content);
    await this.setGlobal(userId, type, content);
  }

  async putForRoomFromClient(
    userId: string,
    roomId: string,
    type: string,
    content: JsonObject,
  ): Promise<void> {
    if (SERVER_CONTROLLED_ROOM.has(type)) throw serverControlled(type);
    await this.setForRoom(userId, roomId, type, content);
  }

  /** Writes global account data (any type: this is also the server-side path) and wakes the user's syncs. */
  async setGlobal(userId: string, type: string, content: JsonObject): Promise<number> {
    const position = await this.store.put(userId, GLOBAL, type, content);
    this.notifier.publish({ stream: ACCOUNT_DATA_STREAM, position, userIds: [userId] });
    return position;
  }

  async setForRoom(userId: string, roomId: string, type: string, content: JsonObject): Promise<number> {
    const position = await this.store.put(userId, roomId, type, content);
    this.notifier.publish({ stream: ACCOUNT_DATA_STREAM, position, userIds: [userId] });
    return position;
  }

  async getTags(userId: string, roomId: string): Promise<Record<string, JsonValue>> {
    const content = await this.store.get(userId, roomId, TAG);
    return tagsOf(content);
  }

  async putTag(userId: string, roomId: string, tag: string, body: JsonObject): Promise<void> {
    const tags = await this.getTags(userId, roomId);
    tags[tag] = body;
    await this.setForRoom(userId, roomId, TAG, { tags });
  }

  async deleteTag(userId: string, roomId: string, tag: string): Promise<void> {
    const tags = await this.getTags(userId, roomId);
    if (!(tag in tags)) return; // deleting an absent tag succeeds without a new stream position
    delete tags[tag];
    await this.setForRoom(userId, roomId, TAG, { tags });
  }

  /** The users `userId` ignores (keys of `m.ignored_user_list`'s `ignored_users`). */
  async ignoredUsers(userId: string): Promise<ReadonlySet<string>> {
    const content = await this.store.get(userId, GLOBAL, IGNORED_USER_LIST);
    const ignored = content?.['ignored_users'];
    if (typeof ignored !== 'object' || ignored === null || Array.isArray(ignored)) return new Set();
    return new Set(Object.keys(ignored));
  }
}

function tagsOf(content: JsonObject | undefined): Record<string, JsonValue> {
  const tags = content?.['tags'];
  if (typeof tags !== 'object' || tags === null || Array.isArray(tags)) return {};
  return { ...tags };
}

function serverControlled(type: string): MatrixError {
  return new MatrixError(405, 'M_BAD_JSON', `Cannot set ${type} through this API.`);
}

function validateIgnoredUserList(userId: string, content: JsonObject): void {
  const ignored = content['ignored_users'];
  if (typeof ignored !== 'object' || ignored === null || Array.isArray(ignored)) {
    throw new MatrixError(400, 'M_BAD_JSON', 'ignored_users must be an object');
  }
  if (userId in ignored) throw new MatrixError(400, 'M_UNKNOWN', 'You may not ignore yourself');
}
