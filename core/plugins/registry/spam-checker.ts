/* eslint-disable @typescript-eslint/unbound-method -- callbacks are always invoked with .call(owner) */
/**
 * The ordered spam-checker chain: "not spam" falls through to the next plugin, the first refusal wins.
 * With no plugin registered every check passes.
 */
import type { Logger } from 'pino';
import { MatrixError } from '../../errors.js';
import {
  NOT_SPAM,
  type Awaitable,
  type RegistrationVerdict,
  type SpamCheckerCallbacks,
  type SpamVerdict,
} from '../api.js';
import { runCallback } from '../run-callback.js';

/** Callbacks that answer with a SpamVerdict. */
export type VerdictCallback = {
  [K in keyof SpamCheckerCallbacks]-?: NonNullable<SpamCheckerCallbacks[K]> extends (
    a: never,
  ) => Awaitable<SpamVerdict>
    ? K
    : never;
}[keyof SpamCheckerCallbacks];

type ArgsOf<K extends keyof SpamCheckerCallbacks> = Parameters<NonNullable<SpamCheckerCallbacks[K]>>[0];

export const DEFAULT_PLUGIN_TIMEOUT_MS = 5_000;

/** Every callback name, in the order plugins/README.md documents them. */
export const SPAM_CHECKER_CALLBACKS = [
  'checkEventForSpam',
  'userMayJoinRoom',
  'userMayInvite',
  'federatedUserMayInvite',
  'userMaySendThreePidInvite',
  'userMayCreateRoom',
  'userMayCreateRoomAlias',
  'userMayPublishRoom',
  'userMaySendStateEvent',
  'checkUsernameForSpam',
  'checkRegistrationForSpam',
  'checkMediaFileForSpam',
  'checkLoginForSpam',
  'shouldDropFederatedEvent',
] as const satisfies readonly (keyof SpamCheckerCallbacks)[];

// Fails to compile when SpamCheckerCallbacks gains a callback this list lacks.
const _everyCallbackListed: Exclude<
  keyof SpamCheckerCallbacks,
  (typeof SPAM_CHECKER_CALLBACKS)[number]
> extends never
  ? true
  : never = true;
void _everyCallbackListed;
const KNOWN: ReadonlySet<string> = new Set(SPAM_CHECKER_CALLBACKS);

export function isSpamVerdict(value: unknown): value is SpamVerdict {
  if (value === NOT_SPAM) return true;
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v['errcode'] === 'string' &&
    /^[A-Z][A-Z0-9_.]*$/i.test(v['errcode']) &&
    (v['error'] === undefined || typeof v['error'] === 'string') &&
    (v['extra'] === undefined || (typeof v['extra'] === 'object' && v['extra'] !== null))
  );
}

const isRegistrationVerdict = (v: unknown): v is RegistrationVerdict =>
  v === 'ALLOW' || v === 'DENY' || v === 'SHADOW_BAN';
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean';

export class SpamCheckerRegistry {
  private readonly chain: { plugin: string; callbacks: SpamCheckerCallbacks }[] = [];
  private readonly logger: Logger;
  private readonly timeoutMs: number;

  constructor({ logger, timeoutMs = DEFAULT_PLUGIN_TIMEOUT_MS }: { logger: Logger; timeoutMs?: number }) {
    this.logger = logger;
    this.timeoutMs = timeoutMs;
  }

  /** Adds a plugin's callbacks at the end of the chain; a function with an unknown name, or a callback that is not a function, throws. */
  add(plugin: string, callbacks: SpamCheckerCallbacks): void {
    if (typeof callbacks !== 'object' || callbacks === null)
      throw new Error('registerSpamChecker expects an object of callbacks');
    for (const [name, fn] of Object.entries(callbacks)) {
      // Data fields are the plugin's own business; a function with an unknown name is a typo'd callback.
      if (!KNOWN.has(name) && typeof fn === 'function') {
        throw new Error(
          `unknown spam-checker callback "${name}" (known: ${SPAM_CHECKER_CALLBACKS.join(', ')})`,
        );
      }
      if (KNOWN.has(name) && fn !== undefined && typeof fn !== 'function')
        throw new Error(`spam-checker callback "${name}" must be a function`);
    }
    this.chain.push({ plugin, callbacks });
  }

  /** Whether any plugin registered this callback (callers may skip building arguments otherwise). */
  has(callback: keyof SpamCheckerCallbacks): boolean {
    return this.chain.some((e) => e.callbacks[callback] !== undefined);
  }

  /** The first refusal in declaration order, or NOT_SPAM. A failing callback refuses with M_FORBIDDEN. */
  async check<K extends VerdictCallback>(callback: K, args: ArgsOf<K>): Promise<SpamVerdict> {
    for (const { plugin, callbacks } of this.chain) {
      const fn = callbacks[callback] as ((a: ArgsOf<K>) => Awaitable<SpamVerdict>) | undefined;
      if (!fn) continue;
      const result = await runCallback(
        this.logger,
        plugin,
        callback,
        this.timeoutMs,
        () => fn.call(callbacks, args),
        isSpamVerdict,
      );
      if (!result.ok)
        return { errcode: 'M_FORBIDDEN', error: 'This request was refused by a server policy.' };
      if (result.value !== NOT_SPAM) return result.value;
    }
    return NOT_SPAM;
  }

  /** Runs `check` and throws the refusal as a 403 MatrixError carrying the checker's errcode and extras. */
  async assertAllowed<K extends VerdictCallback>(callback: K, args: ArgsOf<K>): Promise<void> {
    const verdict = await this.check(callback, args);
    if (verdict !== NOT_SPAM) {
      throw new MatrixError(
        403,
        verdict.errcode,
        verdict.error ?? 'This request was refused by a server policy.',
        verdict.extra ?? {},
      );
    }
  }

  /** ALLOW unless a plugin says DENY or SHADOW_BAN (the first that does wins); a failure denies. */
  async checkRegistrationForSpam(args: ArgsOf<'checkRegistrationForSpam'>): Promise<RegistrationVerdict> {
    for (const { plugin, callbacks } of this.chain) {
      const fn = callbacks.checkRegistrationForSpam;
      if (!fn) continue;
      const r = await runCallback(
        this.logger,
        plugin,
        'checkRegistrationForSpam',
        this.timeoutMs,
        () => fn.call(callbacks, args),
        isRegistrationVerdict,
      );
      if (!r.ok) return 'DENY';
      if (r.value !== 'ALLOW') return r.value;
    }
    return 'ALLOW';
  }

  /** True when any plugin wants the federated event dropped; a failure drops it. */
  async shouldDropFederatedEvent(args: ArgsOf<'shouldDropFederatedEvent'>): Promise<boolean> {
    for (const { plugin, callbacks } of this.chain) {
      const fn = callbacks.shouldDropFederatedEvent;
      if (!fn) continue;
      const r = await runCallback(
        this.logger,
        plugin,
        'shouldDropFederatedEvent',
        this.timeoutMs,
        () => fn.call(callbacks, args),
        isBoolean,
      );
      if (!r.ok || r.value) return true;
    }
    return false;
  }
}
