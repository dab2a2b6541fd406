/**
 * The one place errors become responses: a MatrixError renders as itself; anything else is a 500
 * `M_UNKNOWN` with no stack in the body (the stack goes to the log with the request id).
 */
import type { Next } from 'koa';
import { MatrixError } from '../errors.js';
import type { AxonContext } from './context.js';

export async function renderErrors(ctx: AxonContext, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    const matrix = toMatrixError(err);
    if (matrix.status >= 500) {
      ctx.state.logger.error({ err, requestId: ctx.state.requestId }, 'request failed');
    }
    ctx.status = matrix.status;
    ctx.body = matrix.toJSON();
    const retryAfter = matrix.extra['retry_after_ms'];
    if (typeof retryAfter === 'number') ctx.set('Retry-After', String(Math.ceil(retryAfter / 1000)));
  }
}

/**
 * PostgreSQL refuses text it cannot store: U+0000 (22021 character_not_in_repertoire) or, in jsonb, the
 * escape `\u0000` (22P05 untranslatable_character). A client's U+0000 in a string that ends up in a text
 * column is the client's error, whichever module's column it reaches; the statement failed, so nothing
 * was written (on SQLite the same value is stored).
 */
const UNSTORABLE_TEXT = new Set(['22021', '22P05']);

export function toMatrixError(err: unknown): MatrixError {
  if (err instanceof MatrixError) return err;
  const e = err as { status?: unknown; type?: unknown; expose?: unknown; message?: unknown; code?: unknown };
  if (typeof e?.code === 'string' && UNSTORABLE_TEXT.has(e.code)) {
    return new MatrixError(400, 'M_INVALID_PARAM', 'A value contains U+0000, which cannot be stored');
  }
  // Errors from raw-body and koa carry an HTTP status; map the ones a client can cause.
  if (e && typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
    if (e.status === 413) return new MatrixError(413, 'M_TOO_LARGE', 'Request body too large');
    if (e.type === 'encoding.unsupported' || e.status === 415) {
      return new MatrixError(400, 'M_NOT_JSON', 'Unsupported content encoding');
    }
    if (e.type === 'request.aborted') return new MatrixError(400, 'M_UNKNOWN', 'Request aborted');
    return new MatrixError(e.status, 'M_UNKNOWN', typeof e.message === 'string' ? e.message : 'Bad request');
  }
  return new MatrixError(500, 'M_UNKNOWN', 'Internal server error');
}
