/**
 * Pagination tokens. `t<depth>-<stream>` is a position in a room's topological order, just after the
 * event at (depth, stream); `s<stream>` (optionally followed by `_…`, as sync tokens are) is a position in
 * the stream, just after event `stream`.
 */
import { MatrixError } from '../../../core/errors.js';
import type { TopoPosition } from '../store/event-rows.js';

export type RoomToken = { kind: 'topo'; pos: TopoPosition } | { kind: 'stream'; stream: number };

export function formatTopoToken(pos: TopoPosition): string {
  return `t${pos.depth}-${pos.stream}`;
}

export function parseRoomToken(token: string, name = 'from'): RoomToken {
  const topo = /^t(-?\d+)-(-?\d+)$/.exec(token);
  if (topo) return { kind: 'topo', pos: { depth: Number(topo[1]), stream: Number(topo[2]) } };
  const stream = /^s(\d+)(?:_.*)?$/.exec(token);
  if (stream) return { kind: 'stream', stream: Number(stream[1]) };
  throw new MatrixError(400, 'M_INVALID_PARAM', `Invalid pagination token in ${name}`);
}
