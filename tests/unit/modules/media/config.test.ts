import t from 'tap';
import { mediaSettings, MediaConfigSchema } from '../../../../modules/media/config.js';
import { compileSchema, configAjv } from '../../../../core/validation.js';

void t.test('defaults match Synapse', async (t) => {
  const config: Record<string, unknown> = {};
  t.ok(compileSchema(MediaConfigSchema, configAjv)(config));
  const settings = mediaSettings(config as never, '/store');
  t.equal(settings.maxUploadSize, 50 * 1024 * 1024);
  t.equal(settings.maxImagePixels, 32 * 1024 * 1024);
  t.equal(settings.dynamicThumbnails, false);
  t.equal(settings.enableAuthenticatedMedia, true);
  t.equal(settings.maxPendingUploads, 5);
  t.equal(settings.unusedExpirationMs, 86_400_000);
  t.equal(settings.localMediaLifetimeMs, undefined);
  t.same(settings.uploadLimits, []);
  t.same(
    settings.thumbnailSizes.map((s) => `${s.width}x${s.height} ${s.method}`),
    ['32x32 crop', '96x96 crop', '320x240 scale', '640x480 scale', '800x600 scale'],
  );
  t.equal(config['media_store_path'], 'media_store');
});

void t.test('retention and upload limits are parsed', async (t) => {
  const config: Record<string, unknown> = {
    media_retention: { local_media_lifetime: '90d', remote_media_lifetime: '14d' },
    media_upload_limits: [{ time_period: '1h', max_size: '100M' }],
  };
  t.ok(compileSchema(MediaConfigSchema, configAjv)(config));
  const settings = mediaSettings(config as never, '/store');
  t.equal(settings.localMediaLifetimeMs, 90 * 86_400_000);
  t.equal(settings.remoteMediaLifetimeMs, 14 * 86_400_000);
  t.same(settings.uploadLimits, [{ periodMs: 3_600_000, maxBytes: 100 * 1024 * 1024 }]);
});

void t.test('invalid sizes are config errors', async (t) => {
  t.notOk(compileSchema(MediaConfigSchema, configAjv)({ max_upload_size: 'lots' }));
});
