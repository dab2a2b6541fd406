/**
 * Auth chains (spec: rooms/fragments/v2-state-res.md "Auth chain", "Auth difference") and the
 * conflicted state subgraph of rooms/v12.md.
 */
import type { AuthEvent } from '../auth-rules/types.js';
import { referenceIds } from '../auth-rules/identifiers.js';
import type { EventCache } from './event-cache.js';

/** The ids an event cites in `auth_events`. */
export function authIds(event: AuthEvent): string[] {
  return referenceIds(event.pdu.auth_events);
}

/**
 * Every event reachable from `starts` by following `auth_events` (a start is included only if
 * another start reaches it). Walks breadth-first so each level is one loader batch.
 */
export async function walkAuthChain(cache: EventCache, starts: Iterable<string>): Promise<Set<string>> {
  const chain = new Set<string>();
  let frontier = [...new Set(starts)];
  while (frontier.length > 0) {
    await cache.load(frontier);
    const next: string[] = [];
    for (const id of frontier) {
      const event = cache.get(id);
      if (!event) continue;
      for (const a of authIds(event)) {
        if (!chain.has(a)) {
          chain.add(a);
          next.push(a);
        }
      }
    }
    frontier = next;
  }
  return chain;
}

/**
 * ∪Cᵢ − ∩Cᵢ where Cᵢ is the full auth chain of state set i. Every set shares the unconflicted
 * events, so Cᵢ = U ∪ Dᵢ with U the chain of the unconflicted events and Dᵢ the chain of set i's
 * conflicted entries; the difference is then the events in some but not all Dᵢ, minus U. That walks
 * the shared part of the room's auth graph once instead of once per state set.
 */
export async function authDifference(
  cache: EventCache,
  unconflictedIds: Iterable<string>,
  conflictedIdsPerSet: readonly (readonly string[])[],
): Promise<Set<string>> {
  const shared = await walkAuthChain(cache, unconflictedIds);
  const seenIn = new Map<string, number>();
  for (const ids of conflictedIdsPerSet) {
    for (const id of await walkAuthChain(cache, ids)) seenIn.set(id, (seenIn.get(id) ?? 0) + 1);
  }
  const difference = new Set<string>();
  for (const [id, count] of seenIn) {
    if (count < conflictedIdsPerSet.length && !shared.has(id)) difference.add(id);
  }
  return difference;
}

/**
 * The conflicted state subgraph (v2.1): every event on an `auth_events` path from one conflicted
 * event to another, endpoints included. An event qualifies when a conflicted event reaches it and it
 * reaches a conflicted event; `reachable` must be the auth chain of the conflicted events (loaded).
 */
export function conflictedSubgraph(
  cache: EventCache,
  conflicted: ReadonlySet<string>,
  reachable: ReadonlySet<string>,
): Set<string> {
  // reachesConflicted(x): some auth event of x is conflicted or itself reaches a conflicted event.
  const reaches = new Map<string, boolean>();
  for (const root of reachable) {
    if (reaches.has(root)) continue;
    // Iterative post-order DFS: auth chains can be thousands of events deep.
    const stack: { id: string; children: string[]; i: number }[] = [];
    const push = (id: string) => {
      reaches.set(id, false); // provisional: also breaks any (malformed) cycle
      const e = cache.get(id);
      stack.push({ id, children: e ? authIds(e) : [], i: 0 });
    };
    push(root);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.i < top.children.length) {
        const child = top.children[top.i++]!;
        if (!reaches.has(child)) push(child);
        continue;
      }
      stack.pop();
      reaches.set(
        top.id,
        top.children.some((c) => conflicted.has(c) || reaches.get(c) === true),
      );
    }
  }
  const subgraph = new Set(conflicted);
  for (const id of reachable) if (reaches.get(id) === true) subgraph.add(id);
  return subgraph;
}
