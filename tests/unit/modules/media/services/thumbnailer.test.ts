import sharp from 'sharp';
import t from 'tap';
import { outputSize, Thumbnailer } from '../../../../../modules/media/services/thumbnailer.js';
import { selectThumbnailSize } from '../../../../../modules/media/services/thumbnail-service.js';
import { DEFAULT_THUMBNAIL_SIZES } from '../../../../../modules/media/config.js';
import { makeImage } from '../../../../integration/modules/media/media-helpers.js';

const thumbnailer = new Thumbnailer(32 * 1024 * 1024);

void t.test('scale fits inside the box keeping the aspect ratio', async (t) => {
  const png = await makeImage('png', 400, 200);
  const thumb = await thumbnailer.generate(
    png,
    'image/png',
    { width: 100, height: 100, method: 'scale' },
    { animated: false },
  );
  t.equal(thumb.mediaType, 'image/png');
  t.same([thumb.width, thumb.height], [100, 50]);
  const meta = await sharp(thumb.data).metadata();
  t.same([meta.format, meta.width, meta.height], ['png', 100, 50]);
});

void t.test('crop fills the box exactly', async (t) => {
  const jpeg = await makeImage('jpeg', 400, 200);
  const thumb = await thumbnailer.generate(
    jpeg,
    'image/jpeg',
    { width: 96, height: 96, method: 'crop' },
    { animated: false },
  );
  t.equal(thumb.mediaType, 'image/jpeg');
  t.same([thumb.width, thumb.height], [96, 96]);
});

void t.test('never upscales: a small source is cropped to the aspect at its own scale', async (t) => {
  t.same(outputSize({ width: 50, height: 40 }, { width: 100, height: 100, method: 'crop' }), {
    width: 40,
    height: 40,
  });
  t.same(outputSize({ width: 500, height: 400 }, { width: 100, height: 100, method: 'crop' }), {
    width: 100,
    height: 100,
  });
  const png = await makeImage('png', 50, 40);
  const scaled = await thumbnailer.generate(
    png,
    'image/png',
    { width: 800, height: 600, method: 'scale' },
    { animated: false },
  );
  t.same([scaled.width, scaled.height], [50, 40]);
  const cropped = await thumbnailer.generate(
    png,
    'image/png',
    { width: 100, height: 100, method: 'crop' },
    { animated: false },
  );
  t.same([cropped.width, cropped.height], [40, 40]);
});

void t.test('GIF and WebP give static PNG unless animation is asked for', async (t) => {
  for (const format of ['gif', 'webp'] as const) {
    const animated = await makeImage(format, 64, 64, { frames: 3 });
    const still = await thumbnailer.generate(
      animated,
      `image/${format}`,
      { width: 32, height: 32, method: 'scale' },
      { animated: false },
    );
    t.equal(still.mediaType, 'image/png', `${format} static`);
    t.equal((await sharp(still.data).metadata()).pages ?? 1, 1);
    const moving = await thumbnailer.generate(
      animated,
      `image/${format}`,
      { width: 32, height: 32, method: 'scale' },
      { animated: true },
    );
    t.equal(moving.mediaType, 'image/webp', `${format} animated`);
    t.equal(moving.animated, true);
    const meta = await sharp(moving.data, { animated: true }).metadata();
    t.equal(meta.pages, 3, `${format}: every frame kept`);
    t.equal(meta.pageHeight, 32);
  }
});

void t.test('images over max_image_pixels are refused from the header alone', async (t) => {
  const small = new Thumbnailer(100);
  const png = await makeImage('png', 20, 20);
  await t.rejects(
    small.generate(png, 'image/png', { width: 10, height: 10, method: 'scale' }, { animated: false }),
    {
      name: 'MatrixError',
      status: 413,
      errcode: 'M_TOO_LARGE',
    },
  );
});

void t.test('non-images and unsupported types answer 400', async (t) => {
  await t.rejects(
    thumbnailer.generate(
      Buffer.from('not an image'),
      'image/png',
      { width: 10, height: 10, method: 'scale' },
      { animated: false },
    ),
    { name: 'MatrixError', status: 400 },
  );
  await t.rejects(
    thumbnailer.generate(
      Buffer.from('%PDF'),
      'application/pdf',
      { width: 10, height: 10, method: 'scale' },
      { animated: false },
    ),
    { name: 'MatrixError', status: 400 },
  );
});

void t.test('configured size selection: smallest big enough, else largest', async (t) => {
  const sizes = DEFAULT_THUMBNAIL_SIZES;
  t.same(selectThumbnailSize(sizes, { width: 20, height: 20, method: 'crop' }), {
    width: 32,
    height: 32,
    method: 'crop',
  });
  t.same(selectThumbnailSize(sizes, { width: 64, height: 64, method: 'crop' }), {
    width: 96,
    height: 96,
    method: 'crop',
  });
  t.same(selectThumbnailSize(sizes, { width: 500, height: 500, method: 'crop' }), {
    width: 96,
    height: 96,
    method: 'crop',
  });
  t.same(selectThumbnailSize(sizes, { width: 300, height: 200, method: 'scale' }), {
    width: 320,
    height: 240,
    method: 'scale',
  });
  t.same(selectThumbnailSize(sizes, { width: 2000, height: 2000, method: 'scale' }), {
    width: 800,
    height: 600,
    method: 'scale',
  });
  t.same(
    selectThumbnailSize([{ width: 50, height: 50, method: 'scale' }], {
      width: 10,
      height: 10,
      method: 'crop',
    }),
    {
      width: 50,
      height: 50,
      method: 'crop',
    },
  );
});
