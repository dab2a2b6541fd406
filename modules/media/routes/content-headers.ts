/**
 * The headers every served media response carries (content_repo.md "Serving inline content" and the
 * recommended Content-Security-Policy), and single-range parsing for HTTP Range requests.
 */

/** The spec's list of types that may be served `inline`; anything else is an `attachment`. */
export const INLINE_SAFE_TYPES: ReadonlySet<string> = new Set([
  'text/css',
  'text/plain',
  'text/csv',
  'application/json',
  'application/ld+json',
  'image/jpeg',
  'image/gif',
  'image/png',
  'image/apng',
  'image/webp',
  'image/avif',
  'video/mp4',
  'video/webm',
  'video/ogg',
  'video/quicktime',
  'audio/mp4',
  'audio/webm',
  'audio/aac',
  'audio/mpeg',
  'audio/ogg',
  'audio/wave',
  'audio/wav',
  'audio/x-wav',
  'audio/x-pn-wav',
  'audio/flac',
  'audio/x-flac',
]);

export const CONTENT_SECURITY_POLICY =
  "sandbox; default-src 'none'; script-src 'none'; plugin-types application/pdf; style-src 'unsafe-inline'; media-src 'self'; object-src 'self';";

export function baseMediaType(mediaType: string): string {
  return (mediaType.split(';')[0] ?? '').trim().toLowerCase();
}

/**
 * `inline` or `attachment` by the type, with the file name as RFC 6266 wants it: a plain quoted `filename`
 * for printable ASCII without quotes or backslashes, else `filename*=utf-8''` percent-encoding.
 */
export function contentDisposition(mediaType: string, fileName: string | undefined): string {
  const kind = INLINE_SAFE_TYPES.has(baseMediaType(mediaType)) ? 'inline' : 'attachment';
  if (fileName === undefined || fileName === '') return kind;
  if (/^[\x20-\x7e]*$/.test(fileName) && !/["\\]/.test(fileName)) return `${kind}; filename="${fileName}"`;
  return `${kind}; filename*=utf-8''${encodeRfc5987(fileName)}`;
}

/** RFC 5987 attr-char encoding: encodeURIComponent leaves a few characters RFC 5987 does not allow. */
function encodeRfc5987(value: string): string {
  return encodeURIComponent(value).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** The Content-Type sent: text gets an explicit charset so browsers do not sniff one. */
export function servedContentType(mediaType: string): string {
  if (/^text\//i.test(mediaType) && !/;\s*charset=/i.test(mediaType)) return `${mediaType}; charset=utf-8`;
  return mediaType;
}

export type RangeResult =
  | { readonly kind: 'full' }
  | { readonly kind: 'partial'; readonly start: number; readonly end: number }
  | { readonly kind: 'unsatisfiable' };

/**
 * One `bytes=` range against a resource of `size` bytes (RFC 9110 §14). Malformed headers and multiple
 * ranges are answered with the whole content, which the RFC permits.
 */
export function parseRange(header: string | undefined, size: number): RangeResult {
  if (!header) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return { kind: 'unsatisfiable' };
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return { kind: 'full' };
  return { kind: 'partial', start, end };
}
