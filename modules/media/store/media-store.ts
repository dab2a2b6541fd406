/** The only code that touches media_items and media_thumbnails. */
import type { Cradle } from '../../../core/container.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import { toNumber } from '../../../core/storage/dialect.js';
import type { Queryable } from '../../../core/storage/transaction.js';

export interface MediaRecord {
  readonly origin: string;
  readonly mediaId: string;
  /** Undefined while an async upload (POST /create) has no content yet. */
  readonly mediaType: string | undefined;
  readonly length: number | undefined;
  readonly uploadName: string | undefined;
  readonly userId: string | undefined;
  readonly contentHash: string | undefined;
  readonly createdTs: number;
  readonly lastAccessTs: number;
  readonly unusedExpiresAt: number | undefined;
  readonly quarantinedBy: string | undefined;
  readonly authenticated: boolean;
}

export interface NewMedia {
  readonly origin: string;
  readonly mediaId: string;
  readonly mediaType?: string | undefined;
  readonly length?: number | undefined;
  readonly uploadName?: string | undefined;
  readonly userId?: string | undefined;
  readonly contentHash?: string | undefined;
  readonly createdTs: number;
  readonly unusedExpiresAt?: number | undefined;
  readonly authenticated: boolean;
}

export interface ThumbnailKey {
  readonly width: number;
  readonly height: number;
  readonly method: 'crop' | 'scale';
  readonly animated: boolean;
}

export interface ThumbnailRecord extends ThumbnailKey {
  readonly mediaType: string;
  readonly contentHash: string;
  readonly length: number;
}

interface MediaRow {
  origin: string;
  media_id: string;
  media_type: string | null;
  media_length: string | number | null;
  upload_name: string | null;
  user_id: string | null;
  content_hash: string | null;
  created_ts: string | number;
  last_access_ts: string | number;
  unused_expires_at: string | number | null;
  quarantined_by: string | null;
  authenticated: boolean | number;
}

interface ThumbnailRow {
  width: number;
  height: number;
  method: string;
  animated: boolean | number;
  media_type: string;
  content_hash: string;
  media_length: string | number;
}

const orUndefined = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function toRecord(row: MediaRow): MediaRecord {
  return {
    origin: row.origin,
    mediaId: row.media_id,
    mediaType: orUndefined(row.media_type),
    length: row.media_length === null ? undefined : toNumber(row.media_length),
    uploadName: orUndefined(row.upload_name),
    userId: orUndefined(row.user_id),
    contentHash: orUndefined(row.content_hash),
    createdTs: toNumber(row.created_ts),
    lastAccessTs: toNumber(row.last_access_ts),
    unusedExpiresAt: row.unused_expires_at === null ? undefined : toNumber(row.unused_expires_at),
    quarantinedBy: orUndefined(row.quarantined_by),
    authenticated: Boolean(row.authenticated),
  };
}

export class MediaStore {
  private readonly db: Cradle['db'];

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
  }

  async insertMedia(media: NewMedia, trx: Queryable = this.db): Promise<void> {
    await trx('media_items').insert({
      origin: media.origin,
      media_id: media.mediaId,
      media_type: media.mediaType ?? null,
      media_length: media.length ?? null,
      upload_name: media.uploadName ?? null,
      user_id: media.userId ?? null,
      content_hash: media.contentHash ?? null,
      created_ts: media.createdTs,
      last_access_ts: media.createdTs,
      unused_expires_at: media.unusedExpiresAt ?? null,
      authenticated: media.authenticated,
    });
  }

  async getMedia(
    origin: string,
    mediaId: string,
    trx: Queryable = this.db,
  ): Promise<MediaRecord | undefined> {
    const row = await trx<MediaRow>('media_items').where({ origin, media_id: mediaId }).first();
    return row ? toRecord(row) : undefined;
  }

  /** Fills in a created-but-empty item; false when it already has content (or does not exist). */
  async completeUpload(
    origin: string,
    mediaId: string,
    content: { mediaType: string; length: number; uploadName: string | undefined; contentHash: string },
    trx: Queryable = this.db,
  ): Promise<boolean> {
    const updated = await trx('media_items')
      .where({ origin, media_id: mediaId })
      .whereNull('content_hash')
      .update({
        media_type: content.mediaType,
        media_length: content.length,
        upload_name: content.uploadName ?? null,
        content_hash: content.contentHash,
        unused_expires_at: null,
      });
    return updated > 0;
  }

  /** Created ids of `userId` that have no content yet and have not expired. */
  async countPendingUploads(userId: string, now: number, trx: Queryable = this.db): Promise<number> {
    const row = await trx('media_items')
      .where({ user_id: userId })
      .whereNull('content_hash')
      .where('unused_expires_at', '>', now)
      .count<{ n: string | number }[]>({ n: '*' })
      .first();
    return toNumber(row?.n);
  }

  /** Bytes `userId` uploaded at or after `sinceTs`. */
  async uploadedBytesSince(userId: string, sinceTs: number, trx: Queryable = this.db): Promise<number> {
    const row = await trx('media_items')
      .where({ user_id: userId })
      .where('created_ts', '>=', sinceTs)
      .sum<{ total: string | number | null }[]>({ total: 'media_length' })
      .first();
    return toNumber(row?.total);
  }

  async touch(origin: string, mediaId: string, ts: number, trx: Queryable = this.db): Promise<void> {
    await trx('media_items').where({ origin, media_id: mediaId }).update({ last_access_ts: ts });
  }

  /** Sets (a user id) or clears (null) the quarantine mark; false when the item does not exist. */
  async setQuarantine(
    origin: string,
    mediaId: string,
    by: string | null,
    trx: Queryable = this.db,
  ): Promise<boolean> {
    const updated = await trx('media_items')
      .where({ origin, media_id: mediaId })
      .update({ quarantined_by: by });
    return updated > 0;
  }

  /** Deletes the item and its thumbnails; returns the blob keys they used (to release), or undefined. */
  async deleteMedia(
    origin: string,
    mediaId: string,
    trx: Queryable = this.db,
  ): Promise<string[] | undefined> {
    const item = await trx<MediaRow>('media_items').where({ origin, media_id: mediaId }).first();
    if (!item) return undefined;
    const thumbs = await trx('media_thumbnails')
      .where({ origin, media_id: mediaId })
      .select<{ content_hash: string }[]>('content_hash');
    await trx('media_thumbnails').where({ origin, media_id: mediaId }).delete();
    await trx('media_items').where({ origin, media_id: mediaId }).delete();
    const keys = thumbs.map((r) => r.content_hash);
    if (item.content_hash) keys.push(item.content_hash);
    return [...new Set(keys)];
  }

  /** Whether any item or thumbnail still uses the blob. */
  async isBlobReferenced(key: string, trx: Queryable = this.db): Promise<boolean> {
    const item: unknown = await trx('media_items').where({ content_hash: key }).first('media_id');
    if (item !== undefined) return true;
    const thumb: unknown = await trx('media_thumbnails').where({ content_hash: key }).first('media_id');
    return thumb !== undefined;
  }

  async getThumbnail(
    origin: string,
    mediaId: string,
    key: ThumbnailKey,
    trx: Queryable = this.db,
  ): Promise<ThumbnailRecord | undefined> {
    const row = await trx('media_thumbnails')
      .where({ origin, media_id: mediaId, width: key.width, height: key.height, method: key.method })
      .where({ animated: key.animated })
      .first<ThumbnailRow | undefined>();
    if (!row) return undefined;
    return {
      width: row.width,
      height: row.height,
      method: row.method === 'crop' ? 'crop' : 'scale',
      animated: Boolean(row.animated),
      mediaType: row.media_type,
      contentHash: row.content_hash,
      length: toNumber(row.media_length),
    };
  }

  /** Records a generated thumbnail; a concurrent twin that got there first wins silently. */
  async insertThumbnail(
    origin: string,
    mediaId: string,
    thumb: ThumbnailRecord,
    createdTs: number,
    trx: Queryable = this.db,
  ): Promise<void> {
    try {
      await trx('media_thumbnails').insert({
        origin,
        media_id: mediaId,
        width: thumb.width,
        height: thumb.height,
        method: thumb.method,
        animated: thumb.animated,
        media_type: thumb.mediaType,
        content_hash: thumb.contentHash,
        media_length: thumb.length,
        created_ts: createdTs,
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
  }

  /**
   * Items due for removal: local ones (origin = `localOrigin`) last accessed before `localBefore`, remote
   * ones before `remoteBefore`, and created ids whose upload window closed before `now` with no content.
   */
  async listExpired(
    criteria: {
      localOrigin: string;
      localBefore?: number;
      remoteBefore?: number;
      now: number;
      limit: number;
    },
    trx: Queryable = this.db,
  ): Promise<{ origin: string; mediaId: string }[]> {
    const rows = await trx<MediaRow>('media_items')
      .where((q) => {
        if (criteria.localBefore !== undefined) {
          void q.orWhere((w) =>
            w
              .where('origin', criteria.localOrigin)
              .whereNotNull('content_hash')
              .where('last_access_ts', '<', criteria.localBefore!),
          );
        }
        if (criteria.remoteBefore !== undefined) {
          void q.orWhere((w) =>
            w.whereNot('origin', criteria.localOrigin).where('last_access_ts', '<', criteria.remoteBefore!),
          );
        }
        void q.orWhere((w) => w.whereNull('content_hash').where('unused_expires_at', '<', criteria.now));
      })
      .orderBy('last_access_ts')
      .limit(criteria.limit)
      .select('origin', 'media_id');
    return rows.map((r) => ({ origin: r.origin, mediaId: r.media_id }));
  }
}
