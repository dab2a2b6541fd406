/**
 * Room aliases (spec: client-server-api "Room aliases"): creating, resolving and deleting local aliases,
 * listing a room's aliases, and the createRoom `room_alias_name` hook.
 */
import type { Cradle } from '../../../core/container.js';
import { FederationRequestError } from '../../federation/api.js';
import { MatrixError } from '../../../core/errors.js';
import { parseRoomAlias, serverNameOf } from '../../../core/protocol/identifiers.js';
import type { AliasStore } from '../store/alias-store.js';
import type { DirectoryRules } from './directory-rules.js';
import type { RoomFacts } from './room-facts.js';

type Deps = Pick<
  Cradle,
  'serverName' | 'spamCheckers' | 'roomsApi' | 'authApi' | 'logger' | 'enabledModules' | 'federationApi'
> & {
  directoryAliasStore: AliasStore;
  directoryRoomFacts: RoomFacts;
  directoryRules: DirectoryRules;
};

export class AliasService {
  constructor(private readonly deps: Deps) {}

  /** Parses an alias from a request: 400 M_INVALID_PARAM for a bad grammar. */
  private parse(alias: string): { localpart: string; serverName: string } {
    const parsed = parseRoomAlias(alias);
    if (!parsed) throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid room alias: ${alias}`);
    return { localpart: parsed.localpart, serverName: parsed.serverName };
  }

  private async isServerAdmin(userId: string): Promise<boolean> {
    return (await this.deps.authApi.getUser(userId))?.admin === true;
  }

  /** PUT /directory/room/{roomAlias}. */
  async createAlias(userId: string, alias: string, roomId: string): Promise<void> {
    const { serverName } = this.parse(alias);
    if (serverName !== this.deps.serverName)
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Room alias must be on this server');
    const state = await this.deps.directoryRoomFacts.requireState(roomId);
    if (
      this.deps.directoryRules.aliasesNeedMembership &&
      state.membershipOf(userId) !== 'join' &&
      !(await this.isServerAdmin(userId))
    )
      throw new MatrixError(403, 'M_FORBIDDEN', 'You must be in the room to create an alias for it');
    await this.deps.spamCheckers.assertAllowed('userMayCreateRoomAlias', { userId, roomAlias: alias });
    this.assertAliasAllowed(userId, roomId, alias);
    if (
      !(await this.deps.directoryAliasStore.create({
        roomAlias: alias,
        roomId,
        creator: userId,
        createdTs: Date.now(),
      }))
    )
      throw new MatrixError(409, 'M_UNKNOWN', `Room alias ${alias} already exists`);
  }

  /** GET /directory/room/{roomAlias}: the room and the servers that can help join it. */
  async resolveAlias(alias: string): Promise<{ room_id: string; servers: string[] }> {
    const { serverName } = this.parse(alias);
    if (serverName !== this.deps.serverName && this.deps.enabledModules.includes('federation')) {
      return this.queryRemoteAlias(alias, serverName);
    }
    const row = await this.deps.directoryAliasStore.get(alias);
    if (!row) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
    return { room_id: row.roomId, servers: [this.deps.serverName] };
  }

  /** An alias of another server, asked with `/query/directory` (404 relayed; other failures 502). */
  private async queryRemoteAlias(
    alias: string,
    serverName: string,
  ): Promise<{ room_id: string; servers: string[] }> {
    let answer: unknown;
    try {
      answer = await this.deps.federationApi.client.request({
        method: 'GET',
        destination: serverName,
        path: '/_matrix/federation/v1/query/directory',
        query: { room_alias: alias },
      });
    } catch (err) {
      if (!(err instanceof FederationRequestError)) throw err;
      if (err.kind === 'http' && err.status === 404) {
        throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
      }
      throw new MatrixError(502, 'M_UNKNOWN', `Could not ask ${serverName} about ${alias}: ${err.message}`);
    }
    const body = (answer ?? {}) as { room_id?: unknown; servers?: unknown };
    if (typeof body.room_id !== 'string') {
      throw new MatrixError(502, 'M_UNKNOWN', `${serverName} answered the alias query without a room id`);
    }
    const servers = Array.isArray(body.servers)
      ? body.servers.filter((s): s is string => typeof s === 'string')
      : [];
    return { room_id: body.room_id, servers };
  }

  /**
   * `GET /_matrix/federation/v1/query/directory?room_alias=`: a local alias's room and the servers in it
   * (ours first); 404 M_NOT_FOUND for an unknown alias or one of another server, 400 without a valid alias.
   */
  async resolveForFederation(
    alias: string | string[] | undefined,
  ): Promise<{ room_id: string; servers: string[] }> {
    if (typeof alias !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'room_alias is required');
    const { serverName } = this.parse(alias);
    const row =
      serverName === this.deps.serverName ? await this.deps.directoryAliasStore.get(alias) : undefined;
    if (!row) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
    const servers = new Set([this.deps.serverName]);
    for (const member of await this.deps.roomsApi.members(row.roomId)) {
      const server = serverNameOf(member);
      if (server !== undefined) servers.add(server);
    }
    return { room_id: row.roomId, servers: [...servers] };
  }

  /** The resolver rooms calls for /join and /knock with an alias. */
  async lookup(alias: string): Promise<string | undefined> {
    return (await this.deps.directoryAliasStore.get(alias))?.roomId;
  }

  /**
   * DELETE /directory/room/{roomAlias}: its creator, anyone with the power to send m.room.canonical_alias,
   * or a server admin. A canonical alias event naming it is updated, as Synapse does.
   */
  async deleteAlias(userId: string, alias: string): Promise<void> {
    this.parse(alias);
    const row = await this.deps.directoryAliasStore.get(alias);
    if (!row) throw new MatrixError(404, 'M_NOT_FOUND', `Room alias ${alias} not found`);
    if (row.creator !== userId && !(await this.isServerAdmin(userId))) {
      const state = await this.deps.directoryRoomFacts.state(row.roomId);
      if (!state || !this.deps.directoryRoomFacts.hasPowerFor(userId, state, 'm.room.canonical_alias'))
        throw new MatrixError(403, 'M_FORBIDDEN', 'You may not delete this alias');
    }
    await this.deps.directoryAliasStore.delete(alias);
    await this.dropFromCanonicalAlias(userId, row.roomId, alias);
  }

  private async dropFromCanonicalAlias(userId: string, roomId: string, alias: string): Promise<void> {
    const event = await this.deps.roomsApi.currentStateEvent(roomId, 'm.room.canonical_alias', '');
    if (!event) return;
    const content = { ...event.content };
    const alt = Array.isArray(content['alt_aliases']) ? content['alt_aliases'] : undefined;
    let changed = false;
    if (content['alias'] === alias) {
      delete content['alias'];
      changed = true;
    }
    if (alt?.includes(alias)) {
      content['alt_aliases'] = alt.filter((a) => a !== alias);
      changed = true;
    }
    if (!changed) return;
    // The deleter may lack the power to change the event; the alias is gone either way.
    await this.deps.roomsApi
      .sendStateEvent(userId, roomId, 'm.room.canonical_alias', '', content)
      .catch((err: unknown) => this.deps.logger.info({ err, roomId }, 'could not update canonical alias'));
  }

  /** GET /rooms/{roomId}/aliases: for members, or anyone when history is world_readable. */
  async roomAliases(userId: string, roomId: string): Promise<string[]> {
    const state = await this.deps.directoryRoomFacts.state(roomId);
    if (!state || (state.membershipOf(userId) !== 'join' && !state.worldReadable))
      throw new MatrixError(403, 'M_FORBIDDEN', 'You are not in this room');
    return this.deps.directoryAliasStore.aliasesOfRoom(roomId);
  }

  /**
   * Validates `m.room.canonical_alias` content before it is sent (spec: PUT /rooms/{roomId}/state 400s):
   * M_INVALID_PARAM for a malformed alias, M_BAD_ALIAS for a local alias that does not point at the room.
   * Aliases of other servers cannot be checked without federation and are accepted.
   */
  async validateCanonicalAlias(roomId: string, content: Readonly<Record<string, unknown>>): Promise<void> {
    const candidates: unknown[] = [];
    if (content['alias'] !== undefined && content['alias'] !== null) candidates.push(content['alias']);
    const alt = content['alt_aliases'];
    if (alt !== undefined && alt !== null) {
      if (!Array.isArray(alt)) throw new MatrixError(400, 'M_INVALID_PARAM', 'alt_aliases must be a list');
      candidates.push(...(alt as unknown[]));
    }
    for (const alias of candidates) {
      const parsed = typeof alias === 'string' ? parseRoomAlias(alias) : undefined;
      if (typeof alias !== 'string' || !parsed)
        throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid alias: ${String(alias)}`);
      if (parsed.serverName !== this.deps.serverName) continue;
      if ((await this.deps.directoryAliasStore.get(alias))?.roomId !== roomId)
        throw new MatrixError(400, 'M_BAD_ALIAS', `The alias '${alias}' does not point to this room.`);
    }
  }

  /** The alias createRoom's `room_alias_name` asks for, or undefined; 400 when it cannot be one. */
  private requestedAlias(request: Readonly<Record<string, unknown>>): string | undefined {
    const name = request['room_alias_name'];
    if (name === undefined || name === null) return undefined;
    if (typeof name !== 'string' || name === '' || name.includes(':') || /\s/.test(name))
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room_alias_name');
    const alias = `#${name}:${this.deps.serverName}`;
    if (!parseRoomAlias(alias)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid room_alias_name');
    return alias;
  }

  /** createRoom validator: the alias must be free and allowed before anything is written. */
  async validateCreate(creator: string, request: Readonly<Record<string, unknown>>): Promise<void> {
    const alias = this.requestedAlias(request);
    if (alias) {
      if (await this.deps.directoryAliasStore.get(alias))
        throw new MatrixError(400, 'M_ROOM_IN_USE', `Room alias ${alias} already taken`);
      await this.deps.spamCheckers.assertAllowed('userMayCreateRoomAlias', {
        userId: creator,
        roomAlias: alias,
      });
      // The room has no id yet: alias_creation_rules that name a room_id cannot match here.
      this.assertAliasAllowed(creator, '', alias);
    }
  }

  /** alias_creation_rules (Synapse's; server admins are bound by them too). */
  private assertAliasAllowed(userId: string, roomId: string, alias: string): void {
    if (!this.deps.directoryRules.mayCreateAlias(userId, roomId, alias))
      throw new MatrixError(403, 'M_FORBIDDEN', 'Not allowed to create alias');
  }

  /** createRoom hook: asks whether the room may be published, claims the alias and makes it canonical. */
  async onRoomCreated(
    roomId: string,
    creator: string,
    request: Readonly<Record<string, unknown>>,
  ): Promise<void> {
    if (request['visibility'] === 'public') {
      // rooms stored the visibility already; a refused publication must not stay listed.
      await this.deps.spamCheckers
        .assertAllowed('userMayPublishRoom', { userId: creator, roomId })
        .catch(async (err: unknown) => {
          await this.deps.roomsApi.setRoomVisibility(roomId, 'private');
          throw err;
        });
    }
    const alias = this.requestedAlias(request);
    // room_list_publication_rules: as Synapse since 1.100, a refused publication still creates the room.
    if (
      request['visibility'] === 'public' &&
      !this.deps.directoryRules.mayPublishRoom(creator, roomId, alias ? [alias] : [])
    )
      await this.deps.roomsApi.setRoomVisibility(roomId, 'private');
    if (!alias) return;
    if (
      !(await this.deps.directoryAliasStore.create({
        roomAlias: alias,
        roomId,
        creator,
        createdTs: Date.now(),
      }))
    )
      throw new MatrixError(400, 'M_ROOM_IN_USE', `Room alias ${alias} already taken`);
    await this.deps.roomsApi.sendStateEvent(creator, roomId, 'm.room.canonical_alias', '', { alias });
  }

  /** After an upgrade the local aliases, the canonical alias and the directory listing follow the room. */
  async onRoomUpgraded(oldRoomId: string, newRoomId: string, userId: string): Promise<void> {
    await this.deps.directoryAliasStore.moveAliases(oldRoomId, newRoomId);
    // A published room stays listed under its replacement only, as Synapse does.
    const published = await this.deps.roomsApi.listRooms({ visibility: 'public' });
    if (published.some((r) => r.roomId === oldRoomId)) {
      await this.deps.roomsApi.setRoomVisibility(newRoomId, 'public');
      await this.deps.roomsApi.setRoomVisibility(oldRoomId, 'private');
    }
    const canonical = await this.deps.roomsApi.currentStateEvent(oldRoomId, 'm.room.canonical_alias', '');
    const existing = await this.deps.roomsApi.currentStateEvent(newRoomId, 'm.room.canonical_alias', '');
    if (canonical && !existing && Object.keys(canonical.content).length > 0)
      await this.deps.roomsApi
        .sendStateEvent(userId, newRoomId, 'm.room.canonical_alias', '', canonical.content)
        .catch((err: unknown) => this.deps.logger.info({ err, newRoomId }, 'could not move canonical alias'));
  }
}
