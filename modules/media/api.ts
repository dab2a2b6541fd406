/** What other modules may use of the media module (registered as `mediaApi`). */
export type { RemoteMedia, RemoteMediaFetcher } from './services/remote-media-fetcher.js';
export { mxcUri, parseMxcUri } from './ids.js';

export interface MediaApi {
  /**
   * Stores server-fetched bytes (a URL preview's image) as a new local media item owned by `userId`.
   * Throws MatrixError 413 M_TOO_LARGE past `maxBytes` (default max_upload_size), leaving nothing stored.
   */
  storeLocal(input: {
    userId: string;
    mediaType: string;
    uploadName?: string | undefined;
    content: AsyncIterable<Uint8Array>;
    maxBytes?: number;
  }): Promise<{ mediaId: string; contentUri: string; size: number }>;
  /** Width and height of a stored local image, read from its header; undefined if it is not an image. */
  imageInfo(mediaId: string): Promise<{ width: number; height: number } | undefined>;
}
