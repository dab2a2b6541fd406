/**
 * Another server's room directory (`/publicRooms?server=` of a remote server), asked through federation's
 * signed client as Synapse does: without a filter `GET /_matrix/federation/v1/publicRooms`; with one the
 * filtered `POST` (MSC2197), falling back to the whole list filtered here when the server does not know it
 * (404, 405, M_UNRECOGNIZED, M_NOT_FOUND). The remote's 403 is relayed as 403 M_FORBIDDEN; every other
 * failure is 502. Answers are kept 30 seconds (Synapse's remote room list cache).
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { isValidServerName } from '../../../core/protocol/identifiers.js';
import { FederationRequestError } from '../../federation/api.js';
import type { DirectoryRules } from './directory-rules.js';
import type { PublicRoomsQuery } from './public-rooms-service.js';

type Deps = Pick<Cradle, 'federationApi'> & { directoryRules: DirectoryRules };

/** A remote directory page, as the remote sent it (its `chunk` checked to be a list of objects). */
export interface RemotePublicRooms {
  chunk: Record<string, unknown>[];
  [key: string]: unknown;
}

const CACHE_TTL_MS = 30_000;
const CACHE_MAX_ENTRIES = 100;

export class RemotePublicRoomsService {
  private readonly cache = new Map<string, { page: RemotePublicRooms; expiresAt: number }>();

  constructor(private readonly deps: Deps) {}

  async list(server: string, query: PublicRoomsQuery): Promise<RemotePublicRooms> {
    if (!isValidServerName(server))
      throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid server name: ${server}`);
    if (!this.deps.directoryRules.roomListEnabled) return { chunk: [], total_room_count_estimate: 0 };
    const filtered = query.searchTerm !== undefined || query.roomTypes !== undefined;
    if (!filtered) return this.ask(server, 'GET', query);
    try {
      return await this.ask(server, 'POST', query);
    } catch (err) {
      if (!(err instanceof UnfilteredOnly)) throw err;
    }
    const all = await this.ask(server, 'GET', { ...query, limit: undefined, since: undefined });
    const chunk = all.chunk.filter((room) => matches(room, query));
    return { chunk, total_room_count_estimate: chunk.length };
  }

  private async ask(
    server: string,
    method: 'GET' | 'POST',
    query: PublicRoomsQuery,
  ): Promise<RemotePublicRooms> {
    const key = JSON.stringify([server, method, query]);
    const cached = this.cache.get(key);
    if (cached && cached.expiresAt > Date.now()) return cached.page;
    const page = await this.request(server, method, query);
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(key, { page, expiresAt: Date.now() + CACHE_TTL_MS });
    return page;
  }

  private async request(
    server: string,
    method: 'GET' | 'POST',
    q: PublicRoomsQuery,
  ): Promise<RemotePublicRooms> {
    const path = '/_matrix/federation/v1/publicRooms';
    const includeAll = q.includeAllNetworks === true;
    let answer: unknown;
    try {
      if (method === 'GET') {
        const query: Record<string, string | number> = { include_all_networks: String(includeAll) };
        if (q.limit !== undefined) query['limit'] = q.limit;
        if (q.since !== undefined) query['since'] = q.since;
        if (q.thirdPartyInstanceId !== undefined) query['third_party_instance_id'] = q.thirdPartyInstanceId;
        answer = await this.deps.federationApi.client.request({ method, destination: server, path, query });
      } else {
        const filter: Record<string, unknown> = {};
        if (q.searchTerm !== undefined) filter['generic_search_term'] = q.searchTerm;
        if (q.roomTypes !== undefined) filter['room_types'] = q.roomTypes;
        const body: Record<string, unknown> = { filter, include_all_networks: includeAll };
        if (q.limit !== undefined) body['limit'] = q.limit;
        if (q.since !== undefined) body['since'] = q.since;
        if (q.thirdPartyInstanceId !== undefined) body['third_party_instance_id'] = q.thirdPartyInstanceId;
        answer = await this.deps.federationApi.client.request({ method, destination: server, path, body });
      }
    } catch (err) {
      if (!(err instanceof FederationRequestError)) throw err;
      throw clientError(server, method, err);
    }
    const page = answer as { chunk?: unknown } | null;
    if (typeof page !== 'object' || page === null || !Array.isArray(page.chunk))
      throw new MatrixError(502, 'M_UNKNOWN', 'Failed to fetch room list');
    const chunk = page.chunk.filter(
      (room): room is Record<string, unknown> => typeof room === 'object' && room !== null,
    );
    return { ...(page as Record<string, unknown>), chunk };
  }
}

/** The filtered POST is unknown to the remote: list everything and filter here. */
class UnfilteredOnly extends Error {}

function clientError(server: string, method: 'GET' | 'POST', err: FederationRequestError): Error {
  if (err.kind === 'not_allowed')
    return new MatrixError(403, 'M_FORBIDDEN', `Federation denied with ${server}`);
  if (err.kind !== 'http') return new MatrixError(502, 'M_UNKNOWN', 'Failed to fetch room list');
  if (err.status === 403) {
    return new MatrixError(
      403,
      'M_FORBIDDEN',
      `You are not allowed to view the public rooms list of ${server}`,
    );
  }
  if (
    method === 'POST' &&
    (err.status === 404 ||
      err.status === 405 ||
      err.errcode === 'M_UNRECOGNIZED' ||
      err.errcode === 'M_NOT_FOUND')
  )
    return new UnfilteredOnly();
  return new MatrixError(502, 'M_UNKNOWN', 'Failed to fetch room list');
}

/** The client's filter over a remote room (Synapse's fallback: search term over name, topic, alias). */
function matches(room: Record<string, unknown>, query: PublicRoomsQuery): boolean {
  const type = typeof room['room_type'] === 'string' ? room['room_type'] : null;
  if (query.roomTypes && !query.roomTypes.includes(type)) return false;
  const term = query.searchTerm?.toLowerCase();
  if (!term) return true;
  return ['name', 'topic', 'canonical_alias'].some((field) => {
    const value = room[field];
    return typeof value === 'string' && value.toLowerCase().includes(term);
  });
}
