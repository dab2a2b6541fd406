import t from 'tap';
import type { AuthEvent } from '../../../../../core/protocol/auth-rules/types.js';
import {
  authDifference,
  conflictedSubgraph,
  walkAuthChain,
} from '../../../../../core/protocol/state-res/auth-chain.js';
import { EventCache } from '../../../../../core/protocol/state-res/event-cache.js';

/** A bare auth graph: id → the ids it cites. */
function graph(edges: Record<string, string[]>): EventCache {
  const events = new Map<string, AuthEvent>();
  for (const [id, auth] of Object.entries(edges)) {
    events.set(id, {
      eventId: id,
      pdu: {
        type: 'x',
        state_key: id,
        sender: '@a:a.test',
        content: {},
        origin_server_ts: 0,
        depth: 0,
        prev_events: [],
        auth_events: auth,
        hashes: { sha256: '' },
        signatures: {},
      },
    });
  }
  return new EventCache({
    loadEvents: async (ids) => new Map(ids.flatMap((id) => (events.has(id) ? [[id, events.get(id)!]] : []))),
  });
}

//   C1 → A → C2 → R        C1 → B → R        D → C2
const EDGES = { C1: ['A', 'B'], A: ['C2'], C2: ['R'], B: ['R'], D: ['C2'], R: [] };

void t.test('the auth chain is everything reachable through auth_events', async (t) => {
  const cache = graph(EDGES);
  t.same([...(await walkAuthChain(cache, ['C1']))].sort(), ['A', 'B', 'C2', 'R']);
  t.same([...(await walkAuthChain(cache, ['R']))], []);
});

void t.test(
  'the conflicted subgraph holds the paths between conflicted events, not side branches',
  async (t) => {
    const cache = graph(EDGES);
    const conflicted = new Set(['C1', 'C2']);
    const reachable = await walkAuthChain(cache, conflicted);
    t.same([...conflictedSubgraph(cache, conflicted, reachable)].sort(), ['A', 'C1', 'C2']);
  },
);

void t.test('the auth difference: in some but not all chains (sets include their own events)', async (t) => {
  const cache = graph(EDGES);
  // Set 1 holds C1, set 2 holds D; both hold R (unconflicted).
  const diff = await authDifference(cache, ['R'], [['C1'], ['D']]);
  t.same([...diff].sort(), ['A', 'B', 'C1', 'D']);
});
