/**
 * Every plugin callback runs through here: timed out, its result checked by a runtime guard, and any
 * failure logged with `<plugin>.<callback>` and turned into the caller's fail-closed answer. A callback may
 * answer synchronously or with a promise; one that hangs is abandoned, not cancelled.
 */
import type { Logger } from 'pino';

export interface CallbackFailure {
  readonly plugin: string;
  readonly callback: string;
  readonly reason: string;
}

let timeoutOverrideMs: number | undefined;

/**
 * For tests only: every callback in this process is timed out after `ms` instead of its registry's limit
 * (`undefined` restores the registries' own), so a test of the time limit need not wait out 5 s.
 */
export function overrideCallbackTimeoutForTests(ms: number | undefined): void {
  timeoutOverrideMs = ms;
}

export async function runCallback<T>(
  logger: Logger,
  plugin: string,
  callback: string,
  timeoutMs: number,
  call: () => unknown,
  guard: (value: unknown) => value is T,
): Promise<{ ok: true; value: T } | { ok: false; failure: CallbackFailure }> {
  let timer: NodeJS.Timeout | undefined;
  const limitMs = timeoutOverrideMs ?? timeoutMs;
  const started = performance.now();
  try {
    const value = await Promise.race([
      Promise.resolve().then(call),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${limitMs} ms`)), limitMs);
      }),
    ]);
    if (!guard(value)) {
      return fail(logger, plugin, callback, `returned an invalid value: ${safeDescribe(value)}`);
    }
    return { ok: true, value };
  } catch (err) {
    return fail(logger, plugin, callback, err instanceof Error ? err.message : String(err), err);
  } finally {
    clearTimeout(timer);
    logger.trace({ plugin, callback, ms: performance.now() - started }, 'plugin callback');
  }
}

function fail(
  logger: Logger,
  plugin: string,
  callback: string,
  reason: string,
  err?: unknown,
): { ok: false; failure: CallbackFailure } {
  logger.error(
    { plugin, callback, err },
    `plugin ${plugin}.${callback} failed (${reason}); refusing the action`,
  );
  return { ok: false, failure: { plugin, callback, reason } };
}

function safeDescribe(value: unknown): string {
  try {
    return JSON.stringify(value)?.slice(0, 200) ?? String(value);
  } catch {
    return typeof value;
  }
}
