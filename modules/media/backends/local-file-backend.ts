/**
 * Blobs as files under `<root>/content/ab/cd/<sha256>`. A write goes to `<root>/tmp/` first, is fsynced,
 * then renamed into place (and the directory fsynced), so a reader sees the whole file or nothing.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  assertBlobKey,
  BlobTooLargeError,
  type BlobWriteResult,
  type ByteRange,
  type MediaStorageBackend,
} from './storage-backend.js';

export class LocalFileBackend implements MediaStorageBackend {
  private readonly tmpDir: string;
  private readonly contentDir: string;

  constructor(readonly root: string) {
    this.tmpDir = join(root, 'tmp');
    this.contentDir = join(root, 'content');
  }

  pathOf(key: string): string {
    assertBlobKey(key);
    return join(this.contentDir, key.slice(0, 2), key.slice(2, 4), key);
  }

  async write(
    source: AsyncIterable<Uint8Array>,
    { maxBytes }: { maxBytes: number },
  ): Promise<BlobWriteResult> {
    await mkdir(this.tmpDir, { recursive: true });
    const tmp = join(this.tmpDir, `${Date.now()}-${randomBytes(8).toString('hex')}`);
    const file = await open(tmp, 'wx');
    const hash = createHash('sha256');
    let size = 0;
    let committed = false;
    try {
      for await (const chunk of source) {
        size += chunk.byteLength;
        if (size > maxBytes) throw new BlobTooLargeError(maxBytes);
        hash.update(chunk);
        await file.write(chunk);
      }
      await file.sync();
      await file.close();
      const key = hash.digest('hex');
      const target = this.pathOf(key);
      await mkdir(join(target, '..'), { recursive: true });
      // Same content already stored: keep the existing file (dedup) and drop ours.
      if ((await this.size(key)) === size) await unlink(tmp);
      else await rename(tmp, target);
      committed = true;
      await syncDirectory(join(target, '..'));
      return { key, size };
    } finally {
      if (!committed) {
        await file.close().catch(() => undefined);
        await rm(tmp, { force: true });
      }
    }
  }

  async read(key: string, range?: ByteRange): Promise<Readable | undefined> {
    const path = this.pathOf(key);
    if ((await this.size(key)) === undefined) return undefined;
    return createReadStream(path, range ? { start: range.start, end: range.end } : {});
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const s = await stat(this.pathOf(key));
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}

/** fsync a directory so the rename itself survives a crash (POSIX; a no-op where unsupported). */
async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Some platforms cannot open or fsync a directory; the file itself is already synced.
  } finally {
    await handle?.close();
  }
}
