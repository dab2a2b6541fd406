/**
 * Reads one stream's position out of a /sync `next_batch` token for GET /keys/changes. The format is the sync
 * module's (`s<events>_<stream>.<pos>.<stream>.<pos>…`, modules/sync, documented as opaque to clients); a
 * stream missing from a token is at 0 there too.
 */
import { MatrixError } from '../../../core/errors.js';

export function streamPositionOf(token: string, stream: string): number {
  const m = /^s\d+(?:_(.*))?$/.exec(token);
  if (!m) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid sync token');
  const parts = m[1] ? m[1].split('.') : [];
  if (parts.length % 2 !== 0) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid sync token');
  for (let i = 0; i < parts.length; i += 2) {
    const pos = parts[i + 1] ?? '';
    if (!/^\d+$/.test(pos)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid sync token');
    if (parts[i] === stream) return Number(pos);
  }
  return 0;
}
