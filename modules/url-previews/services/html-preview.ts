/**
 * OpenGraph from an HTML page with a real parser (htmlparser2): every `og:*` meta tag (by `property` or
 * `name`), then the fallbacks Synapse uses when a page has none — `<title>`, the meta description, the
 * first `<img>`. Image URLs are made absolute against the page's URL.
 */
import { Parser } from 'htmlparser2';

export type OpenGraph = Record<string, string | number>;

const MAX_VALUE_LENGTH = 1000;

export function parseHtmlPreview(html: string, pageUrl: URL): OpenGraph {
  const og: OpenGraph = {};
  let title = '';
  let inTitle = false;
  let titleDone = false;
  let description: string | undefined;
  let firstImage: string | undefined;
  let skipDepth = 0;

  const parser = new Parser(
    {
      onopentag(name, attrs) {
        if (name === 'script' || name === 'style' || name === 'noscript') skipDepth++;
        if (name === 'title' && !titleDone) inTitle = true;
        if (name === 'meta') {
          const key = (attrs['property'] ?? attrs['name'] ?? '').trim();
          const content = attrs['content'];
          if (content === undefined) return;
          if (key.startsWith('og:') && !(key in og)) og[key] = clip(content);
          if (key.toLowerCase() === 'description' && description === undefined) description = clip(content);
        }
        if (name === 'img' && firstImage === undefined && attrs['src'] && !attrs['src'].startsWith('data:')) {
          firstImage = attrs['src'];
        }
      },
      ontext(text) {
        if (inTitle && skipDepth === 0) title += text;
      },
      onclosetag(name) {
        if (name === 'script' || name === 'style' || name === 'noscript')
          skipDepth = Math.max(0, skipDepth - 1);
        if (name === 'title' && inTitle) {
          inTitle = false;
          titleDone = true;
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();

  const cleanTitle = title.replace(/\s+/g, ' ').trim();
  if (og['og:title'] === undefined && cleanTitle) og['og:title'] = clip(cleanTitle);
  if (og['og:description'] === undefined && description) og['og:description'] = description;
  if (og['og:image'] === undefined && firstImage) og['og:image'] = firstImage;
  const image = og['og:image'];
  if (typeof image === 'string') {
    const absolute = absoluteHttpUrl(image, pageUrl);
    if (absolute) og['og:image'] = absolute;
    else delete og['og:image'];
  }
  return og;
}

function clip(value: string): string {
  return value.length > MAX_VALUE_LENGTH ? `${value.slice(0, MAX_VALUE_LENGTH)}…` : value;
}

function absoluteHttpUrl(value: string, base: URL): string | undefined {
  try {
    const url = new URL(value.trim(), base);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The page's text: the charset from Content-Type, else from a `<meta charset>` or http-equiv in the first
 * kilobytes, else UTF-8. Unknown charset labels fall back to UTF-8.
 */
export function decodeHtml(body: Buffer, contentType: string | undefined): string {
  const fromHeader = /charset\s*=\s*"?([\w.:-]+)/i.exec(contentType ?? '')?.[1];
  const head = body.subarray(0, 4096).toString('latin1');
  const fromMeta =
    /<meta[^>]+charset\s*=\s*["']?([\w.:-]+)/i.exec(head)?.[1] ??
    /<meta[^>]+content\s*=\s*["'][^"']*charset=([\w.:-]+)/i.exec(head)?.[1];
  for (const label of [fromHeader, fromMeta, 'utf-8']) {
    if (!label) continue;
    try {
      return new TextDecoder(label).decode(body);
    } catch {
      // unknown label: try the next source
    }
  }
  return body.toString('utf8');
}
