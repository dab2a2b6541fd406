/**
 * State resolution v2 (room versions 2–11, rooms/fragments/v2-state-res.md) and its v2.1 iteration
 * (room version 12, rooms/v12.md): the full conflicted set also holds the conflicted state subgraph,
 * and the first iterative auth checks start from an empty state instead of the unconflicted state.
 */
import type { StateKey, StateMap } from '../pdu.js';
import { stateKey } from '../pdu.js';
import type { RoomVersion } from '../room-versions.js';
import { authDifference, conflictedSubgraph, walkAuthChain } from './auth-chain.js';
import { EventCache } from './event-cache.js';
import { iterativeAuthChecks } from './iterative-auth-checks.js';
import { mainlineSort } from './mainline.js';
import { sortPowerEvents } from './power-ordering.js';
import { separateV2 } from './separate.js';
import type { ResolveOptions, StateResLoader } from './types.js';

export async function resolveV2(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  loader: StateResLoader,
  options: ResolveOptions,
): Promise<Map<StateKey, string>> {
  const { unconflicted, conflicted } = separateV2(stateSets);
  if (conflicted.size === 0) return unconflicted;
  const cache = new EventCache(loader);
  const v21 = version.stateRes === 'v2.1';

  const conflictedIds = new Set<string>();
  for (const ids of conflicted.values()) for (const id of ids) conflictedIds.add(id);

  const perSet = stateSets.map((s) => {
    const ids: string[] = [];
    for (const [k, id] of s) if (conflicted.has(k)) ids.push(id);
    return ids;
  });
  const difference = loader.authChainDifference
    ? await loader.authChainDifference(stateSets.map((s) => [...s.values()]))
    : await authDifference(cache, unconflicted.values(), perSet);

  const full = new Set<string>([...conflictedIds, ...difference]);
  if (v21) {
    const reachable = await walkAuthChain(cache, conflictedIds);
    for (const id of conflictedSubgraph(cache, conflictedIds, reachable)) full.add(id);
  }
  await cache.load(full);
  for (const id of full) if (!cache.has(id)) full.delete(id); // unknown events cannot take part

  // Steps 1–2: power events in reverse topological power order, authorised iteratively.
  const powerOrder = await sortPowerEvents(cache, full, version);
  const base = v21 ? new Map<StateKey, string>() : unconflicted;
  let resolved = await iterativeAuthChecks(cache, version, powerOrder, base, options);

  // Steps 3–4: everything else, in mainline order of the resolved power levels.
  const picked = new Set(powerOrder);
  const rest = [...full].filter((id) => !picked.has(id));
  const ordered = await mainlineSort(cache, rest, resolved.get(stateKey('m.room.power_levels', '')));
  resolved = await iterativeAuthChecks(cache, version, ordered, resolved, options);

  // Step 5: the unconflicted state wins over anything the iterations produced.
  for (const [k, id] of unconflicted) resolved.set(k, id);
  return resolved;
}
