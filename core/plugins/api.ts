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
import type { JsonObject, PduJson } from '../protocol/pdu.js';

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

/** A callback may answer directly or with a promise. */
export type Awaitable<T> = T | Promise<T>;

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

/**
 * Spam-checker callbacks, with Synapse's names and meanings. Every callback is optional: register only the
 * ones you need. Unless said otherwise a callback answers `NOT_SPAM` to let the action through (and the next
 * plugin decide), or a refusal `{ errcode, error?, extra? }` that the client receives as a 403 with that
 * errcode, message and extra top-level fields. Local users' actions reach these callbacks, and, where said,
 * what arrives over federation.
 *
 * _Added in Axon 0.1._
 */
export interface SpamCheckerCallbacks {
  /**
   * Before an event a local user sends (a message, a state event, a redaction) is stored and sent. The
   * event is fully built (signed, with its hashes); refusing it fails the `send`/`state` request. Also for
   * every event received over federation, once its signatures are checked: refusing it soft-fails it (kept
   * aside, never shown to clients, as Synapse does).
   */
  checkEventForSpam?(a: { readonly event: Readonly<PduJson> }): Awaitable<SpamVerdict>;
  /** Before a local user joins a room; `isInvited` is true when they hold an invite to it. */
  userMayJoinRoom?(a: {
    readonly userId: string;
    readonly roomId: string;
    readonly isInvited: boolean;
  }): Awaitable<SpamVerdict>;
  /** Before a local user (`inviter`) invites `invitee` (local or remote) to a room. */
  userMayInvite?(a: {
    readonly inviter: string;
    readonly invitee: string;
    readonly roomId: string;
  }): Awaitable<SpamVerdict>;
  /**
   * When an invite for a local user arrives over federation, before `userMayInvite` is asked about it too;
   * a refusal answers the inviting server with a 403 carrying the errcode.
   */
  federatedUserMayInvite?(a: { readonly event: Readonly<PduJson> }): Awaitable<SpamVerdict>;
  /** Before a local user invites someone by e-mail (a third-party invite). */
  userMaySendThreePidInvite?(a: {
    readonly inviter: string;
    readonly medium: string;
    readonly address: string;
    readonly roomId: string;
  }): Awaitable<SpamVerdict>;
  /** Before `POST /createRoom`; `request` is the request body as the client sent it. */
  userMayCreateRoom?(a: {
    readonly userId: string;
    readonly request: Readonly<Record<string, unknown>>;
  }): Awaitable<SpamVerdict>;
  /** Before a local user creates a room alias (`#alias:server`). */
  userMayCreateRoomAlias?(a: { readonly userId: string; readonly roomAlias: string }): Awaitable<SpamVerdict>;
  /** Before a local user publishes a room in the server's public room directory. */
  userMayPublishRoom?(a: { readonly userId: string; readonly roomId: string }): Awaitable<SpamVerdict>;
  /** Before a local user sends a state event (after `checkEventForSpam` would be too late to build it). */
  userMaySendStateEvent?(a: {
    readonly userId: string;
    readonly roomId: string;
    readonly eventType: string;
    readonly stateKey: string;
    readonly content: Readonly<Record<string, unknown>>;
  }): Awaitable<SpamVerdict>;
  /** For each user in user-directory search results: a refusal hides the user from the results. */
  checkUsernameForSpam?(a: {
    readonly userId: string;
    readonly displayName: string | null;
    readonly avatarUrl: string | null;
  }): Awaitable<SpamVerdict>;
  /**
   * When a registration has passed user-interactive auth, before the account is created. `ALLOW` lets it
   * through, `DENY` refuses it (403), `SHADOW_BAN` creates the account and answers as if all were well, but
   * nothing the account sends reaches anyone else.
   */
  checkRegistrationForSpam?(a: RegistrationAttempt): Awaitable<RegistrationVerdict>;
  /** When an upload has been received, before it is stored. */
  checkMediaFileForSpam?(a: MediaFileInfo): Awaitable<SpamVerdict>;
  /** After a login's credentials were accepted, before the access token is issued. */
  checkLoginForSpam?(a: {
    readonly userId: string;
    readonly deviceId: string | null;
    readonly initialDisplayName: string | null;
    readonly requestInfo: readonly { readonly userAgent: string; readonly ip: string }[];
    readonly authProviderId?: string | undefined;
  }): Awaitable<SpamVerdict>;
  /** true drops an event received over federation before anything is stored (a per-PDU error in /send). */
  shouldDropFederatedEvent?(a: { readonly event: Readonly<PduJson> }): Awaitable<boolean>;
}

export interface LoginResult {
  /** The full user id that logged in. */
  readonly userId: string;
  /** Called after the login succeeded, with the response the client gets. */
  onLogin?(r: {
    readonly userId: string;
    readonly deviceId: string;
    readonly accessToken: string;
  }): Awaitable<void>;
}

export interface RegistrationUiaResults {
  /** Completed UIA stages, e.g. `{ 'm.login.dummy': true }`. */
  readonly uiaResults: Readonly<Record<string, unknown>>;
  /** The registration request body as the client sent it. */
  readonly params: Readonly<Record<string, unknown>>;
}

/** Login types a provider handles and the fields each needs: `{ 'm.login.password': ['password'] }`. */
export type LoginTypes = Readonly<Record<string, readonly string[]>>;

/** What every password provider may add, whichever way it checks logins. */
export interface PasswordProviderCallbacks {
  /** A login with an e-mail address (or another third-party id) and a password. */
  check3pidAuth?(a: {
    readonly medium: string;
    readonly address: string;
    readonly password: string;
  }): Awaitable<LoginResult | null>;
  /** After a device logged out (every provider is told; a failure is only logged). */
  onLoggedOut?(a: {
    readonly userId: string;
    readonly deviceId: string | null;
    readonly accessToken: string;
  }): Awaitable<void>;
  /** A localpart for a new registration (the first provider answering a string wins). */
  getUsernameForRegistration?(a: RegistrationUiaResults): Awaitable<string | null>;
  /** A display name for a new registration (the first provider answering a string wins). */
  getDisplaynameForRegistration?(a: RegistrationUiaResults): Awaitable<string | null>;
  /** Whether a third-party id may be bound (or registered with, when `registration`); any false refuses. */
  isThreePidAllowed?(a: {
    readonly medium: string;
    readonly address: string;
    readonly registration: boolean;
  }): Awaitable<boolean>;
}

/**
 * A password provider checks logins before the built-in database check, in declaration order; the first
 * provider that accepts a login wins, and null (or false) lets the next one try. It either checks any login
 * type it declares with `checkAuth`, or plain passwords with the `checkPassword` shorthand (which claims
 * `m.login.password` with the field `password`), or both. Two providers that claim one login type with
 * different fields stop boot. The login types show up in `GET /_matrix/client/v3/login`.
 *
 * _Added in Axon 0.1._
 */
export type PasswordProvider = PasswordProviderCallbacks &
  (
    | {
        /** Login types `checkAuth` handles, with their fields. */
        readonly loginTypes: LoginTypes;
        /**
         * Checks a login (or a UIA step) of one of `loginTypes`. `user` is the full user id when the client
         * named a local user, else the identifier as given. Returns the user that logged in, or null to let
         * the next provider (and finally the built-in database check) try.
         */
        checkAuth(a: {
          readonly user: string;
          readonly loginType: string;
          readonly fields: Readonly<Record<string, unknown>>;
        }): Awaitable<LoginResult | null>;
        checkPassword?(a: { readonly userId: string; readonly password: string }): Awaitable<boolean>;
      }
    | {
        readonly loginTypes?: LoginTypes;
        checkAuth?: undefined;
        /**
         * Checks an `m.login.password` login of a local user (`userId` is the full user id). true accepts
         * it (create the account first if needed, with `helpers.registerUser`); false lets the next
         * provider try.
         */
        checkPassword(a: { readonly userId: string; readonly password: string }): Awaitable<boolean>;
      }
  );

/** One piece of a room's current state. */
export interface RoomStateEntry {
  readonly type: string;
  readonly state_key: string;
  readonly content: Readonly<JsonObject>;
}

/**
 * Read-only helpers a plugin may call; never the container. Each answers sensibly (false, empty, null)
 * when the module behind it is switched off.
 */
export interface PluginHelpers {
  readonly serverName: string;
  /** Whether a local user exists (and is not deactivated). */
  userExists(userId: string): Promise<boolean>;
  isServerAdmin(userId: string): Promise<boolean>;
  /** When the account was created (ms since the epoch); null for unknown or remote users. */
  getUserCreatedAt(userId: string): Promise<number | null>;
  /** A room's current state, one entry per (type, state_key) (empty when the room is unknown or rooms is off). */
  getRoomState(roomId: string): Promise<readonly RoomStateEntry[]>;
  /** Rooms the user is joined to, as this server sees them. */
  getJoinedRooms(userId: string): Promise<readonly string[]>;
  /**
   * Creates a local user (for providers that create accounts on first login); returns the full user id.
   * Rejects when the auth module is off or the localpart is taken or invalid.
   */
  registerUser(
    localpart: string,
    options?: {
      readonly displayName?: string;
      readonly admin?: boolean;
      /** E-mail addresses to bind to the account as third-party ids (where the auth module stores them). */
      readonly emails?: readonly string[];
    },
  ): Promise<string>;
}

export interface PluginHttpClient {
  /** fetch() with a timeout (default 10 s, or `timeoutMs`); rejects on timeout. */
  fetch(url: string, init?: RequestInit & { readonly timeoutMs?: number }): Promise<Response>;
}

/**
 * What a plugin's `register` receives. Register callbacks only while `register` runs.
 *
 * _Added in Axon 0.1._
 */
export interface PluginApi {
  readonly apiVersion: number;
  /** A child of the server's logger, tagged `{ plugin: <name> }`. */
  readonly logger: Logger;
  readonly helpers: PluginHelpers;
  readonly http: PluginHttpClient;
  /** The directory of homeserver.yaml: resolve relative paths in your config against it. */
  readonly configDir: string;
  /** Aborted when the server begins a graceful stop: close timers and connections. */
  readonly shutdownSignal: AbortSignal;
  registerSpamChecker(callbacks: SpamCheckerCallbacks): void;
  registerPasswordProvider(provider: PasswordProvider): void;
}

/**
 * A plugin: its module's default export.
 *
 * @example
 * export default definePlugin({
 *   name: 'no-casino',
 *   apiVersion: 1,
 *   config: Type.Object({ word: Type.String({ default: 'casino' }) }),
 *   register(api, config) {
 *     api.registerSpamChecker({
 *       checkEventForSpam: ({ event }) =>
 *         JSON.stringify(event.content).includes(config.word) ? { errcode: 'M_FORBIDDEN' } : NOT_SPAM,
 *     });
 *   },
 * });
 */
export interface PluginDefinition<S extends TSchema = TSchema> {
  /** Shown in logs and errors. */
  readonly name: string;
  /** The PLUGIN_API_VERSION it was written for. */
  readonly apiVersion: number;
  /** Its `config:` block (a TypeBox schema), validated at boot with defaults applied. */
  readonly config?: S;
  /** Runs once at boot, in declaration order; a throw stops boot naming the plugin. */
  register(api: PluginApi, config: Static<S>): void | Promise<void>;
}

/** Declares a plugin; its module's default export. _Added in Axon 0.1._ */
export function definePlugin<S extends TSchema>(definition: PluginDefinition<S>): PluginDefinition<S> {
  return definition;
}
