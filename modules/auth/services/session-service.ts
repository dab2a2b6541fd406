/**
 * Sessions: devices and the tokens bound to them. Creates access/refresh/login tokens, resolves access
 * tokens for every authenticated request (the kernel's `accessTokenResolver`), refreshes and revokes them.
 *
 * Resolution is the hot path: tokens are looked up by sha256 in an LRU cache that every revocation in this
 * process invalidates; a short TTL bounds staleness when several processes share one database. Last-seen
 * ip/ts are kept in memory and written in batches, never one write per request.
 */
import type { Logger } from 'pino';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { AccessTokenResolver, Requester } from '../../../core/http/context.js';
import { withTransaction, type Queryable } from '../../../core/storage/transaction.js';
import { tokenLifetimes, type TokenLifetimes } from '../config.js';
import type { LastSeen } from '../store/devices-store.js';
import { generateDeviceId, generateToken, sha256Hex } from './tokens.js';
import { growingLru } from '../../../core/lru.js';

export interface NewSession {
  readonly userId: string;
  readonly deviceId: string;
  readonly accessToken: string;
  readonly refreshToken?: string;
  readonly expiresInMs?: number;
}

/** The body /login and /register answer with for a new session. */
export interface SessionResponse {
  user_id: string;
  access_token: string;
  device_id: string;
  home_server: string;
  refresh_token?: string;
  expires_in_ms?: number;
}

export function sessionResponse(session: NewSession, serverName: string): SessionResponse {
  return {
    user_id: session.userId,
    access_token: session.accessToken,
    device_id: session.deviceId,
    home_server: serverName,
    ...(session.refreshToken !== undefined ? { refresh_token: session.refreshToken } : {}),
    ...(session.expiresInMs !== undefined ? { expires_in_ms: session.expiresInMs } : {}),
  };
}

interface CachedToken {
  readonly requester: Requester;
  readonly validUntilMs: number | null;
  readonly refreshTokenId: string | null;
  used: boolean;
}

const localpartOf = (userId: string): string => userId.slice(1, userId.indexOf(':'));

const unknownToken = (message = 'Unrecognised access token.', softLogout = false): MatrixError =>
  new MatrixError(401, 'M_UNKNOWN_TOKEN', message, { soft_logout: softLogout });

const minOrNull = (...values: (number | null)[]): number | null => {
  const defined = values.filter((v): v is number => v !== null);
  return defined.length === 0 ? null : Math.min(...defined);
};

export class SessionService implements AccessTokenResolver {
  private readonly store: Cradle['authStore'];
  private readonly events: Cradle['authEvents'];
  private readonly passwordProviders: Cradle['passwordProviders'];
  private readonly logger: Logger;
  private readonly lifetimes: TokenLifetimes;
  private readonly cache = growingLru<string, CachedToken>(50_000, { ttl: 60_000 });
  private lastSeen = new Map<string, LastSeen>();
  private readonly now: () => number;

  constructor({
    authStore,
    authEvents,
    authConfig,
    passwordProviders,
    logger,
  }: Pick<Cradle, 'authStore' | 'authEvents' | 'authConfig' | 'passwordProviders' | 'logger'>) {
    this.store = authStore;
    this.events = authEvents;
    this.passwordProviders = passwordProviders;
    this.logger = logger.child({ module: 'auth', component: 'auth-sessions' });
    this.lifetimes = tokenLifetimes(authConfig);
    this.now = Date.now;
  }

  /**
   * Logs a user in on a device: reuses `deviceId` when it exists (keeping its display name), creates it
   * otherwise (a generated id when none is given), and issues an access token (plus a refresh token when
   * the client supports them and refreshable tokens are configured). A created device is announced to the
   * deviceCreated listeners once committed.
   */
  async createSession(args: {
    userId: string;
    deviceId?: string | undefined;
    initialDisplayName?: string | undefined;
    refreshable?: boolean | undefined;
  }): Promise<NewSession> {
    const now = this.now();
    const { refreshableAccessTokenMs, refreshTokenMs, nonrefreshableAccessTokenMs, sessionMs } =
      this.lifetimes;
    const ultimate = sessionMs === null ? null : now + sessionMs;
    const refreshable = args.refreshable === true && refreshableAccessTokenMs !== null;
    let created = false;
    const session = await withTransaction(this.store.db, async (trx): Promise<NewSession> => {
      let deviceId = args.deviceId;
      if (deviceId === undefined) {
        do deviceId = generateDeviceId();
        while (
          !(await this.store.devices.ensure(args.userId, deviceId, args.initialDisplayName ?? null, now, trx))
        );
        created = true;
      } else {
        created = await this.store.devices.ensure(
          args.userId,
          deviceId,
          args.initialDisplayName ?? null,
          now,
          trx,
        );
      }
      const accessToken = generateToken('syt', localpartOf(args.userId));
      let refreshToken: string | undefined;
      let refreshTokenId: string | null = null;
      let validUntilMs: number | null;
      if (refreshable) {
        refreshToken = generateToken('syr', localpartOf(args.userId));
        refreshTokenId = await this.store.tokens.insertRefreshToken(
          {
            tokenHash: sha256Hex(refreshToken),
            userId: args.userId,
            deviceId,
            expiryTs: minOrNull(refreshTokenMs === null ? null : now + refreshTokenMs, ultimate),
            ultimateSessionExpiryTs: ultimate,
            now,
          },
          trx,
        );
        validUntilMs = minOrNull(now + refreshableAccessTokenMs, ultimate);
      } else {
        validUntilMs = minOrNull(
          nonrefreshableAccessTokenMs === null ? null : now + nonrefreshableAccessTokenMs,
          ultimate,
        );
      }
      await this.store.tokens.insertAccessToken(
        {
          tokenHash: sha256Hex(accessToken),
          userId: args.userId,
          deviceId,
          validUntilMs,
          refreshTokenId,
          now,
        },
        trx,
      );
      return {
        userId: args.userId,
        deviceId,
        accessToken,
        ...(refreshToken !== undefined ? { refreshToken } : {}),
        ...(validUntilMs !== null ? { expiresInMs: validUntilMs - now } : {}),
      };
    });
    if (created) {
      await this.events.emit('deviceCreated', this.events.deviceCreated, {
        userId: session.userId,
        deviceId: session.deviceId,
      });
    }
    return session;
  }

  async resolve(token: string, request: { ip: string; userAgent: string | undefined }): Promise<Requester> {
    const hash = sha256Hex(token);
    let entry = this.cache.get(hash);
    if (!entry) {
      entry = await this.load(hash);
      this.cache.set(hash, entry);
    }
    const now = this.now();
    if (entry.validUntilMs !== null && entry.validUntilMs < now) {
      throw unknownToken('Access token has expired', true);
    }
    if (!entry.used && entry.refreshTokenId !== null) {
      entry.used = true;
      await this.firstUseOfRefreshedToken(entry.requester.accessTokenId, entry.refreshTokenId);
    }
    const { userId, deviceId } = entry.requester;
    if (deviceId !== null) {
      this.lastSeen.set(`${userId}\0${deviceId}`, {
        userId,
        deviceId,
        ip: request.ip,
        userAgent: request.userAgent ?? null,
        ts: now,
      });
    }
    return entry.requester;
  }

  private async load(hash: string): Promise<CachedToken> {
    const row = await this.store.tokens.accessTokenByHash(hash);
    if (!row) throw unknownToken();
    const user = await this.store.users.get(row.userId);
    if (!user || user.deactivated) throw unknownToken();
    return {
      requester: { userId: row.userId, deviceId: row.deviceId, isGuest: user.isGuest, accessTokenId: row.id },
      validUntilMs: row.validUntilMs,
      refreshTokenId: row.refreshTokenId,
      used: row.used,
    };
  }

  /** The client has the new tokens: the refresh token they were exchanged for is now spent. */
  private async firstUseOfRefreshedToken(accessTokenId: string, refreshTokenId: string): Promise<void> {
    await withTransaction(this.store.db, async (trx) => {
      await this.store.tokens.markAccessTokenUsed(accessTokenId, trx);
      await this.revokeRefreshPredecessor(refreshTokenId, trx);
    });
  }

  private async revokeRefreshPredecessor(refreshTokenId: string, trx: Queryable): Promise<void> {
    const previous = await this.store.tokens.refreshTokenPredecessor(refreshTokenId, trx);
    if (previous) await this.revokeRefreshToken(previous.id, trx);
  }

  private async revokeRefreshToken(refreshTokenId: string, trx: Queryable): Promise<void> {
    const access = await this.store.tokens.accessTokensOfRefreshToken(refreshTokenId, trx);
    await this.store.tokens.deleteAccessTokens(
      access.map((a) => a.id),
      trx,
    );
    await this.store.tokens.deleteRefreshTokens([refreshTokenId], trx);
    for (const a of access) this.cache.delete(a.tokenHash);
  }

  /** POST /refresh: a new access token and a new refresh token for the same device. */
  async refresh(
    refreshToken: string,
  ): Promise<{ accessToken: string; refreshToken: string; expiresInMs?: number }> {
    const row = await this.store.tokens.refreshTokenByHash(sha256Hex(refreshToken));
    if (!row) throw unknownToken('Unknown refresh token');
    const now = this.now();
    if (
      (row.expiryTs !== null && row.expiryTs < now) ||
      (row.ultimateSessionExpiryTs !== null && row.ultimateSessionExpiryTs < now)
    ) {
      throw unknownToken('The refresh token has expired', true);
    }
    const user = await this.store.users.get(row.userId);
    if (!user || user.deactivated) throw unknownToken('Unknown refresh token');
    const { refreshableAccessTokenMs, refreshTokenMs } = this.lifetimes;
    return withTransaction(this.store.db, async (trx) => {
      // An unused successor from an earlier refresh is replaced; the predecessor is spent now.
      if (row.nextTokenId !== null) await this.revokeRefreshToken(row.nextTokenId, trx);
      await this.revokeRefreshPredecessor(row.id, trx);
      const newRefresh = generateToken('syr', localpartOf(row.userId));
      const newRefreshId = await this.store.tokens.insertRefreshToken(
        {
          tokenHash: sha256Hex(newRefresh),
          userId: row.userId,
          deviceId: row.deviceId,
          expiryTs: minOrNull(
            refreshTokenMs === null ? null : now + refreshTokenMs,
            row.ultimateSessionExpiryTs,
          ),
          ultimateSessionExpiryTs: row.ultimateSessionExpiryTs,
          now,
        },
        trx,
      );
      await this.store.tokens.setNextRefreshToken(row.id, newRefreshId, trx);
      const validUntilMs = minOrNull(
        refreshableAccessTokenMs === null ? null : now + refreshableAccessTokenMs,
        row.ultimateSessionExpiryTs,
      );
      const accessToken = generateToken('syt', localpartOf(row.userId));
      await this.store.tokens.insertAccessToken(
        {
          tokenHash: sha256Hex(accessToken),
          userId: row.userId,
          deviceId: row.deviceId,
          validUntilMs,
          refreshTokenId: newRefreshId,
          now,
        },
        trx,
      );
      return {
        accessToken,
        refreshToken: newRefresh,
        ...(validUntilMs !== null ? { expiresInMs: validUntilMs - now } : {}),
      };
    });
  }

  /** POST /logout: the requester's device goes (and with it every token of that device). */
  async logout(requester: Requester, accessToken: string): Promise<void> {
    if (requester.deviceId !== null) {
      await this.deleteDevices(requester.userId, [requester.deviceId], { accessToken });
      return;
    }
    await this.store.tokens.deleteAccessTokens([requester.accessTokenId]);
    this.cache.delete(sha256Hex(accessToken));
    await this.passwordProviders.onLoggedOut({ userId: requester.userId, deviceId: null, accessToken });
  }

  /** POST /logout/all and deactivation: every device and token of the user. */
  async logoutAll(userId: string, accessToken?: string, trx?: Queryable): Promise<void> {
    const devices = await this.store.devices.list(userId, trx);
    await this.deleteDevices(
      userId,
      devices.map((d) => d.deviceId),
      { accessToken, trx },
    );
    const rest = await this.store.tokens.accessTokensOf(userId, null, trx);
    await this.store.tokens.deleteAccessTokens(
      rest.map((t) => t.id),
      trx,
    );
    await this.store.tokens.deleteRefreshTokensOf(userId, null, trx);
    for (const t of rest) this.cache.delete(t.tokenHash);
  }

  /**
   * Deletes devices with their access and refresh tokens, then tells the password providers (onLoggedOut)
   * and the deviceDeleted listeners. `accessToken` is the caller's own token, passed to onLoggedOut for its
   * device; other devices' tokens are stored hashed, so providers see an empty string for those.
   */
  async deleteDevices(
    userId: string,
    deviceIds: readonly string[],
    options: { accessToken?: string | undefined; trx?: Queryable | undefined } = {},
  ): Promise<void> {
    if (deviceIds.length === 0) return;
    const tokens = await this.store.tokens.accessTokensOf(userId, deviceIds, options.trx);
    await withTransaction(options.trx ?? this.store.db, async (trx) => {
      await this.store.tokens.deleteAccessTokens(
        tokens.map((t) => t.id),
        trx,
      );
      await this.store.tokens.deleteRefreshTokensOf(userId, deviceIds, trx);
      await this.store.devices.delete(userId, deviceIds, trx);
    });
    for (const t of tokens) this.cache.delete(t.tokenHash);
    for (const d of deviceIds) this.lastSeen.delete(`${userId}\0${d}`);
    if (this.passwordProviders.size > 0) {
      const ownHash = options.accessToken === undefined ? undefined : sha256Hex(options.accessToken);
      for (const t of tokens) {
        await this.passwordProviders.onLoggedOut({
          userId,
          deviceId: t.deviceId,
          accessToken: t.tokenHash === ownHash ? (options.accessToken ?? '') : '',
        });
      }
    }
    await this.events.emit('deviceDeleted', this.events.deviceDeleted, { userId, deviceIds });
  }

  /** After a password change with logout_devices: every other device and token goes. */
  async revokeOtherSessions(
    userId: string,
    keep: { deviceId: string | null; accessTokenId: string },
  ): Promise<void> {
    const devices = await this.store.devices.list(userId);
    await this.deleteDevices(
      userId,
      devices.map((d) => d.deviceId).filter((d) => d !== keep.deviceId),
    );
    const rest = (await this.store.tokens.accessTokensOf(userId, null)).filter(
      (t) => t.id !== keep.accessTokenId,
    );
    await this.store.tokens.deleteAccessTokens(rest.map((t) => t.id));
    for (const t of rest) this.cache.delete(t.tokenHash);
  }

  /** A single-use m.login.token for `userId`, valid for login_via_existing_session.token_timeout. */
  async createLoginToken(userId: string): Promise<{ token: string; expiresInMs: number }> {
    const token = generateToken('syl', localpartOf(userId));
    const expiresInMs = this.lifetimes.loginTokenMs;
    await this.store.tokens.insertLoginToken(sha256Hex(token), userId, this.now() + expiresInMs);
    return { token, expiresInMs };
  }

  /** The user a login token logs in; 403 M_FORBIDDEN when unknown, used or expired. */
  async consumeLoginToken(token: string): Promise<string> {
    const userId = await this.store.tokens.consumeLoginToken(sha256Hex(token), this.now());
    if (userId === undefined) throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid login token');
    return userId;
  }

  /** Last-seen data not yet written, for device listings to show fresh values. */
  pendingLastSeen(userId: string, deviceId: string): LastSeen | undefined {
    return this.lastSeen.get(`${userId}\0${deviceId}`);
  }

  /** Writes the batched last-seen updates (timer, and on stop). */
  async flushLastSeen(): Promise<void> {
    if (this.lastSeen.size === 0) return;
    const batch = [...this.lastSeen.values()];
    this.lastSeen = new Map();
    try {
      await this.store.devices.updateLastSeen(batch);
    } catch (err) {
      this.logger.warn({ err }, 'could not write last-seen data; it will be retried');
      for (const e of batch) {
        const key = `${e.userId}\0${e.deviceId}`;
        if (!this.lastSeen.has(key)) this.lastSeen.set(key, e);
      }
    }
  }

  /** Periodic housekeeping: expired login tokens. */
  async cleanup(): Promise<void> {
    await this.store.tokens.deleteExpiredLoginTokens(this.now() - 60_000);
  }
}
