/**
 * The content repository's behaviour: uploads (direct and async), finding servable content (local, cached
 * remote or fetched through the RemoteMediaFetcher), quarantine, deletion and the retention sweep.
 */
import { EventEmitter } from 'node:events';
import type { Readable } from 'node:stream';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import type { MediaSettings } from '../config.js';
import { generateMediaId, mxcUri } from '../ids.js';
import type { MediaRecord, MediaStore } from '../store/media-store.js';
import { BlobTooLargeError, type ByteRange, type MediaStorageBackend } from '../backends/storage-backend.js';
import type { RemoteMediaFetcher } from './remote-media-fetcher.js';
import { Thumbnailer } from './thumbnailer.js';
import type { MediaApi } from '../api.js';

/** How long a download may wait for an async upload, as Synapse: 20 s by default, 60 s at most. */
export const DEFAULT_TIMEOUT_MS = 20_000;
export const MAX_TIMEOUT_MS = 60_000;
const SPAM_CHECK_HEAD_BYTES = 64 * 1024;
const PENDING_POLL_MS = 500;
/** last_access_ts is refreshed at most this often per item, so downloads are not a write each. */
const TOUCH_INTERVAL_MS = 60_000;

export interface UploadInput {
  readonly userId: string;
  readonly mediaType: string | undefined;
  readonly uploadName: string | undefined;
  readonly content: AsyncIterable<Uint8Array>;
  /** The request's Content-Length when sent, to refuse too-large uploads before reading. */
  readonly declaredLength?: number | undefined;
}

/** Media ready to serve: its stored bytes and how to describe them. */
export interface ServableMedia {
  readonly origin: string;
  readonly mediaId: string;
  readonly contentHash: string;
  readonly length: number;
  readonly mediaType: string;
  readonly uploadName: string | undefined;
}

export interface LookupOptions {
  /** Asked through a legacy unauthenticated endpoint (frozen media answers 404 there). */
  readonly legacy: boolean;
  readonly allowRemote: boolean;
  readonly timeoutMs: number;
}

type Deps = Pick<
  Cradle,
  | 'serverName'
  | 'logger'
  | 'spamCheckers'
  | 'mediaStore'
  | 'mediaStorage'
  | 'mediaSettings'
  | 'remoteMediaFetcher'
> &
  Partial<Pick<Cradle, 'shutdownSignal'>>;

export class MediaService implements MediaApi {
  private readonly serverName: string;
  private readonly logger: Cradle['logger'];
  private readonly spamCheckers: Cradle['spamCheckers'];
  private readonly store: MediaStore;
  private readonly storage: MediaStorageBackend;
  private readonly settings: MediaSettings;
  private readonly remote: RemoteMediaFetcher;
  private readonly shutdownSignal: AbortSignal | undefined;
  private readonly uploaded = new EventEmitter();
  private readonly remoteInFlight = new Map<string, Promise<MediaRecord>>();

  constructor(
    deps: Deps,
    private readonly now: () => number = Date.now,
  ) {
    this.serverName = deps.serverName;
    this.logger = deps.logger;
    this.spamCheckers = deps.spamCheckers;
    this.store = deps.mediaStore;
    this.storage = deps.mediaStorage;
    this.settings = deps.mediaSettings;
    this.remote = deps.remoteMediaFetcher;
    this.shutdownSignal = deps.shutdownSignal;
    this.uploaded.setMaxListeners(0);
  }

  get maxUploadSize(): number {
    return this.settings.maxUploadSize;
  }

  /** POST /upload: stores the content as a new local item and returns its mxc:// URI. */
  async upload(input: UploadInput): Promise<{ mediaId: string; contentUri: string }> {
    const mediaId = generateMediaId();
    const content = await this.receive(input);
    await this.store.insertMedia({
      origin: this.serverName,
      mediaId,
      mediaType: content.mediaType,
      length: content.size,
      uploadName: input.uploadName,
      userId: input.userId,
      contentHash: content.key,
      createdTs: this.now(),
      authenticated: this.settings.enableAuthenticatedMedia,
    });
    return { mediaId, contentUri: mxcUri(this.serverName, mediaId) };
  }

  /**
   * Stores server-fetched content (a URL preview's image) as a local item owned by `userId`, without the
   * upload spam check: the user did not choose these bytes.
   */
  async storeLocal(input: {
    userId: string;
    mediaType: string;
    uploadName?: string | undefined;
    content: AsyncIterable<Uint8Array>;
    maxBytes?: number;
  }): Promise<{ mediaId: string; contentUri: string; size: number }> {
    const mediaId = generateMediaId();
    const blob = await this.writeBlob(input.content, input.maxBytes ?? this.settings.maxUploadSize, 413);
    await this.store.insertMedia({
      origin: this.serverName,
      mediaId,
      mediaType: input.mediaType,
      length: blob.size,
      uploadName: input.uploadName,
      userId: input.userId,
      contentHash: blob.key,
      createdTs: this.now(),
      authenticated: this.settings.enableAuthenticatedMedia,
    });
    return { mediaId, contentUri: mxcUri(this.serverName, mediaId), size: blob.size };
  }

  async imageInfo(mediaId: string): Promise<{ width: number; height: number } | undefined> {
    const record = await this.store.getMedia(this.serverName, mediaId);
    if (!record?.contentHash) return undefined;
    const stream = await this.storage.read(record.contentHash);
    if (!stream) return undefined;
    const chunks: Uint8Array[] = [];
    for await (const chunk of stream as AsyncIterable<Uint8Array>) chunks.push(chunk);
    const info = await new Thumbnailer(this.settings.maxImagePixels).probe(Buffer.concat(chunks));
    return info ? { width: info.width, height: info.height } : undefined;
  }

  /** POST /create: reserves a media id for a later PUT, within the pending-uploads limit. */
  async create(userId: string): Promise<{ contentUri: string; unusedExpiresAt: number }> {
    const now = this.now();
    if ((await this.store.countPendingUploads(userId, now)) >= this.settings.maxPendingUploads) {
      throw new MatrixError(429, 'M_LIMIT_EXCEEDED', 'You have too many pending media uploads', {
        retry_after_ms: 60_000,
      });
    }
    const mediaId = generateMediaId();
    const unusedExpiresAt = now + this.settings.unusedExpirationMs;
    await this.store.insertMedia({
      origin: this.serverName,
      mediaId,
      userId,
      createdTs: now,
      unusedExpiresAt,
      authenticated: this.settings.enableAuthenticatedMedia,
    });
    return { contentUri: mxcUri(this.serverName, mediaId), unusedExpiresAt };
  }

  /** PUT /upload/{serverName}/{mediaId}: fills a reserved id, once, by the user who reserved it. */
  async uploadTo(serverName: string, mediaId: string, input: UploadInput): Promise<void> {
    const record =
      serverName === this.serverName ? await this.store.getMedia(serverName, mediaId) : undefined;
    if (!record || (record.contentHash === undefined && (record.unusedExpiresAt ?? 0) <= this.now())) {
      throw new MatrixError(404, 'M_NOT_FOUND', 'Unknown media ID');
    }
    if (record.userId !== input.userId) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'You may not upload to this media ID');
    }
    if (record.contentHash !== undefined) {
      throw new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
    }
    const content = await this.receive(input);
    const filled = await this.store.completeUpload(serverName, mediaId, {
      mediaType: content.mediaType,
      length: content.size,
      uploadName: input.uploadName,
      contentHash: content.key,
    });
    if (!filled) {
      await this.releaseBlobs([content.key]);
      throw new MatrixError(409, 'M_CANNOT_OVERWRITE_MEDIA', 'Media already uploaded');
    }
    this.uploaded.emit(`${serverName}/${mediaId}`);
  }

  /**
   * The content to serve for `mxc://serverName/mediaId`: 404 when unknown, quarantined or frozen for the
   * legacy endpoints; waits up to `timeoutMs` for an async upload, then 504 M_NOT_YET_UPLOADED.
   */
  async find(serverName: string, mediaId: string, options: LookupOptions): Promise<ServableMedia> {
    let record =
      serverName === this.serverName
        ? await this.store.getMedia(serverName, mediaId)
        : await this.findRemote(serverName, mediaId, options);
    if (record && record.contentHash === undefined) {
      if ((record.unusedExpiresAt ?? 0) <= this.now()) throw notFound();
      record = await this.waitForUpload(record, options.timeoutMs);
    }
    if (!record || record.quarantinedBy !== undefined) throw notFound();
    if (options.legacy && record.authenticated && this.settings.enableAuthenticatedMedia) throw notFound();
    if (record.contentHash === undefined || record.length === undefined) {
      throw new MatrixError(504, 'M_NOT_YET_UPLOADED', 'Content has not yet been uploaded');
    }
    if (this.now() - record.lastAccessTs > TOUCH_INTERVAL_MS) {
      await this.store.touch(record.origin, record.mediaId, this.now());
    }
    return {
      origin: record.origin,
      mediaId: record.mediaId,
      contentHash: record.contentHash,
      length: record.length,
      mediaType: record.mediaType ?? 'application/octet-stream',
      uploadName: record.uploadName,
    };
  }

  /** The stored bytes of a blob (or a range of them); 404 when the blob has gone missing. */
  async open(contentHash: string, range?: ByteRange): Promise<Readable> {
    const stream = await this.storage.read(contentHash, range);
    if (!stream) {
      this.logger.error({ contentHash }, 'media blob missing from the store');
      throw notFound();
    }
    return stream;
  }

  /** The admin quarantine mark: quarantined media answers 404 everywhere. */
  async setQuarantine(serverName: string, mediaId: string, by: string | null): Promise<void> {
    if (!(await this.store.setQuarantine(serverName, mediaId, by))) throw notFound();
  }

  /** Deletes an item, its thumbnails and any blob no other item still uses. */
  async delete(serverName: string, mediaId: string): Promise<void> {
    const keys = await this.store.deleteMedia(serverName, mediaId);
    if (!keys) throw notFound();
    await this.releaseBlobs(keys);
  }

  /** One retention pass (media_retention, expired async ids); returns how many items were removed. */
  async sweep(): Promise<number> {
    const now = this.now();
    const { localMediaLifetimeMs: local, remoteMediaLifetimeMs: remote } = this.settings;
    let removed = 0;
    for (;;) {
      const batch = await this.store.listExpired({
        localOrigin: this.serverName,
        localBefore: local === undefined ? undefined : now - local,
        remoteBefore: remote === undefined ? undefined : now - remote,
        now,
        limit: 100,
      });
      for (const item of batch) {
        const keys = await this.store.deleteMedia(item.origin, item.mediaId);
        if (keys) {
          await this.releaseBlobs(keys);
          removed++;
        }
      }
      if (batch.length < 100) return removed;
    }
  }

  /** Removes blobs that no row references any more. */
  async releaseBlobs(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      if (!(await this.store.isBlobReferenced(key))) await this.storage.delete(key);
    }
  }

  /** Reads an upload into the store: size limits, quota, then the spam check on what was received. */
  private async receive(input: UploadInput): Promise<{ key: string; size: number; mediaType: string }> {
    const max = this.settings.maxUploadSize;
    if (input.declaredLength !== undefined && input.declaredLength > max) throw uploadTooLarge(max);
    if (input.declaredLength !== undefined) await this.assertQuota(input.userId, input.declaredLength);
    const chunks: Uint8Array[] = [];
    let headBytes = 0;
    async function* withHead(): AsyncIterable<Uint8Array> {
      for await (const chunk of input.content) {
        if (headBytes < SPAM_CHECK_HEAD_BYTES) {
          chunks.push(chunk.subarray(0, SPAM_CHECK_HEAD_BYTES - headBytes));
          headBytes += Math.min(chunk.byteLength, SPAM_CHECK_HEAD_BYTES - headBytes);
        }
        yield chunk;
      }
    }
    const blob = await this.writeBlob(withHead(), max, 413);
    const mediaType = normaliseMediaType(input.mediaType);
    try {
      await this.assertQuota(input.userId, blob.size);
      await this.spamCheckers.assertAllowed('checkMediaFileForSpam', {
        userId: input.userId,
        mediaType,
        size: blob.size,
        uploadName: input.uploadName,
        head: Buffer.concat(chunks),
      });
    } catch (err) {
      await this.releaseBlobs([blob.key]);
      throw err;
    }
    return { ...blob, mediaType };
  }

  private async writeBlob(
    content: AsyncIterable<Uint8Array>,
    maxBytes: number,
    status: 413 | 502,
  ): Promise<{ key: string; size: number }> {
    try {
      return await this.storage.write(content, { maxBytes });
    } catch (err) {
      if (err instanceof BlobTooLargeError) {
        throw status === 413
          ? uploadTooLarge(maxBytes)
          : new MatrixError(502, 'M_TOO_LARGE', 'Content is too large to serve');
      }
      throw err;
    }
  }

  /** media_upload_limits: every configured window must have room for `size` more bytes. */
  private async assertQuota(userId: string, size: number): Promise<void> {
    for (const limit of this.settings.uploadLimits) {
      const used = await this.store.uploadedBytesSince(userId, this.now() - limit.periodMs);
      if (used + size > limit.maxBytes) {
        throw new MatrixError(403, 'M_FORBIDDEN', 'Media upload limit exceeded');
      }
    }
  }

  private async findRemote(
    serverName: string,
    mediaId: string,
    options: LookupOptions,
  ): Promise<MediaRecord | undefined> {
    const cached = await this.store.getMedia(serverName, mediaId);
    if (cached || !options.allowRemote) return cached;
    const key = `${serverName}/${mediaId}`;
    let inFlight = this.remoteInFlight.get(key);
    if (!inFlight) {
      inFlight = this.fetchRemote(serverName, mediaId, options.timeoutMs).finally(() =>
        this.remoteInFlight.delete(key),
      );
      this.remoteInFlight.set(key, inFlight);
    }
    return inFlight;
  }

  private async fetchRemote(serverName: string, mediaId: string, timeoutMs: number): Promise<MediaRecord> {
    const signal = AbortSignal.timeout(Math.max(timeoutMs, 1));
    const remote = await this.remote.fetch(serverName, mediaId, { signal });
    const blob = await this.writeBlob(remote.content, this.settings.maxUploadSize, 502);
    try {
      await this.store.insertMedia({
        origin: serverName,
        mediaId,
        mediaType: normaliseMediaType(remote.mediaType),
        length: blob.size,
        uploadName: remote.uploadName,
        contentHash: blob.key,
        createdTs: this.now(),
        authenticated: this.settings.enableAuthenticatedMedia,
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err; // another process cached it first
    }
    const record = await this.store.getMedia(serverName, mediaId);
    if (!record) throw notFound();
    return record;
  }

  /** Waits for an async upload to arrive (in-process wake-up, polling for other processes). */
  private async waitForUpload(record: MediaRecord, timeoutMs: number): Promise<MediaRecord | undefined> {
    const deadline = this.now() + Math.min(Math.max(timeoutMs, 0), MAX_TIMEOUT_MS);
    const event = `${record.origin}/${record.mediaId}`;
    let current: MediaRecord | undefined = record;
    while (current && current.contentHash === undefined && this.now() < deadline) {
      if (this.shutdownSignal?.aborted) break;
      const wait = Math.min(PENDING_POLL_MS, deadline - this.now());
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.uploaded.off(event, done);
          resolve();
        };
        const timer = setTimeout(done, wait);
        this.uploaded.once(event, done);
      });
      current = await this.store.getMedia(record.origin, record.mediaId);
    }
    return current;
  }
}

export const notFound = (): MatrixError => new MatrixError(404, 'M_NOT_FOUND', 'Not found');

function uploadTooLarge(max: number): MatrixError {
  return new MatrixError(413, 'M_TOO_LARGE', `Upload is larger than the ${max} bytes allowed`);
}

/** The declared Content-Type, lower-cased main type kept with its parameters; octet-stream when absent. */
export function normaliseMediaType(type: string | undefined): string {
  const trimmed = type?.trim();
  // Printable ASCII only: the value is echoed in a response header.
  if (!trimmed || !/^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(;[\x20-\x7e]*)?$/.test(trimmed)) {
    return 'application/octet-stream';
  }
  return trimmed.length > 255 ? 'application/octet-stream' : trimmed;
}
