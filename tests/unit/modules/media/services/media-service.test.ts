import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { Knex } from 'knex';
import { createLogger } from '../../../../../core/logger.js';
import { NOT_SPAM } from '../../../../../core/plugins/api.js';
import { SpamCheckerRegistry } from '../../../../../core/plugins/registry/spam-checker.js';
import { mediaSettings, type MediaSettings } from '../../../../../modules/media/config.js';
import { MediaService } from '../../../../../modules/media/services/media-service.js';
import { UnavailableRemoteMediaFetcher } from '../../../../../modules/media/services/remote-media-fetcher.js';
import { RetentionSweeper } from '../../../../../modules/media/services/retention-sweeper.js';
import { LocalFileBackend } from '../../../../../modules/media/backends/local-file-backend.js';
import { MediaStore } from '../../../../../modules/media/store/media-store.js';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';
import { mediaDatabase } from '../store/media-db.js';

const DAY = 86_400_000;
const logger = createLogger('silent');

async function* bytes(text: string): AsyncIterable<Uint8Array> {
  yield Buffer.from(text);
}

interface Harness {
  service: MediaService;
  storage: LocalFileBackend;
  spamCheckers: SpamCheckerRegistry;
  clock: { now: number };
}

async function harness(t: Test, db: Knex, overrides: Partial<MediaSettings> = {}): Promise<Harness> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-media-svc-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const storage = new LocalFileBackend(dir);
  const spamCheckers = new SpamCheckerRegistry({ logger });
  const clock = { now: 10 * DAY };
  const settings = { ...mediaSettings({ media_retention: {}, ...defaults } as never, dir), ...overrides };
  const service = new MediaService(
    {
      serverName: 'hs',
      logger,
      spamCheckers,
      mediaStore: new MediaStore({ db }),
      mediaStorage: storage,
      mediaSettings: settings,
      remoteMediaFetcher: new UnavailableRemoteMediaFetcher(),
    },
    () => clock.now,
  );
  return { service, storage, spamCheckers, clock };
}

const defaults = {
  max_upload_size: '50M',
  max_image_pixels: '32M',
  dynamic_thumbnails: false,
  thumbnail_sizes: [],
  enable_authenticated_media: true,
  max_pending_media_uploads: 2,
  unused_expiration_time: '24h',
  media_upload_limits: [],
};

const lookup = { legacy: false, allowRemote: true, timeoutMs: 0 };

void t.test('media service', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await mediaDatabase(t, database);

    await t.test(
      'retention removes media unused for longer than the lifetime, and their blobs',
      async (t) => {
        const h = await harness(t, db, { localMediaLifetimeMs: 30 * DAY });
        const old = await h.service.upload({
          userId: '@a:hs',
          mediaType: 'text/plain',
          uploadName: undefined,
          content: bytes('old'),
        });
        const oldHash = (await h.service.find('hs', old.mediaId, lookup)).contentHash;
        h.clock.now += 20 * DAY;
        const fresh = await h.service.upload({
          userId: '@a:hs',
          mediaType: 'text/plain',
          uploadName: undefined,
          content: bytes('fresh'),
        });
        h.clock.now += 11 * DAY;
        const sweeper = new RetentionSweeper({ mediaService: h.service, logger });
        await sweeper.runOnce();
        await t.rejects(h.service.find('hs', old.mediaId, lookup), { name: 'MatrixError', status: 404 });
        t.equal(await h.storage.size(oldHash), undefined, 'blob removed');
        t.ok(await h.service.find('hs', fresh.mediaId, lookup), 'recent media kept');
      },
    );

    await t.test('without a lifetime nothing is removed', async (t) => {
      const h = await harness(t, db);
      const up = await h.service.upload({
        userId: '@a:hs',
        mediaType: 'text/plain',
        uploadName: undefined,
        content: bytes('keep'),
      });
      h.clock.now += 3650 * DAY;
      await h.service.sweep();
      t.ok(await h.service.find('hs', up.mediaId, lookup));
    });

    await t.test('a blob shared by two items survives the deletion of one', async (t) => {
      const h = await harness(t, db);
      const a = await h.service.upload({
        userId: '@a:hs',
        mediaType: 'text/plain',
        uploadName: undefined,
        content: bytes('shared'),
      });
      const b = await h.service.upload({
        userId: '@b:hs',
        mediaType: 'text/plain',
        uploadName: undefined,
        content: bytes('shared'),
      });
      const hash = (await h.service.find('hs', a.mediaId, lookup)).contentHash;
      await h.service.delete('hs', a.mediaId);
      t.equal(await h.storage.size(hash), 6);
      t.equal((await h.service.find('hs', b.mediaId, lookup)).contentHash, hash);
      await h.service.delete('hs', b.mediaId);
      t.equal(await h.storage.size(hash), undefined);
    });

    await t.test('abandoned async uploads expire and are swept', async (t) => {
      const h = await harness(t, db);
      const created = await h.service.create('@p:hs');
      t.equal(created.unusedExpiresAt, h.clock.now + DAY);
      const mediaId = created.contentUri.split('/').pop()!;
      await t.rejects(h.service.find('hs', mediaId, lookup), {
        name: 'MatrixError',
        status: 504,
        errcode: 'M_NOT_YET_UPLOADED',
      });
      h.clock.now += DAY + 1;
      await t.rejects(h.service.find('hs', mediaId, lookup), { name: 'MatrixError', status: 404 });
      t.ok((await h.service.sweep()) >= 1);
      await t.rejects(
        h.service.uploadTo('hs', mediaId, {
          userId: '@p:hs',
          mediaType: 'text/plain',
          uploadName: undefined,
          content: bytes('late'),
        }),
        { name: 'MatrixError', status: 404 },
      );
    });

    await t.test('pending uploads are limited per user', async (t) => {
      const h = await harness(t, db);
      await h.service.create('@q:hs');
      await h.service.create('@q:hs');
      await t.rejects(h.service.create('@q:hs'), {
        name: 'MatrixError',
        status: 429,
        errcode: 'M_LIMIT_EXCEEDED',
      });
      await h.service.create('@other:hs');
    });

    await t.test('media_upload_limits refuse uploads past the quota with 403', async (t) => {
      const h = await harness(t, db, { uploadLimits: [{ periodMs: DAY, maxBytes: 10 }] });
      await h.service.upload({
        userId: '@quota:hs',
        mediaType: 'text/plain',
        uploadName: undefined,
        content: bytes('123456'),
      });
      await t.rejects(
        h.service.upload({
          userId: '@quota:hs',
          mediaType: 'text/plain',
          uploadName: undefined,
          content: bytes('123456'),
        }),
        { name: 'MatrixError', status: 403, errcode: 'M_FORBIDDEN' },
      );
      h.clock.now += DAY + 1;
      await h.service.upload({
        userId: '@quota:hs',
        mediaType: 'text/plain',
        uploadName: undefined,
        content: bytes('123456'),
      });
    });

    await t.test('the spam checker sees the upload and its refusal is the error', async (t) => {
      const h = await harness(t, db);
      const seen: unknown[] = [];
      h.spamCheckers.add('test', {
        async checkMediaFileForSpam(file) {
          seen.push({ ...file, head: Buffer.from(file.head).toString() });
          return file.uploadName === 'bad.txt'
            ? { errcode: 'M_FORBIDDEN', error: 'Not this file' }
            : NOT_SPAM;
        },
      });
      await t.rejects(
        h.service.upload({
          userId: '@s:hs',
          mediaType: 'text/plain',
          uploadName: 'bad.txt',
          content: bytes('unique spam'),
        }),
        { name: 'MatrixError', status: 403, errcode: 'M_FORBIDDEN', message: 'Not this file' },
      );
      t.same(seen, [
        { userId: '@s:hs', mediaType: 'text/plain', size: 11, uploadName: 'bad.txt', head: 'unique spam' },
      ]);
      const { key } = await h.storage.write(bytes('unique spam'), { maxBytes: 100 });
      await h.storage.delete(key);
      await h.service.upload({
        userId: '@s:hs',
        mediaType: 'text/plain',
        uploadName: 'good.txt',
        content: bytes('fine'),
      });
    });

    await t.test('remote media is not found until federation provides a fetcher', async (t) => {
      const h = await harness(t, db);
      await t.rejects(h.service.find('other.example', 'abc', lookup), {
        name: 'MatrixError',
        status: 404,
        errcode: 'M_NOT_FOUND',
      });
    });
  });
});
