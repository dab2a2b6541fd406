/** Writes media bytes to the response with the security headers and Range support every endpoint shares. */
import type { Readable } from 'node:stream';
import { MatrixError } from '../../../core/errors.js';
import type { AxonContext } from '../../../core/http/context.js';
import type { ByteRange } from '../backends/storage-backend.js';
import { CONTENT_SECURITY_POLICY, parseRange, servedContentType } from './content-headers.js';

export interface Content {
  readonly length: number;
  readonly mediaType: string;
  readonly disposition: string;
  open(range?: ByteRange): Promise<Readable>;
}

export async function sendContent(ctx: AxonContext, content: Content): Promise<void> {
  ctx.set('Content-Security-Policy', CONTENT_SECURITY_POLICY);
  ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Content-Disposition', content.disposition);
  ctx.set('Accept-Ranges', 'bytes');
  // mxc content never changes, so caches may keep it (Synapse sends the same).
  ctx.set('Cache-Control', 'public,max-age=86400,s-maxage=86400');
  const range = parseRange(ctx.get('range') || undefined, content.length);
  if (range.kind === 'unsatisfiable') {
    ctx.set('Content-Range', `bytes */${content.length}`);
    throw new MatrixError(416, 'M_UNKNOWN', 'Requested range not satisfiable');
  }
  const stream =
    range.kind === 'partial'
      ? await content.open({ start: range.start, end: range.end })
      : await content.open();
  if (range.kind === 'partial') {
    ctx.status = 206;
    ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${content.length}`);
    ctx.body = stream;
    ctx.length = range.end - range.start + 1;
  } else {
    ctx.status = 200;
    ctx.body = stream;
    ctx.length = content.length;
  }
  // Set after the body (which would default it) and verbatim (koa's ctx.type would rewrite it).
  ctx.set('Content-Type', servedContentType(content.mediaType));
}
