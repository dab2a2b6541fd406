/**
 * Profiles (spec v1.16+: per-field GET/PUT/DELETE with displayname, avatar_url, m.tz and custom keys).
 * Limits: keys ≤ 255 bytes (M_KEY_TOO_LARGE), the whole profile < 64 KiB (M_PROFILE_TOO_LARGE), and
 * Synapse's lengths for displayname (256) and avatar_url (1000). Changes are announced to listeners
 * (the rooms module sends new m.room.member events for displayname/avatar_url).
 */
import type { Cradle } from '../../../core/container.js';
import { isValidUserId, serverNameOf } from '../../../core/protocol/identifiers.js';
import { MatrixError } from '../../../core/errors.js';
import type { Requester } from '../../../core/http/context.js';
import type { Profile } from '../api.js';

export const MAX_PROFILE_BYTES = 64 * 1024;
export const MAX_KEY_BYTES = 255;
export const MAX_DISPLAYNAME_LENGTH = 256;
export const MAX_AVATAR_URL_LENGTH = 1000;
const KEY_PATTERN = /^(avatar_url|displayname|m\.tz|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+)$/;

export class ProfileService {
  private readonly store: Cradle['authStore'];
  private readonly events: Cradle['authEvents'];
  private readonly serverName: string;
  private readonly config: Pick<
    Cradle['authConfig'],
    'limit_profile_requests_to_users_who_share_rooms' | 'enable_set_displayname' | 'enable_set_avatar_url'
  >;
  private readonly extensions: Pick<Cradle['authExtensions'], 'sharesRoom' | 'remoteProfiles'>;

  constructor(c: Pick<Cradle, 'authStore' | 'authEvents' | 'serverName' | 'authConfig' | 'authExtensions'>) {
    this.store = c.authStore;
    this.events = c.authEvents;
    this.serverName = c.serverName;
    this.config = c.authConfig;
    this.extensions = c.authExtensions;
  }

  /**
   * GET /profile as a client asks it: with `limit_profile_requests_to_users_who_share_rooms`, an
   * authenticated user sees only their own profile and those of users they share a joined room with (as
   * Synapse, an unauthenticated request is not limited; require_auth_for_profile_requests closes that).
   */
  async getFor(requester: string | undefined, userId: string): Promise<Profile> {
    await this.checkMayRead(requester, userId);
    const remote = this.remoteSource(userId);
    return remote ? remote.fetch(userId) : this.get(userId);
  }

  /**
   * The limit applies to remote users as to local ones (Synapse compares the rooms both are joined to, which
   * this server knows for remote members of its rooms).
   */
  private async checkMayRead(requester: string | undefined, userId: string): Promise<void> {
    if (!isValidUserId(userId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
    if (this.config.limit_profile_requests_to_users_who_share_rooms && requester && requester !== userId) {
      if (!(await this.extensions.sharesRoom?.(requester, userId))) {
        throw new MatrixError(403, 'M_FORBIDDEN', "You don't share a room with this user");
      }
    }
  }

  /** The source to ask for a user of another server; undefined for ours (or without federation: 404). */
  private remoteSource(userId: string): Cradle['authExtensions']['remoteProfiles'] {
    if (serverNameOf(userId) === this.serverName) return undefined;
    return this.extensions.remoteProfiles;
  }

  /** The profile of a local user; undefined when no such user was ever registered. */
  async find(userId: string): Promise<Profile | undefined> {
    if (!isValidUserId(userId)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid user id');
    if (!(await this.store.users.get(userId))) return undefined;
    return this.store.profiles.get(userId);
  }

  async get(userId: string): Promise<Profile> {
    const profile = await this.find(userId);
    if (!profile) throw new MatrixError(404, 'M_NOT_FOUND', 'Profile was not found');
    return profile;
  }

  async getField(
    requester: string | undefined,
    userId: string,
    key: string,
  ): Promise<Record<string, unknown>> {
    checkKey(key);
    await this.checkMayRead(requester, userId);
    const remote = this.remoteSource(userId);
    const profile = remote ? await remote.fetch(userId, key) : await this.get(userId);
    if (!Object.hasOwn(profile, key))
      throw new MatrixError(404, 'M_NOT_FOUND', 'Profile field was not found');
    return { [key]: profile[key] };
  }

  async setField(requester: Requester, userId: string, key: string, body: Readonly<Record<string, unknown>>) {
    checkKey(key);
    await this.checkMayEdit(requester, userId);
    await this.checkChangeEnabled(requester, userId, key);
    if (!Object.hasOwn(body, key)) throw new MatrixError(400, 'M_MISSING_PARAM', `Missing key '${key}'`);
    let value = body[key];
    if (key === 'displayname' || key === 'avatar_url' || key === 'm.tz') {
      if (value === null && key !== 'm.tz') value = '';
      if (typeof value !== 'string') throw new MatrixError(400, 'M_BAD_JSON', `${key} must be a string`);
      const max =
        key === 'displayname' ? MAX_DISPLAYNAME_LENGTH : key === 'avatar_url' ? MAX_AVATAR_URL_LENGTH : 255;
      if (value.length > max) throw new MatrixError(400, 'M_BAD_JSON', `${key} is too long (max ${max})`);
    }
    const profile = { ...(await this.store.profiles.get(userId)), [key]: value };
    if (Buffer.byteLength(JSON.stringify(profile), 'utf8') >= MAX_PROFILE_BYTES) {
      throw new MatrixError(400, 'M_PROFILE_TOO_LARGE', 'The profile would exceed 64 KiB');
    }
    await this.store.profiles.set(userId, key, value);
    await this.events.emit('profileChanged', this.events.profileChanged, {
      userId,
      field: key,
      value,
      profile,
    });
  }

  async deleteField(requester: Requester, userId: string, key: string): Promise<void> {
    checkKey(key);
    await this.checkMayEdit(requester, userId);
    await this.checkChangeEnabled(requester, userId, key);
    const before = await this.store.profiles.get(userId);
    if (!Object.hasOwn(before, key)) return;
    await this.store.profiles.delete(userId, [key]);
    const { [key]: _removed, ...profile } = before;
    await this.events.emit('profileChanged', this.events.profileChanged, {
      userId,
      field: key,
      value: undefined,
      profile,
    });
  }

  /**
   * Synapse's enable_set_displayname / enable_set_avatar_url: false lets a user set the field once (while
   * it is empty) and no longer change it; server admins still may.
   */
  private async checkChangeEnabled(requester: Requester, userId: string, key: string): Promise<void> {
    const locked =
      (key === 'displayname' && !this.config.enable_set_displayname) ||
      (key === 'avatar_url' && !this.config.enable_set_avatar_url);
    if (!locked) return;
    const current = (await this.store.profiles.get(userId))[key];
    if (typeof current !== 'string' || current === '') return;
    if ((await this.store.users.get(requester.userId))?.admin) return;
    const what = key === 'displayname' ? 'display name' : 'avatar';
    throw new MatrixError(400, 'M_FORBIDDEN', `Changing ${what} is disabled on this server`);
  }

  private async checkMayEdit(requester: Requester, userId: string): Promise<void> {
    if (!userId.endsWith(`:${this.serverName}`)) {
      throw new MatrixError(403, 'M_FORBIDDEN', "Cannot change a remote user's profile");
    }
    if (requester.userId === userId) return;
    const admin = (await this.store.users.get(requester.userId))?.admin ?? false;
    if (!admin) throw new MatrixError(403, 'M_FORBIDDEN', "Cannot change another user's profile");
    if (!(await this.store.users.get(userId))) throw new MatrixError(404, 'M_NOT_FOUND', 'No such user');
  }
}

function checkKey(key: string): void {
  if (Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new MatrixError(400, 'M_KEY_TOO_LARGE', `Profile keys may be at most ${MAX_KEY_BYTES} bytes`);
  }
  if (!KEY_PATTERN.test(key)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid profile key.');
}
