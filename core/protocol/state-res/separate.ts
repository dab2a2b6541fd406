/** Splitting state sets into unconflicted state and conflicted entries. */
import type { StateKey, StateMap } from '../pdu.js';

export interface Separated {
  readonly unconflicted: Map<StateKey, string>;
  /** Each conflicted key with the distinct event ids the sets hold for it. */
  readonly conflicted: Map<StateKey, Set<string>>;
}

/**
 * v2 and later (rooms/fragments/v2-state-res.md): a key is unconflicted only when every set holds it
 * with the same event; a key missing from some set is conflicted.
 */
export function separateV2(stateSets: readonly StateMap[]): Separated {
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Map<StateKey, Set<string>>();
  const keys = new Set<StateKey>();
  for (const s of stateSets) for (const k of s.keys()) keys.add(k);
  for (const k of keys) {
    const ids = new Set<string>();
    let missing = false;
    for (const s of stateSets) {
      const id = s.get(k);
      if (id === undefined) missing = true;
      else ids.add(id);
    }
    if (!missing && ids.size === 1) unconflicted.set(k, [...ids][0]!);
    else conflicted.set(k, ids);
  }
  return { unconflicted, conflicted };
}

/**
 * Room version 1 (rooms/v1.md): a conflict is different event ids for the same key, so a key held by
 * only some sets is unconflicted.
 */
export function separateV1(stateSets: readonly StateMap[]): Separated {
  const values = new Map<StateKey, Set<string>>();
  for (const s of stateSets) {
    for (const [k, id] of s) {
      const ids = values.get(k);
      if (ids) ids.add(id);
      else values.set(k, new Set([id]));
    }
  }
  const unconflicted = new Map<StateKey, string>();
  const conflicted = new Map<StateKey, Set<string>>();
  for (const [k, ids] of values) {
    if (ids.size === 1) unconflicted.set(k, [...ids][0]!);
    else conflicted.set(k, ids);
  }
  return { unconflicted, conflicted };
}
