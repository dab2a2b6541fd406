/**
 * The media module's homeserver.yaml keys, with Synapse's names, defaults and units: sizes such as `50M`
 * (1024-based, as Synapse's parse_size) and durations such as `24h` (as Synapse's parse_duration).
 */
import { Type, type Static } from '@sinclair/typebox';
import { DurationSchema, parseDuration, parseSize, SizeSchema } from '../../core/config/units.js';

export const ThumbnailSizeSchema = Type.Object({
  width: Type.Integer({ minimum: 1 }),
  height: Type.Integer({ minimum: 1 }),
  method: Type.Union([Type.Literal('crop'), Type.Literal('scale')]),
});

/** Synapse's default list, which is also the set the spec recommends. */
export const DEFAULT_THUMBNAIL_SIZES = [
  { width: 32, height: 32, method: 'crop' },
  { width: 96, height: 96, method: 'crop' },
  { width: 320, height: 240, method: 'scale' },
  { width: 640, height: 480, method: 'scale' },
  { width: 800, height: 600, method: 'scale' },
] as const;

export const MediaConfigSchema = Type.Object({
  media_store_path: Type.String({ minLength: 1, default: 'media_store' }),
  max_upload_size: Type.Union(SizeSchema.anyOf, { default: '50M' }),
  max_image_pixels: Type.Union(SizeSchema.anyOf, { default: '32M' }),
  dynamic_thumbnails: Type.Boolean({ default: false }),
  thumbnail_sizes: Type.Array(ThumbnailSizeSchema, {
    default: DEFAULT_THUMBNAIL_SIZES.map((s) => ({ ...s })),
  }),
  enable_authenticated_media: Type.Boolean({ default: true }),
  media_retention: Type.Object(
    {
      local_media_lifetime: Type.Optional(Type.Union([...DurationSchema.anyOf, Type.Null()])),
      remote_media_lifetime: Type.Optional(Type.Union([...DurationSchema.anyOf, Type.Null()])),
    },
    { default: {} },
  ),
  max_pending_media_uploads: Type.Integer({ minimum: 1, default: 5 }),
  unused_expiration_time: Type.Union(DurationSchema.anyOf, { default: '24h' }),
  media_upload_limits: Type.Array(Type.Object({ time_period: DurationSchema, max_size: SizeSchema }), {
    default: [],
  }),
});

export type MediaConfig = Static<typeof MediaConfigSchema>;

export interface ThumbnailSize {
  readonly width: number;
  readonly height: number;
  readonly method: 'crop' | 'scale';
}

/** The config in the units the code works in. */
export interface MediaSettings {
  readonly storePath: string;
  readonly maxUploadSize: number;
  readonly maxImagePixels: number;
  readonly dynamicThumbnails: boolean;
  readonly thumbnailSizes: readonly ThumbnailSize[];
  readonly enableAuthenticatedMedia: boolean;
  readonly localMediaLifetimeMs: number | undefined;
  readonly remoteMediaLifetimeMs: number | undefined;
  readonly maxPendingUploads: number;
  readonly unusedExpirationMs: number;
  readonly uploadLimits: readonly { readonly periodMs: number; readonly maxBytes: number }[];
}

export function mediaSettings(config: MediaConfig, storePath: string): MediaSettings {
  const lifetime = (v: number | string | null | undefined): number | undefined =>
    v === null || v === undefined ? undefined : parseDuration(v);
  return {
    storePath,
    maxUploadSize: parseSize(config.max_upload_size),
    maxImagePixels: parseSize(config.max_image_pixels),
    dynamicThumbnails: config.dynamic_thumbnails,
    thumbnailSizes: config.thumbnail_sizes,
    enableAuthenticatedMedia: config.enable_authenticated_media,
    localMediaLifetimeMs: lifetime(config.media_retention.local_media_lifetime),
    remoteMediaLifetimeMs: lifetime(config.media_retention.remote_media_lifetime),
    maxPendingUploads: config.max_pending_media_uploads,
    unusedExpirationMs: parseDuration(config.unused_expiration_time),
    uploadLimits: config.media_upload_limits.map((l) => ({
      periodMs: parseDuration(l.time_period),
      maxBytes: parseSize(l.max_size),
    })),
  };
}
