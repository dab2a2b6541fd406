/**
 * GET preview_url: check the URL, answer from the cache, or fetch the page through the SafeFetcher, read
 * its OpenGraph, and store its image in the media repository so `og:image` becomes an mxc:// URI.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { UrlPreviewSettings } from '../config.js';
import type { CachedOpenGraph, PreviewStore } from '../store/preview-store.js';
import type * as HtmlPreview from './html-preview.js';
import type { OpenGraph } from './html-preview.js';
import { urlBlocked, type SafeFetcher } from './safe-fetcher.js';
import { isUrlBlacklisted } from './url-blacklist.js';

/**
 * The HTML reader, imported on the first HTML page rather than at boot: htmlparser2 and its entity tables
 * cost ~7 MiB of resident memory that a server which never previews a page should not pay.
 */
let htmlPreview: Promise<typeof HtmlPreview> | undefined;

/** How long a fetched preview is answered from the cache (Synapse keeps them an hour). */
export const PREVIEW_CACHE_MS = 60 * 60 * 1000;

type Deps = Pick<Cradle, 'logger' | 'mediaApi' | 'previewStore' | 'safeFetcher' | 'urlPreviewSettings'>;

export class PreviewService {
  private readonly inFlight = new Map<string, Promise<OpenGraph>>();
  private readonly settings: UrlPreviewSettings;
  private readonly store: PreviewStore;
  private readonly fetcher: SafeFetcher;

  constructor(
    private readonly deps: Deps,
    private readonly now: () => number = Date.now,
  ) {
    this.settings = deps.urlPreviewSettings;
    this.store = deps.previewStore;
    this.fetcher = deps.safeFetcher;
  }

  async preview(rawUrl: string, ts: number | undefined, userId: string): Promise<CachedOpenGraph> {
    let url: URL;
    try {
      url = new URL(rawUrl);
    } catch {
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new MatrixError(400, 'M_UNKNOWN', 'Invalid URL scheme');
    }
    if (isUrlBlacklisted(url, this.settings.urlBlacklist)) throw urlBlocked();
    const key = url.href;
    const now = this.now();
    const cached = await this.store.get(key, ts ?? now, now);
    if (cached) return cached;
    let flight = this.inFlight.get(key);
    if (!flight) {
      flight = this.fetchPreview(url, userId).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, flight);
    }
    return flight;
  }

  private async fetchPreview(url: URL, userId: string): Promise<OpenGraph> {
    const page = await this.fetcher.fetch(url, {
      maxBytes: this.settings.maxSpiderSize,
      accept: 'text/html,application/xhtml+xml,image/*;q=0.9,*/*;q=0.8',
      acceptLanguage: this.settings.acceptLanguage,
    });
    const type = (page.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    let og: OpenGraph = {};
    if (type.startsWith('image/')) {
      og = await this.storeImage(page.body, type, page.url, userId);
    } else if (type === 'text/html' || type === 'application/xhtml+xml') {
      htmlPreview ??= import('./html-preview.js');
      const { decodeHtml, parseHtmlPreview } = await htmlPreview;
      og = parseHtmlPreview(decodeHtml(page.body, page.headers['content-type']), page.url);
      const image = og['og:image'];
      delete og['og:image'];
      if (typeof image === 'string') Object.assign(og, await this.fetchImage(new URL(image), userId));
    }
    const now = this.now();
    await this.store.deleteExpired(now); // the cache prunes itself as it grows
    await this.store.put(url.href, og, now, now + PREVIEW_CACHE_MS);
    return og;
  }

  /** The og:image fields for an image URL, or none when it cannot be fetched safely. */
  private async fetchImage(url: URL, userId: string): Promise<OpenGraph> {
    try {
      const image = await this.fetcher.fetch(url, {
        maxBytes: this.settings.maxSpiderSize,
        accept: 'image/*',
      });
      const type = (image.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
      if (!type.startsWith('image/')) return {};
      return await this.storeImage(image.body, type, image.url, userId);
    } catch (err) {
      this.deps.logger.info({ url: url.href, err: (err as Error).message }, 'preview image not fetched');
      return {};
    }
  }

  private async storeImage(body: Buffer, type: string, source: URL, userId: string): Promise<OpenGraph> {
    const name = decodeURIComponent(source.pathname.split('/').pop() ?? '') || undefined;
    const stored = await this.deps.mediaApi.storeLocal({
      userId,
      mediaType: type,
      uploadName: name,
      content: (async function* () {
        yield body;
      })(),
      maxBytes: this.settings.maxSpiderSize,
    });
    const og: OpenGraph = {
      'og:image': stored.contentUri,
      'og:image:type': type,
      'matrix:image:size': stored.size,
    };
    const info = await this.deps.mediaApi.imageInfo(stored.mediaId);
    if (info) {
      og['og:image:width'] = info.width;
      og['og:image:height'] = info.height;
    }
    return og;
  }
}
