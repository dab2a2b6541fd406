import t from 'tap';
import { compileSchema, configAjv } from '../../../../core/validation.js';
import {
  acceptLanguageHeader,
  UrlPreviewConfigSchema,
  urlPreviewSettings,
} from '../../../../modules/url-previews/config.js';

void t.test('defaults follow Synapse: off, 10M spider size, English', async (t) => {
  const config: Record<string, unknown> = {};
  t.ok(compileSchema(UrlPreviewConfigSchema, configAjv)(config));
  t.equal(config['url_preview_enabled'], false);
  const settings = urlPreviewSettings(config as never);
  t.equal(settings.maxSpiderSize, 10 * 1024 * 1024);
  t.equal(settings.acceptLanguage, 'en');
  t.same(settings.ipBlacklist, []);
});

void t.test('Accept-Language weighs later languages less unless they carry a weight', async (t) => {
  t.equal(
    acceptLanguageHeader(['en-UK', 'en-US;q=0.9', 'fr', 'de']),
    'en-UK, en-US;q=0.9, fr;q=0.8, de;q=0.7',
  );
});

void t.test('the URL blacklist takes Synapse’s list-of-dicts shape', async (t) => {
  const validate = compileSchema(UrlPreviewConfigSchema, configAjv);
  t.ok(validate({ url_preview_url_blacklist: [{ netloc: '*.example.com', path: '/x' }] }));
  t.notOk(validate({ url_preview_url_blacklist: ['*.example.com'] }));
});
