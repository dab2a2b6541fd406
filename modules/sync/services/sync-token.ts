/**
 * The `next_batch` / `since` token: `s<events>_<stream>.<pos>.<stream>.<pos>…`. It is opaque to clients; the
 * `s<events>` prefix is what the rooms module's pagination accepts, so a sync token also works as `from` for
 * /messages. Positions come from the database, so a token survives a restart and is valid on every process
 * sharing the database. A stream missing from a token is at 0 (a module enabled since the token was made).
 */
import { MatrixError } from '../../../core/errors.js';

export interface SyncToken {
  readonly events: number;
  /** Position per feed stream (`account_data`, `to_device`, `typing`, …). */
  readonly streams: Readonly<Record<string, number>>;
}

const STREAM_NAME = /^[a-z][a-z0-9_]*$/;

export function formatSyncToken(token: SyncToken): string {
  const parts = Object.entries(token.streams)
    .filter(([name]) => STREAM_NAME.test(name))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .flatMap(([name, pos]) => [name, String(pos)]);
  return parts.length > 0 ? `s${token.events}_${parts.join('.')}` : `s${token.events}`;
}

export function parseSyncToken(text: string): SyncToken {
  const m = /^s(\d+)(?:_(.*))?$/.exec(text);
  if (!m?.[1]) throw invalid();
  const streams: Record<string, number> = {};
  if (m[2]) {
    const parts = m[2].split('.');
    if (parts.length % 2 !== 0) throw invalid();
    for (let i = 0; i < parts.length; i += 2) {
      const name = parts[i] ?? '';
      const pos = parts[i + 1] ?? '';
      if (!STREAM_NAME.test(name) || !/^\d+$/.test(pos)) throw invalid();
      streams[name] = Number(pos);
    }
  }
  return { events: Number(m[1]), streams };
}

function invalid(): MatrixError {
  return new MatrixError(400, 'M_INVALID_PARAM', 'Invalid since token');
}
