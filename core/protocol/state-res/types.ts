/**
 * The boundary between state resolution and the event store. Resolution is pure apart from loading
 * events, which it does in batches through {@link StateResLoader}; it never writes anything.
 */
import type { AuthCheckOptions, AuthEvent } from '../auth-rules/types.js';

export interface StateResLoader {
  /**
   * Loads events by id, rejected ones included (with `rejected: true`). Ids the store does not have
   * are left out of the result; resolution then ignores them, as other servers do.
   */
  loadEvents(ids: readonly string[]): Promise<ReadonlyMap<string, AuthEvent>>;
  /**
   * Optional fast path for the auth chain difference (v2 and v2.1): ∪Cᵢ − ∩Cᵢ over the full auth
   * chains Cᵢ of the given state sets (each given as its event ids). A store with an auth chain index
   * can answer without walking the chains; without it, resolution walks them through `loadEvents`.
   */
  authChainDifference?(stateSets: readonly (readonly string[])[]): Promise<ReadonlySet<string>>;
}

/** Options passed through to every auth check resolution makes (see {@link AuthCheckOptions}). */
export type ResolveOptions = AuthCheckOptions;
