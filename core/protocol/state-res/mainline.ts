/** The mainline ordering (spec: rooms/fragments/v2-state-res.md "Mainline ordering"). */
import type { AuthEvent } from '../auth-rules/types.js';
import { authIds } from './auth-chain.js';
import type { EventCache } from './event-cache.js';

/** The `m.room.power_levels` event cited in an event's `auth_events`, loading its auth events first. */
async function powerLevelsAuthEvent(cache: EventCache, event: AuthEvent): Promise<string | undefined> {
  const ids = authIds(event);
  await cache.load(ids);
  for (const a of ids) {
    const e = cache.get(a);
    if (e?.pdu.type === 'm.room.power_levels' && e.pdu.state_key === '') return a;
  }
  return undefined;
}

/**
 * Orders `ids` by mainline position relative to `powerLevelsId` (greater position first: the
 * earlier the power levels an event was authorised under, the earlier it sorts), then
 * origin_server_ts, then event id. Events with no power levels on the mainline sort first.
 */
export async function mainlineSort(
  cache: EventCache,
  ids: readonly string[],
  powerLevelsId: string | undefined,
): Promise<string[]> {
  if (ids.length === 0) return [];
  const mainline = new Map<string, number>(); // P_i → i
  for (let id = powerLevelsId, i = 0; id !== undefined && !mainline.has(id); i++) {
    mainline.set(id, i);
    await cache.load([id]);
    const e = cache.get(id);
    id = e ? await powerLevelsAuthEvent(cache, e) : undefined;
  }

  // Position reached from each off-mainline power levels event, so shared chains are walked once.
  const memo = new Map<string, number>();
  const positionOf = async (event: AuthEvent): Promise<number> => {
    const walked: string[] = [];
    let position = Infinity;
    let id = await powerLevelsAuthEvent(cache, event); // e₀ itself is not part of its list
    while (id !== undefined) {
      const onMainline = mainline.get(id) ?? memo.get(id);
      if (onMainline !== undefined) {
        position = onMainline;
        break;
      }
      if (walked.includes(id)) break; // malformed cycle
      walked.push(id);
      await cache.load([id]);
      const e = cache.get(id);
      id = e ? await powerLevelsAuthEvent(cache, e) : undefined;
    }
    for (const w of walked) memo.set(w, position);
    return position;
  };

  const keyed: { id: string; position: number; ts: number }[] = [];
  for (const id of ids) {
    const e = cache.get(id);
    if (!e) continue;
    keyed.push({ id, position: await positionOf(e), ts: e.pdu.origin_server_ts });
  }
  keyed.sort((x, y) => {
    if (x.position !== y.position) return x.position > y.position ? -1 : 1;
    if (x.ts !== y.ts) return x.ts - y.ts;
    return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
  });
  return keyed.map((k) => k.id);
}
