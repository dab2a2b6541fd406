/**
 * What route files call: one line at the top of a handler, `await limitAction(ctx, 'message')`. It asks the
 * rate-limits module's limiters (when that module is enabled) and throws 429 M_LIMIT_EXCEEDED when refused.
 */
import { requesterOf, type AxonContext } from '../../core/http/context.js';
import type { ActionFacts, LimitedAction } from './services/user-rate-limits.js';

export type { LimitedAction } from './services/user-rate-limits.js';

export async function limitAction(
  ctx: AxonContext,
  action: LimitedAction,
  facts: Omit<ActionFacts, 'userId'> = {},
): Promise<void> {
  const scope = ctx.state.scope;
  if (!scope.hasRegistration('userRateLimits')) return;
  await scope.cradle.userRateLimits.limit(action, { ...facts, userId: requesterOf(ctx).userId });
}
