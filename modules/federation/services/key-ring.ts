/**
 * Other servers' signing keys (server-server-api "Retrieving server keys"), as Synapse finds them: the
 * database cache first, then each trusted notary (`POST /_matrix/key/v2/query`), then the server itself
 * (`GET /_matrix/key/v2/server`). A key is used only within its validity; fetches of one server are shared
 * by concurrent callers, and a server is asked at most once per 30 seconds whatever the outcome (so requests
 * naming unknown key ids, or notary queries, cannot make this server hammer another one).
 */
import type { Logger } from 'pino';
import { growingLru } from '../../../core/lru.js';
import { decodeBase64 } from '../../../core/protocol/base64.js';
import { CanonicalJsonError, omitKeys } from '../../../core/protocol/canonical-json.js';
import { verifyJsonSignature } from '../../../core/protocol/signing.js';
import type { FederationClient, KeyRing, ServerVerifyKey, VerifyOptions } from '../api.js';
import type { TrustedKeyServer } from '../config.js';
import type { FederationStore, StoredServerKey } from '../store/federation-store.js';
import { checkKeyResponse } from './key-response.js';
import type { OwnServerKeys } from './own-server-keys.js';

const KEY_FETCH_TIMEOUT_MS = 15_000;
const KEY_RESPONSE_MAX_BYTES = 1024 * 1024;
const REFETCH_INTERVAL_MS = 30_000;
/** Servers whose last fetch attempt is remembered (older ones may be asked again early). */
const REMEMBERED_ATTEMPTS = 10_000;
/** Keys kept in memory: a stored key only ever gains validity, so a cached copy is never wrong, only short. */
const CACHED_KEYS = 10_000;

export interface KeyRingDeps {
  readonly serverName: string;
  readonly ownKeys: OwnServerKeys;
  readonly store: FederationStore;
  readonly client: FederationClient;
  readonly trustedKeyServers: readonly TrustedKeyServer[];
  readonly logger: Logger;
  readonly now?: () => number;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export class KeyRingImpl implements KeyRing {
  private readonly inFlight = new Map<string, Promise<void>>();
  private readonly lastAttempt = growingLru<string, number>(REMEMBERED_ATTEMPTS);
  private readonly keyCache = growingLru<string, ServerVerifyKey>(CACHED_KEYS);

  constructor(private readonly deps: KeyRingDeps) {}

  private now(): number {
    return (this.deps.now ?? Date.now)();
  }

  async getKey(
    serverName: string,
    keyId: string,
    minimumValidUntilTs?: number,
  ): Promise<ServerVerifyKey | undefined> {
    if (serverName === this.deps.serverName) return this.deps.ownKeys.verifyKey(keyId);
    const minimum = minimumValidUntilTs ?? this.now();
    const cached = await this.stored(serverName, keyId, minimum);
    if (cached && cached.validUntilTs >= minimum) return cached;
    // A fetch under way (started by a concurrent lookup) answers this one too: wait for it.
    const pending = this.inFlight.get(serverName);
    if (pending) {
      await pending;
      return (await this.stored(serverName, keyId)) ?? cached;
    }
    if (this.recentlyAttempted(serverName)) return cached;
    await this.refresh(serverName, keyId, minimum);
    return (await this.stored(serverName, keyId)) ?? cached;
  }

  async verifyServerSignature(
    serverName: string,
    keyId: string,
    json: Readonly<Record<string, unknown>>,
    options: VerifyOptions = {},
  ): Promise<boolean> {
    const signatures = json['signatures'];
    if (
      !isRecord(signatures) ||
      !isRecord(signatures[serverName]) ||
      signatures[serverName][keyId] === undefined
    ) {
      return false;
    }
    const atTs = options.atTs ?? this.now();
    const enforce = options.enforceValidity ?? true;
    let key: ServerVerifyKey | undefined;
    try {
      key = await this.getKey(serverName, keyId, enforce ? atTs : 0);
    } catch (err) {
      this.deps.logger.warn({ err, serverName, keyId }, 'key lookup failed');
      return false;
    }
    if (!key) return false;
    if (key.expired && options.allowOldKeys === false) return false;
    if (enforce && key.validUntilTs < atTs) return false;
    try {
      return verifyJsonSignature(json, serverName, keyId, key.publicKey, { strict: options.strict ?? false });
    } catch (err) {
      if (err instanceof CanonicalJsonError) return false;
      throw err;
    }
  }

  async verifySignedBy(
    serverName: string,
    json: Readonly<Record<string, unknown>>,
    options?: VerifyOptions,
  ): Promise<boolean> {
    const signatures = json['signatures'];
    const byServer = isRecord(signatures) ? signatures[serverName] : undefined;
    if (!isRecord(byServer)) return false;
    for (const keyId of Object.keys(byServer)) {
      if (
        keyId.startsWith('ed25519:') &&
        (await this.verifyServerSignature(serverName, keyId, json, options))
      ) {
        return true;
      }
    }
    return false;
  }

  /**
   * Fetches a server's keys from the server itself into the cache, unless it was asked in the last 30 s
   * (then, or when it fails, the cache stays as it is). The notary serves what this stores.
   */
  async refreshDirect(serverName: string): Promise<void> {
    if (this.recentlyAttempted(serverName)) return;
    const key = `direct ${serverName}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      this.lastAttempt.set(serverName, this.now());
      pending = this.fetchDirect(serverName)
        .catch((err: unknown) => {
          this.deps.logger.info({ serverName, err: (err as Error).message }, 'direct key fetch failed');
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    await pending;
  }

  private recentlyAttempted(serverName: string): boolean {
    const last = this.lastAttempt.get(serverName);
    return last !== undefined && last + REFETCH_INTERVAL_MS > this.now();
  }

  private async fetchDirect(serverName: string): Promise<void> {
    const json = await this.deps.client.request({
      method: 'GET',
      destination: serverName,
      path: '/_matrix/key/v2/server',
      authenticated: false,
      timeoutMs: KEY_FETCH_TIMEOUT_MS,
      maxResponseBytes: KEY_RESPONSE_MAX_BYTES,
    });
    await this.storeResponse(json, serverName, serverName);
  }

  /** The stored key, from memory when its cached validity suffices (else from the database). */
  private async stored(
    serverName: string,
    keyId: string,
    minimum = Number.MAX_SAFE_INTEGER,
  ): Promise<ServerVerifyKey | undefined> {
    const cacheKey = `${serverName} ${keyId}`;
    const cached = this.keyCache.get(cacheKey);
    if (cached && cached.validUntilTs >= minimum) return cached;
    const row = (await this.deps.store.serverKeys(serverName)).find((k) => k.keyId === keyId);
    const publicKey = row ? decodeBase64(row.verifyKey) : undefined;
    if (!row || !publicKey) return undefined;
    const key = { serverName, keyId, publicKey, validUntilTs: row.validUntilTs, expired: row.expired };
    this.keyCache.set(cacheKey, key);
    return key;
  }

  private refresh(serverName: string, keyId: string, minimum: number): Promise<void> {
    const pending = this.inFlight.get(serverName);
    if (pending) return pending;
    const run = this.fetchFromSources(serverName, keyId, minimum).finally(() =>
      this.inFlight.delete(serverName),
    );
    this.inFlight.set(serverName, run);
    return run;
  }

  private async fetchFromSources(serverName: string, keyId: string, minimum: number): Promise<void> {
    this.lastAttempt.set(serverName, this.now());
    const satisfied = async (): Promise<boolean> => {
      const key = await this.stored(serverName, keyId);
      return key !== undefined && key.validUntilTs >= minimum;
    };
    for (const notary of this.deps.trustedKeyServers) {
      if (notary.serverName === this.deps.serverName) continue;
      try {
        await this.fetchViaNotary(notary, serverName, keyId, minimum);
        if (await satisfied()) return;
      } catch (err) {
        this.deps.logger.info(
          { notary: notary.serverName, serverName, err: (err as Error).message },
          'notary key query failed',
        );
      }
    }
    try {
      await this.fetchDirect(serverName);
    } catch (err) {
      this.deps.logger.info({ serverName, err: (err as Error).message }, 'direct key fetch failed');
    }
  }

  private async fetchViaNotary(
    notary: TrustedKeyServer,
    serverName: string,
    keyId: string,
    minimum: number,
  ): Promise<void> {
    const answer = await this.deps.client.request({
      method: 'POST',
      destination: notary.serverName,
      path: '/_matrix/key/v2/query',
      body: { server_keys: { [serverName]: { [keyId]: { minimum_valid_until_ts: minimum } } } },
      timeoutMs: KEY_FETCH_TIMEOUT_MS,
      maxResponseBytes: KEY_RESPONSE_MAX_BYTES,
    });
    const list = isRecord(answer) ? answer['server_keys'] : undefined;
    if (!Array.isArray(list)) throw new Error('server_keys is not an array');
    for (const entry of list) {
      if (!isRecord(entry) || entry['server_name'] !== serverName) continue;
      if (notary.verifyKeys && !this.signedByNotary(entry, notary)) {
        throw new Error(`a response is not signed by ${notary.serverName} with a configured verify_key`);
      }
      await this.storeResponse(entry, serverName, notary.serverName);
    }
  }

  /** Synapse's rule: with pinned verify_keys, at least one of them signed it and every such signature is valid. */
  private signedByNotary(entry: Record<string, unknown>, notary: TrustedKeyServer): boolean {
    const sigs = isRecord(entry['signatures']) ? entry['signatures'][notary.serverName] : undefined;
    if (!isRecord(sigs)) return false;
    let verified = false;
    for (const [keyId, publicKey] of notary.verifyKeys ?? []) {
      if (sigs[keyId] === undefined) continue;
      try {
        if (!verifyJsonSignature(entry, notary.serverName, keyId, publicKey)) return false;
      } catch {
        return false;
      }
      verified = true;
    }
    return verified;
  }

  private async storeResponse(json: unknown, serverName: string, fetchedFrom: string): Promise<void> {
    const now = this.now();
    const checked = checkKeyResponse(json, serverName, now);
    // What the notary serves later: the server's own response with only its own signatures.
    const record = json as Record<string, unknown>;
    const ownSignatures = (record['signatures'] as Record<string, unknown>)[serverName];
    const keyJson = JSON.stringify({
      ...omitKeys(record, ['signatures']),
      signatures: { [serverName]: ownSignatures },
    });
    const keys: StoredServerKey[] = checked.keys.map((k) => ({
      serverName,
      keyId: k.keyId,
      verifyKey: k.verifyKey,
      validUntilTs: k.validUntilTs,
      expired: k.expired,
      fetchedFrom,
      fetchedTs: now,
    }));
    await this.deps.store.storeKeyResponse(keys, { serverName, validUntilTs: checked.validUntilTs, keyJson });
  }
}
