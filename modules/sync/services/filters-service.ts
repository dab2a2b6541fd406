/** Uploading, reading and resolving filters (an id or inline JSON in the `filter` query parameter). */
import { MatrixError } from '../../../core/errors.js';
import { parseRequest } from '../../../core/validation.js';
import type { FiltersStore } from '../store/filters-store.js';
import { SyncFilterSchema, type SyncFilter } from './filter.js';
import { parseClientJson } from '../../../core/http/json-input.js';

/** A cache entry per (user, filter id): long-polling clients send the same filter id on every request. */
const CACHE_MAX = 5000;

export class FiltersService {
  private readonly store: FiltersStore;
  private readonly cache = new Map<string, SyncFilter>();

  constructor({ filtersStore }: { filtersStore: FiltersStore }) {
    this.store = filtersStore;
  }

  async create(userId: string, body: unknown): Promise<string> {
    const filter = validate(body, 'body');
    return this.store.insert(userId, filter);
  }

  async get(userId: string, filterId: string): Promise<SyncFilter> {
    const key = `${userId}\u0000${filterId}`;
    const cached = this.cache.get(key);
    if (cached) return cached;
    const stored = await this.store.get(userId, filterId);
    if (stored === undefined) throw new MatrixError(404, 'M_NOT_FOUND', 'No such filter');
    const filter = stored as SyncFilter;
    if (this.cache.size >= CACHE_MAX) this.cache.clear();
    this.cache.set(key, filter); // filters are immutable once stored, so the cache never goes stale
    return filter;
  }

  /** The `filter` query parameter: inline JSON when it starts with `{`, otherwise a filter id. */
  async resolve(userId: string, param: string | undefined): Promise<SyncFilter> {
    if (param === undefined || param === '') return {};
    if (param.trimStart().startsWith('{')) {
      let parsed: unknown;
      try {
        parsed = parseClientJson(param); // depth, integer range, surrogates, NUL: as for JSON bodies
      } catch {
        throw new MatrixError(400, 'M_INVALID_PARAM', 'filter is not valid JSON');
      }
      return validate(parsed, 'query');
    }
    return this.get(userId, param);
  }
}

function validate(value: unknown, where: 'body' | 'query'): SyncFilter {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new MatrixError(
      400,
      where === 'body' ? 'M_BAD_JSON' : 'M_INVALID_PARAM',
      'A filter must be an object',
    );
  }
  return parseRequest(SyncFilterSchema, value, where);
}
