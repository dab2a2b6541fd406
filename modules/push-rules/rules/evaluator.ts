/**
 * The push-rule evaluator: pure, no I/O. Given a user's ruleset, an event (client format) and the facts a
 * few conditions need (member count, display name, power levels), it finds the first matching rule in the
 * spec's order (override, content, room, sender, underride) and returns its actions.
 */
import { containsWords, globMatchesWhole, globMatchesWords } from './glob.js';
import { valueAtPath } from './property-path.js';
import {
  RULE_KINDS,
  type PushAction,
  type PushCondition,
  type PushRule,
  type RuleKind,
  type Ruleset,
} from './types.js';

/** What the conditions need to know beyond the event itself. */
export interface EvaluationContext {
  /** The user whose rules these are. */
  readonly userId: string;
  /** Their display name in the room (for the deprecated `contains_display_name`). */
  readonly displayName?: string | undefined;
  /** Joined members of the room. */
  readonly roomMemberCount: number;
  /** The sender's power level in the room. */
  readonly senderPowerLevel: number;
  /** The `notifications` object of the room's power levels (`room` defaults to 50 when absent). */
  readonly notificationPowerLevels: Readonly<Record<string, unknown>>;
}

export interface RuleMatch {
  readonly kind: RuleKind;
  readonly rule: PushRule;
  /** The rule's actions without the historical `dont_notify` and `coalesce`. */
  readonly actions: readonly PushAction[];
  readonly notify: boolean;
  readonly highlight: boolean;
}

/** Minimal shape the evaluator reads from an event. */
export type EvaluatedEvent = Readonly<Record<string, unknown>>;

const HISTORICAL_ACTIONS = new Set(['dont_notify', 'coalesce']);

/** The first enabled rule that matches `event`, or undefined when none does. */
export function evaluate(
  ruleset: Ruleset,
  event: EvaluatedEvent,
  ctx: EvaluationContext,
): RuleMatch | undefined {
  for (const kind of RULE_KINDS) {
    for (const rule of ruleset[kind]) {
      if (!rule.enabled) continue;
      if (ruleMatches(kind, rule, event, ctx)) {
        const actions = cleanActions(rule.actions);
        return { kind, rule, actions, notify: actions.includes('notify'), highlight: isHighlight(actions) };
      }
    }
  }
  return undefined;
}

export function ruleMatches(
  kind: RuleKind,
  rule: PushRule,
  event: EvaluatedEvent,
  ctx: EvaluationContext,
): boolean {
  switch (kind) {
    case 'override':
    case 'underride':
      return (rule.conditions ?? []).every((c) => conditionMatches(c, event, ctx));
    case 'content': {
      const body = valueAtPath(event, 'content.body');
      return (
        typeof rule.pattern === 'string' && typeof body === 'string' && globMatchesWords(rule.pattern, body)
      );
    }
    case 'room':
      return event['room_id'] === rule.rule_id;
    case 'sender':
      return event['sender'] === rule.rule_id;
  }
}

/** One condition; unrecognised or malformed conditions never match (spec: Conditions). */
export function conditionMatches(
  condition: PushCondition,
  event: EvaluatedEvent,
  ctx: EvaluationContext,
): boolean {
  switch (condition.kind) {
    case 'event_match': {
      if (typeof condition.key !== 'string' || typeof condition.pattern !== 'string') return false;
      const value = valueAtPath(event, condition.key);
      if (typeof value !== 'string') return false;
      return condition.key === 'content.body'
        ? globMatchesWords(condition.pattern, value)
        : globMatchesWhole(condition.pattern, value);
    }
    case 'event_property_is': {
      if (typeof condition.key !== 'string' || !isScalar(condition.value)) return false;
      const value = valueAtPath(event, condition.key);
      return isScalar(value) && value === condition.value;
    }
    case 'event_property_contains': {
      if (typeof condition.key !== 'string' || !isScalar(condition.value)) return false;
      const value = valueAtPath(event, condition.key);
      return Array.isArray(value) && value.some((item) => isScalar(item) && item === condition.value);
    }
    case 'contains_display_name': {
      const body = valueAtPath(event, 'content.body');
      const name = ctx.displayName;
      return typeof body === 'string' && typeof name === 'string' && name !== '' && containsWords(name, body);
    }
    case 'room_member_count':
      return typeof condition.is === 'string' && memberCountMatches(condition.is, ctx.roomMemberCount);
    case 'sender_notification_permission': {
      if (typeof condition.key !== 'string') return false;
      const required = ctx.notificationPowerLevels[condition.key];
      const level = isInteger(required) ? required : condition.key === 'room' ? 50 : undefined;
      // A notification type with no level and no spec default cannot be granted.
      return level !== undefined && ctx.senderPowerLevel >= level;
    }
    default:
      return false;
  }
}

/** `is` of `room_member_count`: a decimal integer optionally prefixed by ==, <, >, <= or >=. */
export function memberCountMatches(is: string, count: number): boolean {
  const m = /^(==|<=|>=|<|>)?([0-9]+)$/.exec(is);
  if (!m) return false;
  const n = Number(m[2]);
  switch (m[1] ?? '==') {
    case '<':
      return count < n;
    case '>':
      return count > n;
    case '<=':
      return count <= n;
    case '>=':
      return count >= n;
    default:
      return count === n;
  }
}

/** Actions with the historical `dont_notify` and `coalesce` stripped (spec: Historical Actions). */
export function cleanActions(actions: readonly PushAction[]): PushAction[] {
  return actions.filter((a) => typeof a !== 'string' || !HISTORICAL_ACTIONS.has(a));
}

/** A `highlight` tweak with no value means true; no highlight tweak at all means false. */
export function isHighlight(actions: readonly PushAction[]): boolean {
  for (const action of actions) {
    if (typeof action === 'object' && action['set_tweak'] === 'highlight') {
      return !('value' in action) || action['value'] === true;
    }
  }
  return false;
}

function isInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value);
}

/** Non-compound canonical JSON values: strings, integers in the safe range, booleans and null. */
function isScalar(value: unknown): value is string | number | boolean | null {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || isInteger(value);
}
