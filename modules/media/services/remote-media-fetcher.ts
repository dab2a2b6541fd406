/**
 * Fetching another server's media: the one collaborator the media service needs from federation. Until the
 * federation module provides a real implementation (GET /_matrix/federation/v1/media/download/{mediaId} with
 * the server's signing key, registered as `remoteMediaFetcher`), other servers' media is simply not found.
 */
import { MatrixError } from '../../../core/errors.js';

export interface RemoteMedia {
  readonly content: AsyncIterable<Uint8Array>;
  /** The remote Content-Type; undefined when the origin sent none. */
  readonly mediaType: string | undefined;
  /** The file name from the remote Content-Disposition, if any. */
  readonly uploadName: string | undefined;
}

export interface RemoteMediaFetcher {
  /**
   * Downloads `mxc://serverName/mediaId` from its origin. Throws MatrixError 404 M_NOT_FOUND when the origin
   * does not have it, 502 when it cannot be reached; `signal` aborts after the caller's timeout.
   */
  fetch(serverName: string, mediaId: string, options: { signal: AbortSignal }): Promise<RemoteMedia>;
}

/** The default until federation exists: every remote media item is unknown. */
export class UnavailableRemoteMediaFetcher implements RemoteMediaFetcher {
  async fetch(serverName: string): Promise<RemoteMedia> {
    throw new MatrixError(404, 'M_NOT_FOUND', `Remote media from ${serverName} is not available`);
  }
}
