/** The url-previews keys of homeserver.yaml, with Synapse's names and defaults (previews are off). */
import { Type, type Static } from '@sinclair/typebox';
import { parseSize, SizeSchema } from '../../core/config/units.js';
import { DEFAULT_IP_RANGE_BLACKLIST } from '../../core/http/ip-range-filter.js';

/** The ranges homeserver.yaml.example recommends blacklisting (Synapse's documented list). */
export const RECOMMENDED_IP_RANGE_BLACKLIST: readonly string[] = DEFAULT_IP_RANGE_BLACKLIST;

export const UrlPreviewConfigSchema = Type.Object({
  url_preview_enabled: Type.Boolean({ default: false }),
  url_preview_ip_range_blacklist: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  url_preview_ip_range_whitelist: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  url_preview_url_blacklist: Type.Array(Type.Record(Type.String(), Type.String()), { default: [] }),
  max_spider_size: Type.Union(SizeSchema.anyOf, { default: '10M' }),
  url_preview_accept_language: Type.Array(Type.String({ minLength: 1 }), { default: ['en'] }),
});

export type UrlPreviewConfig = Static<typeof UrlPreviewConfigSchema>;

export interface UrlPreviewSettings {
  readonly ipBlacklist: readonly string[];
  readonly ipWhitelist: readonly string[];
  readonly urlBlacklist: readonly Readonly<Record<string, string>>[];
  readonly maxSpiderSize: number;
  /** The Accept-Language header value built from url_preview_accept_language. */
  readonly acceptLanguage: string;
}

export function urlPreviewSettings(config: UrlPreviewConfig): UrlPreviewSettings {
  return {
    ipBlacklist: config.url_preview_ip_range_blacklist ?? [],
    ipWhitelist: config.url_preview_ip_range_whitelist,
    urlBlacklist: config.url_preview_url_blacklist,
    maxSpiderSize: parseSize(config.max_spider_size),
    acceptLanguage: acceptLanguageHeader(config.url_preview_accept_language),
  };
}

/** `['en-UK', 'en-US;q=0.9', 'fr']` → `en-UK, en-US;q=0.9, fr;q=0.8`: later entries weigh less unless weighted. */
export function acceptLanguageHeader(languages: readonly string[]): string {
  return languages
    .map((lang, i) =>
      lang.includes(';') || i === 0 ? lang : `${lang};q=${Math.max(0.1, 1 - i * 0.1).toFixed(1)}`,
    )
    .join(', ');
}
