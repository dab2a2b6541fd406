import sharp from 'sharp';
import t from 'tap';
import { withAllDatabases } from '../../../helpers/with-all-databases.js';
import { binary, makeImage, makeTestUser, startMediaServer, upload } from './media-helpers.js';

void t.test('thumbnails of real images', async (t) => {
  await withAllDatabases(t, async (t, database) => {
    const server = await startMediaServer(t, { database, config: { enable_authenticated_media: false } });
    const alice = await makeTestUser(server);
    const thumb = (id: string, query: string, legacy = false) =>
      legacy
        ? binary(server, `/_matrix/media/v3/thumbnail/test.local/${id}?${query}`)
        : binary(server, `/_matrix/client/v1/media/thumbnail/test.local/${id}?${query}`, alice.accessToken);

    for (const format of ['jpeg', 'png', 'gif', 'webp'] as const) {
      await t.test(`${format}: configured crop and scale sizes, on both APIs`, async (t) => {
        const up = await upload(server, alice, await makeImage(format, 1000, 500), {
          contentType: `image/${format}`,
        });
        const crop = await thumb(up.mediaId, 'width=32&height=32&method=crop');
        t.equal(crop.status, 200);
        const expectedType = format === 'jpeg' ? 'image/jpeg' : 'image/png';
        t.equal(crop.headers.get('content-type'), expectedType);
        t.equal(
          crop.headers.get('content-disposition'),
          `inline; filename="thumbnail.${expectedType.split('/')[1]}"`,
        );
        t.equal(crop.headers.get('x-content-type-options'), 'nosniff');
        const cropMeta = await sharp(crop.bytes).metadata();
        t.same([cropMeta.width, cropMeta.height], [32, 32]);
        const scale = await thumb(up.mediaId, 'width=300&height=200&method=scale', true);
        t.equal(scale.status, 200, 'legacy endpoint');
        const scaleMeta = await sharp(scale.bytes).metadata();
        t.same([scaleMeta.width, scaleMeta.height], [320, 160], 'the 320x240 scale size, aspect kept');
      });
    }

    await t.test('animated GIF and WebP stay animated only when asked', async (t) => {
      for (const format of ['gif', 'webp'] as const) {
        const up = await upload(server, alice, await makeImage(format, 200, 200, { frames: 4 }), {
          contentType: `image/${format}`,
        });
        const still = await thumb(up.mediaId, 'width=96&height=96&method=crop');
        t.equal(still.headers.get('content-type'), 'image/png');
        const moving = await thumb(up.mediaId, 'width=96&height=96&method=crop&animated=true');
        t.equal(moving.status, 200);
        t.equal(moving.headers.get('content-type'), 'image/webp');
        const meta = await sharp(moving.bytes, { animated: true }).metadata();
        t.equal(meta.pages, 4, `${format}: all frames`);
        t.same([meta.width, meta.pageHeight], [96, 96]);
      }
      const jpeg = await upload(server, alice, await makeImage('jpeg', 200, 200), {
        contentType: 'image/jpeg',
      });
      const res = await thumb(jpeg.mediaId, 'width=96&height=96&animated=true');
      t.equal(
        res.headers.get('content-type'),
        'image/jpeg',
        'animated=true on a still image is a still thumbnail',
      );
    });

    await t.test('an image smaller than the size is served as itself', async (t) => {
      const original = await makeImage('png', 20, 10);
      const up = await upload(server, alice, original, { contentType: 'image/png' });
      const res = await thumb(up.mediaId, 'width=640&height=480');
      t.equal(res.status, 200);
      t.same(res.bytes, original);
    });

    await t.test('generated once, then served from the cache', async (t) => {
      const up = await upload(server, alice, await makeImage('png', 900, 700), { contentType: 'image/png' });
      const first = await thumb(up.mediaId, 'width=640&height=480&method=scale');
      const second = await thumb(up.mediaId, 'width=600&height=400&method=scale');
      t.same(second.bytes, first.bytes);
      const rows = await server.kernel.db('media_thumbnails').where({ media_id: up.mediaId });
      t.equal(rows.length, 1);
    });

    await t.test('dynamic thumbnails use the requested size', async (t) => {
      const dyn = await startMediaServer(t, { database: undefined, config: { dynamic_thumbnails: true } });
      const bob = await makeTestUser(dyn);
      const up = await upload(dyn, bob, await makeImage('jpeg', 400, 400), { contentType: 'image/jpeg' });
      const res = await binary(
        dyn,
        `/_matrix/client/v1/media/thumbnail/test.local/${up.mediaId}?width=50&height=70&method=crop`,
        bob.accessToken,
      );
      const meta = await sharp(res.bytes).metadata();
      t.same([meta.width, meta.height], [50, 70]);
    });
  });
});
