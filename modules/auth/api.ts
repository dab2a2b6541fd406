/**
 * What other modules may call on the auth module: resolve it from the container as `authApi`
 * (`cradle.authApi`). Everything here is stable, narrow and documented; nothing else in modules/auth is
 * public.
 *
 * _Added in Axon 0.1._
 */
import type { Requester } from '../../core/http/context.js';

export interface AuthUser {
  readonly userId: string;
  readonly admin: boolean;
  readonly isGuest: boolean;
  readonly deactivated: boolean;
  readonly shadowBanned: boolean;
  /** Synapse's user_type (`bot`, `support`) or null. */
  readonly userType: string | null;
  readonly creationTs: number;
}

export interface AuthDevice {
  readonly userId: string;
  readonly deviceId: string;
  readonly displayName: string | null;
  readonly lastSeenIp: string | null;
  readonly lastSeenTs: number | null;
}

/** A profile as GET /profile returns it: `displayname`, `avatar_url`, `m.tz` and custom fields. */
export type Profile = Readonly<Record<string, unknown>>;

export interface ProfileChange {
  readonly userId: string;
  /** The field that changed (`displayname`, `avatar_url`, `m.tz`, a custom key). */
  readonly field: string;
  /** The new value; undefined when the field was deleted. */
  readonly value: unknown;
  /** The whole profile after the change. */
  readonly profile: Profile;
}

/**
 * Profiles of users of other servers (`GET /_matrix/federation/v1/query/profile`), provided by the federation
 * module: auth never imports it. `fetch` answers the remote profile, or only `field` when given, and throws a
 * `MatrixError` the client should see (404 `M_NOT_FOUND` relayed, 502 when the server cannot be asked).
 */
export interface RemoteProfileSource {
  fetch(userId: string, field?: string): Promise<Profile>;
}

/** A UIA flow: the stages a client completes in order, e.g. `['m.login.password']`. */
export type UiaFlow = readonly string[];

export interface UiaRequest {
  /** The authenticated requester, or null on unauthenticated endpoints (registration). */
  readonly requester: Requester | null;
  /** The request body as the client sent it (its `auth` member is the UIA submission). */
  readonly body: Readonly<Record<string, unknown>>;
  /** The flows offered; one must be completed. */
  readonly flows: readonly UiaFlow[];
  /** What the client is authorising (for logs and for binding the session to one operation). */
  readonly description: string;
  /** The request's method and path: a session may not be reused for another operation. */
  readonly method: string;
  readonly path: string;
  /** Per-stage `params` shown to the client. */
  readonly params?: Readonly<Record<string, unknown>>;
}

export interface UiaResult {
  /** The session id. */
  readonly sessionId: string;
  /** Completed stages and what each established (for m.login.password: the user id). */
  readonly completed: Readonly<Record<string, unknown>>;
  /** The body of the operation: the current body, or the one stored in the session when it had none. */
  readonly clientDict: Readonly<Record<string, unknown>>;
}

/**
 * User-interactive authentication for any endpoint. `require` resolves once a flow is complete and throws
 * the 401 UIA response (flows, params, session, completed; errcode when a stage failed) otherwise; the
 * route simply lets it propagate.
 *
 * @example
 *   await authApi.uia.require({ requester, body, flows: [['m.login.password']],
 *     description: 'upload cross-signing keys', method: ctx.method, path: ctx.path });
 */
export interface UiaService {
  require(request: UiaRequest): Promise<UiaResult>;
  /** The flows for re-authenticating the requester (password when allowed, and the providers' types). */
  reauthFlows(): UiaFlow[];
}

/**
 * A UIA stage another module provides (identity-proxy: `m.login.email.identity`). `check` receives the
 * client's auth dict and returns what the stage established (kept in the session's completed results); it
 * throws a `MatrixError` with status 401 when the client may try the stage again (its errcode and message
 * are sent with the 401 UIA body), any other error fails the request as is.
 */
export interface UiaStageHandler {
  check(
    auth: Readonly<Record<string, unknown>>,
    context: {
      readonly requester: Requester | null;
      readonly sessionId: string;
      /** The operation the UIA session authorises (a stage may only serve some, e.g. `/register`). */
      readonly method: string;
      readonly path: string;
    },
  ): Promise<unknown>;
}

/** What a third-party identifier UIA stage (`m.login.email.identity`, `m.login.msisdn`) establishes. */
export interface ValidatedThreepid {
  readonly medium: string;
  readonly address: string;
  readonly validated_at: number;
}

/**
 * Third-party identifiers on accounts, provided by the identity-proxy module: auth resolves login
 * identifiers `{type: m.id.thirdparty}` and password resets by email through it, and asks it for the
 * registration flows.
 */
export interface ThreepidSupport {
  /** The local user a 3PID is bound to, or undefined. */
  resolveUser(medium: string, address: string): Promise<string | undefined>;
  /** Whether users may add and remove 3PIDs (`m.3pid_changes` in GET /capabilities). */
  readonly changesEnabled: boolean;
  /** The UIA flows registration offers, given auth's own (`[['m.login.dummy']]`, token stage prefixed). */
  registrationFlows(base: readonly UiaFlow[]): UiaFlow[];
  /** The UIA stage that proves control of an email address for a password reset, when email is set up. */
  readonly passwordResetStage: string | undefined;
}

export interface UserRegistered {
  readonly userId: string;
  /** The completed UIA stages and what each established (e.g. `m.login.email.identity` → ValidatedThreepid). */
  readonly uiaResults: Readonly<Record<string, unknown>>;
}

export interface AuthApi {
  /** A local user (deactivated ones included), or undefined when the id was never registered. */
  getUser(userId: string): Promise<AuthUser | undefined>;
  /** Whether a local user exists and is not deactivated. */
  userExists(userId: string): Promise<boolean>;
  isServerAdmin(userId: string): Promise<boolean>;
  /** True when a spam checker answered SHADOW_BAN at registration: the user's actions should look successful but do nothing. */
  isShadowBanned(userId: string): Promise<boolean>;
  /**
   * Creates a local user without UIA (password providers, plugins, admin tools); returns the full user id.
   * Throws 400 M_USER_IN_USE / M_INVALID_USERNAME like registration.
   */
  registerUser(
    localpart: string,
    options?: { readonly displayName?: string; readonly admin?: boolean; readonly password?: string },
  ): Promise<string>;
  /** A local user's profile, undefined when the user does not exist. */
  getProfile(userId: string): Promise<Profile | undefined>;
  getDevice(userId: string, deviceId: string): Promise<AuthDevice | undefined>;
  listDevices(userId: string): Promise<readonly AuthDevice[]>;
  /** Called after a profile field changed (rooms pushes new m.room.member events for displayname/avatar_url). */
  onProfileChanged(listener: (change: ProfileChange) => Promise<void>): void;
  /** Called after a user was deactivated (rooms makes the user leave; erase: the user asked for erasure). */
  onUserDeactivated(listener: (event: { userId: string; erase: boolean }) => Promise<void>): void;
  /** Called after devices were deleted (logout, device deletion, deactivation): e2ee deletes their keys. */
  onDeviceDeleted(listener: (event: { userId: string; deviceIds: readonly string[] }) => Promise<void>): void;
  /**
   * Called after a login or registration created a new device (not when it reused an existing device id):
   * e2ee tells the user's room peers that their device list changed.
   */
  onDeviceCreated(listener: (event: { userId: string; deviceId: string }) => Promise<void>): void;
  /** Called after a device's display name changed (PUT /devices/{deviceId}): e2ee tells the room peers too. */
  onDeviceRenamed(
    listener: (event: { userId: string; deviceId: string; displayName: string }) => Promise<void>,
  ): void;
  /**
   * This module's entries for GET /capabilities (`m.change_password`, `m.get_login_token`, `m.set_displayname`,
   * `m.set_avatar_url`, `m.profile_fields`, `m.3pid_changes`), for whichever module serves that endpoint to merge.
   */
  capabilities(): Readonly<Record<string, unknown>>;
  /** The reusable UIA service. */
  readonly uia: UiaService;
  /** Adds a UIA stage type that any endpoint may offer; registering a type twice is an error. */
  registerUiaStage(type: string, handler: UiaStageHandler): void;
  /** Connects third-party identifiers (one provider: the identity-proxy module). */
  registerThreepidSupport(support: ThreepidSupport): void;
  /**
   * Whether two users share a joined room (the rooms module answers), for Synapse's
   * `limit_profile_requests_to_users_who_share_rooms`; without one, no profile of another user is served then.
   */
  registerSharedRoomsCheck(check: (a: string, b: string) => Promise<boolean>): void;
  /**
   * Connects profiles of other servers' users (one provider: the federation module, in its start()); without
   * one, GET /profile of a remote user is 404 `M_NOT_FOUND`.
   */
  setRemoteProfileSource(source: RemoteProfileSource): void;
  /** Called after POST /register created a user (identity-proxy binds the email its UIA validated). */
  onUserRegistered(listener: (event: UserRegistered) => Promise<void>): void;
}
