/**
 * Where media bytes live. Blobs are content-addressed by their SHA-256 (hex), so identical uploads share one
 * blob and a half-written blob never has a key. The local-file backend is the default; an S3-style backend
 * implements the same four calls.
 */
import type { Readable } from 'node:stream';

export interface BlobWriteResult {
  /** Lower-case hex SHA-256 of the content: the blob's key. */
  readonly key: string;
  readonly size: number;
}

/** An inclusive byte range, as HTTP Range uses. */
export interface ByteRange {
  readonly start: number;
  readonly end: number;
}

export interface MediaStorageBackend {
  /**
   * Streams `source` into the store and resolves once the blob is durable. Past `maxBytes` it stops reading,
   * leaves nothing behind and throws `BlobTooLargeError`.
   */
  write(source: AsyncIterable<Uint8Array>, options: { readonly maxBytes: number }): Promise<BlobWriteResult>;
  /** The blob's bytes (or the given range of them); undefined when no such blob exists. */
  read(key: string, range?: ByteRange): Promise<Readable | undefined>;
  /** The blob's size in bytes; undefined when no such blob exists. */
  size(key: string): Promise<number | undefined>;
  /** Removes the blob; a missing blob is not an error. */
  delete(key: string): Promise<void>;
}

export class BlobTooLargeError extends Error {
  constructor(readonly maxBytes: number) {
    super(`content exceeds ${maxBytes} bytes`);
    this.name = 'BlobTooLargeError';
  }
}

const KEY = /^[0-9a-f]{64}$/;

/** Keys are checked before they touch a path or an object name. */
export function assertBlobKey(key: string): void {
  if (!KEY.test(key)) throw new Error(`invalid blob key: ${key}`);
}
