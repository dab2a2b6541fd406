/**
 * Thumbnails: pick the size (a configured one, or the requested one with dynamic_thumbnails), then serve the
 * cached thumbnail or generate it once. A source that already fits the size is served as itself, as the
 * spec asks, recorded like a thumbnail so the next request needs no decoding.
 */
import type { Cradle } from '../../../core/container.js';
import type { ThumbnailSize } from '../config.js';
import type { ThumbnailRecord } from '../store/media-store.js';
import type { LookupOptions, ServableMedia } from './media-service.js';
import { cannotThumbnail, THUMBNAILABLE_TYPES, Thumbnailer, type ThumbnailMethod } from './thumbnailer.js';

export interface ThumbnailRequest {
  readonly width: number;
  readonly height: number;
  readonly method: ThumbnailMethod;
  readonly animated: boolean;
}

export interface ServableThumbnail {
  readonly contentHash: string;
  readonly length: number;
  readonly mediaType: string;
}

type Deps = Pick<Cradle, 'mediaService' | 'mediaStore' | 'mediaStorage' | 'mediaSettings'>;

export class ThumbnailService {
  private readonly thumbnailer: Thumbnailer;
  private readonly inFlight = new Map<string, Promise<ThumbnailRecord>>();

  constructor(
    private readonly deps: Deps,
    private readonly now: () => number = Date.now,
  ) {
    this.thumbnailer = new Thumbnailer(deps.mediaSettings.maxImagePixels);
  }

  async thumbnail(
    serverName: string,
    mediaId: string,
    request: ThumbnailRequest,
    lookup: LookupOptions,
  ): Promise<ServableThumbnail> {
    const source = await this.deps.mediaService.find(serverName, mediaId, lookup);
    if (!THUMBNAILABLE_TYPES.has(baseType(source.mediaType))) throw cannotThumbnail();
    const settings = this.deps.mediaSettings;
    const size =
      settings.dynamicThumbnails || settings.thumbnailSizes.length === 0
        ? request
        : selectThumbnailSize(settings.thumbnailSizes, request);
    const key = {
      width: size.width,
      height: size.height,
      method: request.method,
      animated: request.animated,
    };
    const cached = await this.deps.mediaStore.getThumbnail(source.origin, source.mediaId, key);
    if (cached && (await this.deps.mediaStorage.size(cached.contentHash)) !== undefined) return cached;
    const flightKey = `${source.origin}/${source.mediaId}/${key.width}x${key.height}/${key.method}/${key.animated}`;
    let flight = this.inFlight.get(flightKey);
    if (!flight) {
      flight = this.generate(source, key).finally(() => this.inFlight.delete(flightKey));
      this.inFlight.set(flightKey, flight);
    }
    return flight;
  }

  private async generate(
    source: ServableMedia,
    key: { width: number; height: number; method: ThumbnailMethod; animated: boolean },
  ): Promise<ThumbnailRecord> {
    const data = await readAll(await this.deps.mediaService.open(source.contentHash));
    const sourceType = baseType(source.mediaType);
    const info = await this.thumbnailer.probe(data);
    if (!info) throw cannotThumbnail();
    this.thumbnailer.assertWithinPixelLimit(info);
    let record: ThumbnailRecord;
    const fits = info.width <= key.width && info.height <= key.height;
    if (fits && (info.frames === 1 || key.animated)) {
      record = { ...key, mediaType: sourceType, contentHash: source.contentHash, length: source.length };
    } else {
      const thumb = await this.thumbnailer.generate(data, sourceType, key, { animated: key.animated });
      const blob = await this.deps.mediaStorage.write(
        (async function* () {
          yield thumb.data;
        })(),
        { maxBytes: Number.MAX_SAFE_INTEGER },
      );
      record = { ...key, mediaType: thumb.mediaType, contentHash: blob.key, length: blob.size };
    }
    await this.deps.mediaStore.insertThumbnail(source.origin, source.mediaId, record, this.now());
    return record;
  }
}

/**
 * The configured size to use (Synapse's choice): among sizes of the requested method (any method if none),
 * the smallest that is at least as large as asked in both dimensions, else the largest.
 */
export function selectThumbnailSize(
  sizes: readonly ThumbnailSize[],
  request: { width: number; height: number; method: ThumbnailMethod },
): ThumbnailSize {
  const sameMethod = sizes.filter((s) => s.method === request.method);
  const pool = sameMethod.length > 0 ? sameMethod : sizes;
  const area = (s: ThumbnailSize): number => s.width * s.height;
  const bigEnough = pool.filter((s) => s.width >= request.width && s.height >= request.height);
  const candidates = bigEnough.length > 0 ? bigEnough : pool;
  const pick = bigEnough.length > 0 ? Math.min : Math.max;
  const best = pick(...candidates.map(area));
  const chosen = candidates.find((s) => area(s) === best);
  if (!chosen) throw new Error('no thumbnail sizes configured');
  return { ...chosen, method: request.method };
}

function baseType(mediaType: string): string {
  return (mediaType.split(';')[0] ?? '').trim().toLowerCase();
}

async function readAll(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}
