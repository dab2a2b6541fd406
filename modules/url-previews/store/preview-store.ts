/** The only code that touches url_previews_cache. */
import { createHash } from 'node:crypto';
import type { Cradle } from '../../../core/container.js';
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export type CachedOpenGraph = Record<string, string | number>;

interface CacheRow {
  url: string;
  download_ts: string | number;
  og: string;
}

const hashOf = (url: string): string => createHash('sha256').update(url).digest('hex');

export class PreviewStore {
  private readonly db: Cradle['db'];

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
  }

  /**
   * The preview closest to `ts` that has not expired: the newest fetched at or before `ts`, else the
   * oldest fetched after it (the spec lets the server answer with a newer version).
   */
  async get(
    url: string,
    ts: number,
    now: number,
    trx: Queryable = this.db,
  ): Promise<CachedOpenGraph | undefined> {
    const rows: CacheRow[] = await trx('url_previews_cache')
      .where({ url_hash: hashOf(url) })
      .where('expires_ts', '>', now)
      .orderBy('download_ts', 'desc')
      .select('url', 'download_ts', 'og');
    const matching = rows.filter((r) => r.url === url);
    const chosen = matching.find((r) => toNumber(r.download_ts) <= ts) ?? matching[matching.length - 1];
    return chosen ? fromJsonColumn<CachedOpenGraph>(chosen.og) : undefined;
  }

  async put(
    url: string,
    og: CachedOpenGraph,
    downloadTs: number,
    expiresTs: number,
    trx: Queryable = this.db,
  ): Promise<void> {
    await trx('url_previews_cache').insert({
      url_hash: hashOf(url),
      url,
      download_ts: downloadTs,
      expires_ts: expiresTs,
      og: toJsonColumn(og),
    });
  }

  /** Drops expired entries; returns how many. */
  async deleteExpired(now: number, trx: Queryable = this.db): Promise<number> {
    return trx('url_previews_cache').where('expires_ts', '<=', now).delete();
  }
}
