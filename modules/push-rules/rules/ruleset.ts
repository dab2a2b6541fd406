/**
 * A user's effective ruleset: their own rules merged with the server defaults. Within a kind, user rules
 * come before server-default rules, except `.m.rule.master`, which always comes first (spec: Predefined
 * Rules). A user may change a default rule's `enabled` and `actions`, never remove it.
 */
import { defaultRules } from './default-rules.js';
import { RULE_KINDS, type PushAction, type PushRule, type RuleKind, type Ruleset } from './types.js';

export interface DefaultRuleOverride {
  readonly kind: RuleKind;
  readonly ruleId: string;
  readonly enabled?: boolean | undefined;
  readonly actions?: readonly PushAction[] | undefined;
}

export interface UserRule {
  readonly kind: RuleKind;
  /** Rules of one kind in priority order (most important first). */
  readonly rule: PushRule;
}

export function buildRuleset(
  userId: string,
  userRules: readonly UserRule[],
  overrides: readonly DefaultRuleOverride[],
): Ruleset {
  const defaults = defaultRules(userId);
  const out = {} as Record<RuleKind, PushRule[]>;
  for (const kind of RULE_KINDS) {
    const own = userRules.filter((r) => r.kind === kind).map((r) => r.rule);
    const builtin = defaults[kind].map((rule) => {
      const o = overrides.find((x) => x.kind === kind && x.ruleId === rule.rule_id);
      return o ? { ...rule, enabled: o.enabled ?? rule.enabled, actions: o.actions ?? rule.actions } : rule;
    });
    const master = builtin.filter((r) => r.rule_id === '.m.rule.master');
    out[kind] = [...master, ...own, ...builtin.filter((r) => r.rule_id !== '.m.rule.master')];
  }
  return out;
}

/** Whether `ruleId` names a server-default rule of `kind` (the only rule ids that start with a dot). */
export function isDefaultRule(userId: string, kind: RuleKind, ruleId: string): boolean {
  return defaultRules(userId)[kind].some((r) => r.rule_id === ruleId);
}

/** The rule as the client API shows it: `conditions` only on override/underride, `pattern` only on content. */
export function presentRule(kind: RuleKind, rule: PushRule): PushRule {
  const shown: { -readonly [K in keyof PushRule]: PushRule[K] } = {
    rule_id: rule.rule_id,
    default: rule.default,
    enabled: rule.enabled,
    actions: rule.actions,
  };
  if (kind === 'override' || kind === 'underride') shown.conditions = rule.conditions ?? [];
  if (kind === 'content' && rule.pattern !== undefined) shown.pattern = rule.pattern;
  return shown;
}
