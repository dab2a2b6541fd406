/**
 * What every /sync reports about the syncing device's keys (one-time key counts, unused fallback key types),
 * served from memory: an idle long-poll must not query the database each time it wakes.
 *
 * An entry is filled on the first read and dropped by `invalidate`, which every write to the one-time and
 * fallback key tables calls once the write has committed (KeysService). A read that was under way when an
 * invalidation came in still answers its callers but does not store what it read: it may have seen the table
 * before the write. So the cache never holds a value older than the last committed write of this process.
 * Writes by another process sharing the database are not seen until the TTL drops the entry.
 */
import type { LRUCache } from 'lru-cache';
import { growingLru } from '../../../core/lru.js';

export interface DeviceKeyCounts {
  /** Unclaimed one-time keys per algorithm (only algorithms that have some). */
  readonly oneTimeKeyCounts: Readonly<Record<string, number>>;
  /** Algorithms whose fallback key has not been used yet, sorted. */
  readonly unusedFallbackKeyTypes: readonly string[];
}

export type DeviceKeyCountsLoader = (userId: string, deviceId: string) => Promise<DeviceKeyCounts>;

/** Devices kept (an entry is a few hundred bytes). */
export const KEY_COUNTS_CACHE_MAX = 50_000;
/** How long an entry lives: bounds how stale a write by another process can leave it. */
export const KEY_COUNTS_CACHE_TTL_MS = 5 * 60_000;

interface Load {
  promise: Promise<DeviceKeyCounts>;
}

export class KeyCountsCache {
  private readonly entries: LRUCache<string, DeviceKeyCounts>;
  /** The read under way per device; an invalidation removes it so that its result is not stored. */
  private readonly loading = new Map<string, Load>();
  private readonly loader: DeviceKeyCountsLoader;

  constructor(options: { load: DeviceKeyCountsLoader; max?: number; ttlMs?: number }) {
    this.loader = options.load;
    this.entries = growingLru<string, DeviceKeyCounts>(options.max ?? KEY_COUNTS_CACHE_MAX, {
      ttl: options.ttlMs ?? KEY_COUNTS_CACHE_TTL_MS,
    });
  }

  /** The device's counts: from memory, or read once (concurrent readers share one read). */
  get(userId: string, deviceId: string): Promise<DeviceKeyCounts> {
    const key = keyOf(userId, deviceId);
    const cached = this.entries.get(key);
    if (cached) return Promise.resolve(cached);
    const pending = this.loading.get(key);
    if (pending) return pending.promise;
    const load = {} as Load;
    this.loading.set(key, load);
    load.promise = this.read(key, userId, deviceId, load);
    return load.promise;
  }

  private async read(key: string, userId: string, deviceId: string, load: Load): Promise<DeviceKeyCounts> {
    try {
      const value = freeze(await this.loader(userId, deviceId));
      if (this.loading.get(key) === load) this.entries.set(key, value);
      return value;
    } finally {
      if (this.loading.get(key) === load) this.loading.delete(key);
    }
  }

  /** Call after a write to a device's one-time or fallback keys has committed (and also when it failed). */
  invalidate(userId: string, deviceId: string): void {
    const key = keyOf(userId, deviceId);
    this.entries.delete(key);
    this.loading.delete(key);
  }

  /** Entries held (for tests). */
  get size(): number {
    return this.entries.size;
  }
}

const keyOf = (userId: string, deviceId: string): string => `${userId}\0${deviceId}`;

function freeze(value: DeviceKeyCounts): DeviceKeyCounts {
  return Object.freeze({
    oneTimeKeyCounts: Object.freeze({ ...value.oneTimeKeyCounts }),
    unusedFallbackKeyTypes: Object.freeze([...value.unusedFallbackKeyTypes]),
  });
}
