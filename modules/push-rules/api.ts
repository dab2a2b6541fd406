/**
 * What other modules may use of the push-rules module. The sync feeds are `pushRulesFeed` (the
 * `m.push_rules` account data event) and `unreadCountsFeed` (modules/sync/api.ts).
 *
 * _Added in Axon 0.1._
 */
import type { Ruleset } from './rules/types.js';

export type { PushAction, PushCondition, PushRule, Ruleset, RuleKind } from './rules/types.js';

/** The push-rules stream on the notifier and in sync tokens. */
export const PUSH_RULES_STREAM = 'push_rules';

export interface PushRulesApi {
  /** The user's effective ruleset, as GET /pushrules/global/ returns it. */
  ruleset(userId: string): Promise<Ruleset>;
}
