/**
 * The public plugin contract: what a spam checker or password provider written inside or outside this
 * repository sees. Names and meanings follow Synapse's module API, in TypeScript form: every callback
 * takes one named-argument object and returns one verdict type.
 *
 * Semantics (see plugins/README.md):
 * - Plugins run in declaration order. For spam checks the first answer other than `NOT_SPAM` wins and the
 *   rest are skipped; for login the first provider that returns a user wins.
 * - Fail closed: a callback that throws, times out or returns something invalid is logged with the plugin's
 *   and callback's names, and the action is refused (M_FORBIDDEN, or the login fails).
 *
 * _Added in Axon 0.1._
 */
import type { Logger } from 'pino';
import type { TSchema, Static } from '@sinclair/typebox';
import type { MatrixErrcode } from '../errors.js';
import type { PduJson } from '../protocol/pdu.js';

/** The version of this API; a plugin declares the one it was written for. */
export const PLUGIN_API_VERSION = 1;

export const NOT_SPAM = 'NOT_SPAM';
/** `NOT_SPAM`, or a refusal the client receives as a Matrix error. */
export type SpamVerdict =
  | typeof NOT_SPAM
  | {
      readonly errcode: MatrixErrcode;
      readonly error?: string;
      readonly extra?: Readonly<Record<string, unknown>>;
    };

export type RegistrationVerdict = 'ALLOW' | 'DENY' | 'SHADOW_BAN';

export interface RegistrationAttempt {
  readonly emailThreepid?: { readonly medium: string; readonly address: string } | undefined;
  readonly username: string | undefined;
  readonly requestInfo: readonly { readonly userAgent: string; readonly ip: string }[];
  readonly authProviderId?: string | undefined;
}

export interface MediaFileInfo {
  readonly userId: string;
  readonly mediaType: string;
  readonly size: number;
  readonly uploadName?: string | undefined;
  /** The first bytes of the file (up to 64 KiB), for content sniffing. */
  readonly head: Uint8Array;
}

/** Every callback is optional; register only those you need. */
export interface SpamCheckerCallbacks {
  /** Before a local user's event is sent. */
  checkEventForSpam?(a: { readonly event: Readonly<PduJson> }): Promise<SpamVerdict>;
  userMayJoinRoom?(a: {
    readonly userId: string;
    readonly roomId: string;
    readonly isInvited: boolean;
  }): Promise<SpamVerdict>;
  userMayInvite?(a: {
    readonly inviter: string;
    readonly invitee: string;
    readonly roomId: string;
  }): Promise<SpamVerdict>;
  /** An invite arriving over federation for a local user (once federation exists). */
  federatedUserMayInvite?(a: { readonly event: Readonly<PduJson> }): Promise<SpamVerdict>;
  userMaySendThreePidInvite?(a: {
    readonly inviter: string;
    readonly medium: string;
    readonly address: string;
    readonly roomId: string;
  }): Promise<SpamVerdict>;
  userMayCreateRoom?(a: {
    readonly userId: string;
    readonly request: Readonly<Record<string, unknown>>;
  }): Promise<SpamVerdict>;
  userMayCreateRoomAlias?(a: { readonly userId: string; readonly roomAlias: string }): Promise<SpamVerdict>;
  userMayPublishRoom?(a: { readonly userId: string; readonly roomId: string }): Promise<SpamVerdict>;
  userMaySendStateEvent?(a: {
    readonly userId: string;
    readonly roomId: string;
    readonly eventType: string;
    readonly stateKey: string;
    readonly content: Readonly<Record<string, unknown>>;
  }): Promise<SpamVerdict>;
  /** Whether a user may appear in user-directory searches. */
  checkUsernameForSpam?(a: {
    readonly userId: string;
    readonly displayName: string | null;
    readonly avatarUrl: string | null;
  }): Promise<SpamVerdict>;
  checkRegistrationForSpam?(a: RegistrationAttempt): Promise<RegistrationVerdict>;
  checkMediaFileForSpam?(a: MediaFileInfo): Promise<SpamVerdict>;
  checkLoginForSpam?(a: {
    readonly userId: string;
    readonly deviceId: string | null;
    readonly initialDisplayName: string | null;
    readonly requestInfo: readonly { readonly userAgent: string; readonly ip: string }[];
    readonly authProviderId?: string | undefined;
  }): Promise<SpamVerdict>;
  /** Drop an incoming federated event silently (once federation exists). */
  shouldDropFederatedEvent?(a: { readonly event: Readonly<PduJson> }): Promise<boolean>;
}

export interface LoginResult {
  /** The full user id that logged in. */
  readonly userId: string;
  /** Called after the login succeeded, with the response the client gets. */
  onLogin?(r: {
    readonly userId: string;
    readonly deviceId: string;
    readonly accessToken: string;
  }): Promise<void>;
}

export interface RegistrationUiaResults {
  /** Completed UIA stages, e.g. `{ 'm.login.dummy': true }`. */
  readonly uiaResults: Readonly<Record<string, unknown>>;
  /** The registration request body as the client sent it. */
  readonly params: Readonly<Record<string, unknown>>;
}

export interface PasswordProvider {
  /** Login types and the fields each needs, e.g. `{ 'm.login.password': ['password'] }`; shown by GET /login. */
  readonly loginTypes: Readonly<Record<string, readonly string[]>>;
  /**
   * Checks a login (or a UIA step) of one of `loginTypes`. `user` is the full user id when the client named a
   * local user, else the identifier as given. Returns the user that logged in, or null to let the next
   * provider (and finally the built-in database check) try.
   */
  checkAuth(a: {
    readonly user: string;
    readonly loginType: string;
    readonly fields: Readonly<Record<string, unknown>>;
  }): Promise<LoginResult | null>;
  check3pidAuth?(a: {
    readonly medium: string;
    readonly address: string;
    readonly password: string;
  }): Promise<LoginResult | null>;
  onLoggedOut?(a: {
    readonly userId: string;
    readonly deviceId: string | null;
    readonly accessToken: string;
  }): Promise<void>;
  getUsernameForRegistration?(a: RegistrationUiaResults): Promise<string | null>;
  getDisplaynameForRegistration?(a: RegistrationUiaResults): Promise<string | null>;
  isThreePidAllowed?(a: {
    readonly medium: string;
    readonly address: string;
    readonly registration: boolean;
  }): Promise<boolean>;
}

/** Read-only helpers a plugin may call; never the container. */
export interface PluginHelpers {
  readonly serverName: string;
  /** Whether a local user exists (not deactivated). */
  userExists(userId: string): Promise<boolean>;
  isServerAdmin(userId: string): Promise<boolean>;
  /** A room's current state events (empty when the room is unknown or the rooms module is off). */
  getRoomState(roomId: string): Promise<readonly Readonly<PduJson>[]>;
  /** Rooms the user is joined to. */
  getJoinedRooms(userId: string): Promise<readonly string[]>;
  /** Creates a local user (for providers that create accounts on first login); returns the full user id. */
  registerUser(
    localpart: string,
    options?: { readonly displayName?: string; readonly admin?: boolean },
  ): Promise<string>;
}

export interface PluginHttpClient {
  /** fetch() with a timeout (default 10 s); rejects on timeout. */
  fetch(url: string, init?: RequestInit & { readonly timeoutMs?: number }): Promise<Response>;
}

export interface PluginApi {
  readonly apiVersion: number;
  readonly logger: Logger;
  readonly helpers: PluginHelpers;
  readonly http: PluginHttpClient;
  registerSpamChecker(callbacks: SpamCheckerCallbacks): void;
  registerPasswordProvider(provider: PasswordProvider): void;
}

export interface PluginDefinition<S extends TSchema = TSchema> {
  readonly name: string;
  /** The PLUGIN_API_VERSION it was written for. */
  readonly apiVersion: number;
  /** Its `config:` block, validated at boot; errors point at `plugins[i].config.<key>`. */
  readonly config?: S;
  register(api: PluginApi, config: Static<S>): void | Promise<void>;
}

/** Declares a plugin; its module's default export. */
export function definePlugin<S extends TSchema>(definition: PluginDefinition<S>): PluginDefinition<S> {
  return definition;
}
