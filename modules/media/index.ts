import { isAbsolute, resolve } from 'node:path';
import { asClass, asFunction, asValue } from 'awilix';
import { defineModule } from '../../core/define-module.js';
import type { MediaApi } from './api.js';
import { MediaConfigSchema, mediaSettings, type MediaSettings } from './config.js';
import { adminRoutes } from './routes/admin.routes.js';
import { downloadRoutes } from './routes/download.routes.js';
import { uploadRoutes } from './routes/upload.routes.js';
import { MediaService } from './services/media-service.js';
import { UnavailableRemoteMediaFetcher, type RemoteMediaFetcher } from './services/remote-media-fetcher.js';
import { RetentionSweeper } from './services/retention-sweeper.js';
import { ThumbnailService } from './services/thumbnail-service.js';
import { LocalFileBackend } from './backends/local-file-backend.js';
import type { MediaStorageBackend } from './backends/storage-backend.js';
import { mediaMigrations } from './store/migrations/20261123130000_media_tables.js';
import { MediaStore } from './store/media-store.js';

declare module '../../core/container.js' {
  interface Cradle {
    mediaSettings: MediaSettings;
    mediaStorage: MediaStorageBackend;
    mediaStore: MediaStore;
    /** Replaced by the federation module once it exists; the default finds no remote media. */
    remoteMediaFetcher: RemoteMediaFetcher;
    mediaService: MediaService;
    thumbnailService: ThumbnailService;
    mediaRetention: RetentionSweeper;
    mediaApi: MediaApi;
  }
}

/** The content repository: uploads, downloads, thumbnails, media admin and retention. */
export default defineModule({
  name: 'media',
  description: 'Content repository: upload, download, thumbnails (/_matrix/media, /_matrix/client/v1/media)',
  enabledByDefault: true,
  config: MediaConfigSchema,
  migrations: mediaMigrations,
  register({ container, config }) {
    const path = config.media_store_path;
    const storePath = isAbsolute(path) ? path : resolve(container.cradle.configDir, path);
    const settings = mediaSettings(config, storePath);
    container.register({
      mediaSettings: asValue(settings),
      mediaStorage: asValue(new LocalFileBackend(settings.storePath)),
      mediaStore: asClass(MediaStore).singleton(),
      remoteMediaFetcher: asClass(UnavailableRemoteMediaFetcher).singleton(),
      mediaService: asClass(MediaService).singleton(),
      thumbnailService: asClass(ThumbnailService).singleton(),
      mediaRetention: asClass(RetentionSweeper).singleton(),
      mediaApi: asFunction(({ mediaService }: { mediaService: MediaService }) => mediaService).singleton(),
    });
  },
  routes(router, { cradle }) {
    uploadRoutes(router, cradle);
    downloadRoutes(router, cradle);
    adminRoutes(router, cradle);
  },
  async start(cradle) {
    cradle.mediaRetention.start();
  },
  async stop(cradle) {
    await cradle.mediaRetention.stop();
  },
});
