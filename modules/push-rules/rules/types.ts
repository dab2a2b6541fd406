/** The push-rule data model of the spec (Push Rules, PushRule, PushCondition, actions). */

export const RULE_KINDS = ['override', 'content', 'room', 'sender', 'underride'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];

/** `notify`, or an object such as `{ set_tweak: 'sound', value: 'default' }`. */
export type PushAction = string | Readonly<Record<string, unknown>>;

export interface PushCondition {
  readonly kind: string;
  readonly key?: string;
  readonly pattern?: string;
  readonly is?: string;
  readonly value?: unknown;
}

export interface PushRule {
  readonly rule_id: string;
  readonly default: boolean;
  readonly enabled: boolean;
  readonly actions: readonly PushAction[];
  readonly conditions?: readonly PushCondition[];
  readonly pattern?: string;
}

/** A ruleset in evaluation order within each kind. */
export type Ruleset = { readonly [K in RuleKind]: readonly PushRule[] };

export function isRuleKind(value: string): value is RuleKind {
  return (RULE_KINDS as readonly string[]).includes(value);
}
