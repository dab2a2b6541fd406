/**
 * An LRU cache that holds at most `entries` entries and grows to them on demand. lru-cache's `max` option
 * allocates its bookkeeping arrays for every entry up front (~2.7 MiB for 100 000 entries, whether or not
 * one is ever stored); bounding by `maxSize` with every entry counting 1 keeps the same limit without that.
 */
import { LRUCache } from 'lru-cache';

export function growingLru<K extends NonNullable<unknown>, V extends NonNullable<unknown>>(
  entries: number,
  options: Omit<LRUCache.Options<K, V, unknown>, 'max' | 'maxSize' | 'sizeCalculation'> = {},
): LRUCache<K, V> {
  return new LRUCache<K, V>({ ...options, maxSize: entries, sizeCalculation: () => 1 });
}
