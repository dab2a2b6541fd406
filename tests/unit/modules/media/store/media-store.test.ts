import t from 'tap';
import { withAllDatabases } from '../../../../helpers/with-all-databases.js';
import { MediaStore } from '../../../../../modules/media/store/media-store.js';
import { mediaDatabase } from './media-db.js';

const HASH_A = 'a'.repeat(64);
const HASH_B = 'b'.repeat(64);

void t.test('media store', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const db = await mediaDatabase(t, database);
    const store = new MediaStore({ db });

    await t.test('insert and read back an item', async (t) => {
      await store.insertMedia({
        origin: 'hs',
        mediaId: 'm1',
        mediaType: 'image/png',
        length: 10,
        uploadName: 'x.png',
        userId: '@a:hs',
        contentHash: HASH_A,
        createdTs: 1000,
        authenticated: true,
      });
      const record = await store.getMedia('hs', 'm1');
      t.same(record, {
        origin: 'hs',
        mediaId: 'm1',
        mediaType: 'image/png',
        length: 10,
        uploadName: 'x.png',
        userId: '@a:hs',
        contentHash: HASH_A,
        createdTs: 1000,
        lastAccessTs: 1000,
        unusedExpiresAt: undefined,
        quarantinedBy: undefined,
        authenticated: true,
      });
      t.equal(await store.getMedia('hs', 'nope'), undefined);
    });

    await t.test('a pending upload completes once', async (t) => {
      await store.insertMedia({
        origin: 'hs',
        mediaId: 'p1',
        userId: '@a:hs',
        createdTs: 1000,
        unusedExpiresAt: 5000,
        authenticated: true,
      });
      t.equal(await store.countPendingUploads('@a:hs', 2000), 1);
      t.equal(await store.countPendingUploads('@a:hs', 6000), 0, 'expired ones do not count');
      const content = { mediaType: 'text/plain', length: 3, uploadName: undefined, contentHash: HASH_B };
      t.equal(await store.completeUpload('hs', 'p1', content), true);
      t.equal(await store.completeUpload('hs', 'p1', content), false);
      t.equal((await store.getMedia('hs', 'p1'))?.contentHash, HASH_B);
    });

    await t.test('uploaded bytes in a window', async (t) => {
      t.equal(await store.uploadedBytesSince('@a:hs', 0), 13);
      t.equal(await store.uploadedBytesSince('@a:hs', 1001), 0);
      t.equal(await store.uploadedBytesSince('@b:hs', 0), 0);
    });

    await t.test('thumbnails are recorded once per key', async (t) => {
      const key = { width: 32, height: 32, method: 'crop' as const, animated: false };
      const thumb = { ...key, mediaType: 'image/png', contentHash: HASH_B, length: 5 };
      await store.insertThumbnail('hs', 'm1', thumb, 2000);
      await store.insertThumbnail('hs', 'm1', { ...thumb, length: 6 }, 2001);
      t.same(await store.getThumbnail('hs', 'm1', key), thumb);
      t.equal(await store.getThumbnail('hs', 'm1', { ...key, animated: true }), undefined);
    });

    await t.test('quarantine marks and clears', async (t) => {
      t.equal(await store.setQuarantine('hs', 'm1', '@admin:hs'), true);
      t.equal((await store.getMedia('hs', 'm1'))?.quarantinedBy, '@admin:hs');
      await store.setQuarantine('hs', 'm1', null);
      t.equal((await store.getMedia('hs', 'm1'))?.quarantinedBy, undefined);
      t.equal(await store.setQuarantine('hs', 'missing', '@admin:hs'), false);
    });

    await t.test('deleting an item returns the blobs it and its thumbnails used', async (t) => {
      t.equal(await store.isBlobReferenced(HASH_B), true);
      t.same((await store.deleteMedia('hs', 'm1'))?.sort(), [HASH_A, HASH_B]);
      t.equal(await store.isBlobReferenced(HASH_A), false);
      t.equal(await store.isBlobReferenced(HASH_B), true, 'still used by p1');
      t.equal(await store.deleteMedia('hs', 'm1'), undefined);
    });

    await t.test('expiry lists old local, old remote and abandoned pending items', async (t) => {
      await store.insertMedia({
        origin: 'hs',
        mediaId: 'old',
        contentHash: HASH_A,
        length: 1,
        createdTs: 100,
        authenticated: false,
      });
      await store.insertMedia({
        origin: 'remote',
        mediaId: 'r',
        contentHash: HASH_A,
        length: 1,
        createdTs: 100,
        authenticated: false,
      });
      await store.insertMedia({
        origin: 'hs',
        mediaId: 'gone',
        userId: '@a:hs',
        createdTs: 100,
        unusedExpiresAt: 200,
        authenticated: false,
      });
      const ids = async (c: { localBefore?: number; remoteBefore?: number }) =>
        (await store.listExpired({ localOrigin: 'hs', now: 300, limit: 10, ...c }))
          .map((x) => x.mediaId)
          .sort();
      t.same(await ids({}), ['gone']);
      t.same(await ids({ localBefore: 500 }), ['gone', 'old']);
      t.same(await ids({ remoteBefore: 500 }), ['gone', 'r']);
      t.same(await ids({ localBefore: 50, remoteBefore: 50 }), ['gone']);
    });
  });
});
