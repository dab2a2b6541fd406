/**
 * The notary (`/_matrix/key/v2/query`): for each server asked about, the cached key responses, fetched
 * directly from the server first when none is valid until `minimum_valid_until_ts` (default now), each
 * returned with this server's signature added. Our own keys come from our own response. A server that
 * cannot be reached and has nothing cached is simply absent from the answer.
 */
import type { SigningKey } from '../../../core/protocol/signing-key.js';
import { signJson } from '../../../core/protocol/signing.js';
import type { FederationStore } from '../store/federation-store.js';
import type { KeyRingImpl } from './key-ring.js';
import type { OwnServerKeys } from './own-server-keys.js';

export interface NotaryCriteria {
  /** Key ids asked for (empty: all). */
  readonly keyIds: readonly string[];
  readonly minimumValidUntilTs: number;
}

/** Servers fetched at once while answering one query. */
const CONCURRENCY = 8;

export class NotaryService {
  constructor(
    private readonly deps: {
      serverName: string;
      signingKey: SigningKey;
      store: FederationStore;
      keyRing: KeyRingImpl;
      ownKeys: OwnServerKeys;
      isDomainAllowed: (serverName: string) => boolean;
    },
  ) {}

  async query(criteria: ReadonlyMap<string, NotaryCriteria>): Promise<{ server_keys: unknown[] }> {
    const servers = [...criteria.entries()];
    const results: unknown[][] = [];
    for (let i = 0; i < servers.length; i += CONCURRENCY) {
      const batch = servers.slice(i, i + CONCURRENCY);
      results.push(...(await Promise.all(batch.map(([name, c]) => this.keysOf(name, c)))));
    }
    return { server_keys: results.flat() };
  }

  private async keysOf(serverName: string, criteria: NotaryCriteria): Promise<unknown[]> {
    const { deps } = this;
    if (serverName === deps.serverName) return [deps.ownKeys.response()];
    let stored = await deps.store.keyJson(serverName);
    const fresh = (keyId?: string): boolean =>
      stored.some(
        (s) => (keyId === undefined || s.keyId === keyId) && s.validUntilTs >= criteria.minimumValidUntilTs,
      );
    const satisfied = criteria.keyIds.length === 0 ? fresh() : criteria.keyIds.every((id) => fresh(id));
    if (!satisfied && deps.isDomainAllowed(serverName)) {
      await deps.keyRing.refreshDirect(serverName); // unreachable or invalid: answer from the cache
      stored = await deps.store.keyJson(serverName);
    }
    const distinct = [...new Set(stored.map((s) => s.keyJson))];
    return distinct.map((text) =>
      signJson(JSON.parse(text) as Record<string, unknown>, deps.serverName, deps.signingKey),
    );
  }
}
