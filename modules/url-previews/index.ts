import { asClass, asValue } from 'awilix';
import { defineModule } from '../../core/define-module.js';
import { BootError } from '../../core/errors.js';
import { UrlPreviewConfigSchema, urlPreviewSettings, type UrlPreviewSettings } from './config.js';
import { previewRoutes } from './routes/preview.routes.js';
import { IpRangeFilter } from '../../core/http/ip-range-filter.js';
import { PreviewService } from './services/preview-service.js';
import { SafeFetcher } from './services/safe-fetcher.js';
import { urlPreviewMigrations } from './store/migrations/20261123130000_url_previews_cache.js';
import { PreviewStore } from './store/preview-store.js';

declare module '../../core/container.js' {
  interface Cradle {
    urlPreviewSettings: UrlPreviewSettings;
    safeFetcher: SafeFetcher;
    previewStore: PreviewStore;
    previewService: PreviewService;
  }
}

/** URL previews (OpenGraph), off unless url_preview_enabled, fenced by IP and URL blacklists. */
export default defineModule({
  name: 'url-previews',
  description: 'GET /_matrix/client/v1/media/preview_url (when url_preview_enabled)',
  enabledByDefault: true,
  requires: ['media'],
  config: UrlPreviewConfigSchema,
  migrations: urlPreviewMigrations,
  register({ container, config }) {
    if (!config.url_preview_enabled) return;
    if (!config.url_preview_ip_range_blacklist) {
      // As Synapse: previews without a blacklist would let any user probe the server's own network.
      throw new BootError(
        'AXON_ERR_CONFIG_INVALID',
        'url_preview_enabled is true, so url_preview_ip_range_blacklist must be set ' +
          '(see homeserver.yaml.example for the recommended ranges)',
      );
    }
    const settings = urlPreviewSettings(config);
    let ipFilter: IpRangeFilter;
    try {
      ipFilter = new IpRangeFilter(settings.ipBlacklist, settings.ipWhitelist);
    } catch (err) {
      throw new BootError('AXON_ERR_CONFIG_INVALID', `url_preview_ip_range_*: ${(err as Error).message}`);
    }
    container.register({
      urlPreviewSettings: asValue(settings),
      safeFetcher: asValue(new SafeFetcher({ ipFilter, urlBlacklist: settings.urlBlacklist })),
      previewStore: asClass(PreviewStore).singleton(),
      previewService: asClass(PreviewService).singleton(),
    });
  },
  routes(router, { cradle, config }) {
    if (config.url_preview_enabled) previewRoutes(router, cradle);
  },
});
