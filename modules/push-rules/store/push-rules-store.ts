/** The only code that touches the push-rule tables (rules, default overrides, the change stream). */
import type { Knex } from 'knex';
import { fromJsonColumn, toJsonColumn, toNumber } from '../../../core/storage/dialect.js';
import { withTransaction, type Queryable } from '../../../core/storage/transaction.js';
import type { DefaultRuleOverride, UserRule } from '../rules/ruleset.js';
import type { PushAction, PushCondition, PushRule, RuleKind } from '../rules/types.js';

interface RuleRaw {
  kind: string;
  rule_id: string;
  priority: number;
  conditions: string | null;
  pattern: string | null;
  actions: string;
  enabled: boolean | number;
}

interface DefaultRaw {
  kind: string;
  rule_id: string;
  enabled: boolean | number | null;
  actions: string | null;
}

function toUserRule(r: RuleRaw): UserRule {
  const rule: { -readonly [K in keyof PushRule]: PushRule[K] } = {
    rule_id: r.rule_id,
    default: false,
    enabled: Boolean(r.enabled),
    actions: fromJsonColumn<PushAction[]>(r.actions) ?? [],
  };
  const conditions = fromJsonColumn<PushCondition[]>(r.conditions);
  if (conditions) rule.conditions = conditions;
  if (r.pattern !== null) rule.pattern = r.pattern;
  return { kind: r.kind as RuleKind, rule };
}

export interface NewRule {
  readonly conditions?: readonly PushCondition[] | undefined;
  readonly pattern?: string | undefined;
  readonly actions: readonly PushAction[];
}

export class PushRulesStore {
  private readonly db: Knex;

  constructor({ db }: { db: Knex }) {
    this.db = db;
  }

  /** The user's own rules, each kind in priority order. */
  async userRules(userId: string, trx?: Queryable): Promise<UserRule[]> {
    const rows = (await (trx ?? this.db)('push_rules_rules')
      .where({ user_id: userId })
      .orderBy([{ column: 'kind' }, { column: 'priority' }])) as RuleRaw[];
    return rows.map(toUserRule);
  }

  async defaultOverrides(userId: string, trx?: Queryable): Promise<DefaultRuleOverride[]> {
    const rows = (await (trx ?? this.db)('push_rules_defaults').where({ user_id: userId })) as DefaultRaw[];
    return rows.map((r) => ({
      kind: r.kind as RuleKind,
      ruleId: r.rule_id,
      enabled: r.enabled === null ? undefined : Boolean(r.enabled),
      actions: fromJsonColumn<PushAction[]>(r.actions),
    }));
  }

  /**
   * Inserts or replaces a user rule at `index` among the kind's rules (0: most important). The kind's rules
   * are renumbered in the same transaction; a user has few rules per kind.
   */
  async putRule(
    userId: string,
    kind: RuleKind,
    ruleId: string,
    rule: NewRule,
    place: (orderedIds: readonly string[]) => number,
    trx?: Queryable,
  ): Promise<void> {
    await withTransaction(trx ?? this.db, async (tx) => {
      const existing = (await tx('push_rules_rules')
        .where({ user_id: userId, kind })
        .orderBy('priority')) as RuleRaw[];
      const previous = existing.find((r) => r.rule_id === ruleId);
      const others = existing.map((r) => r.rule_id).filter((id) => id !== ruleId);
      const index = Math.max(0, Math.min(place(others), others.length));
      const ordered = [...others.slice(0, index), ruleId, ...others.slice(index)];
      await tx('push_rules_rules').where({ user_id: userId, kind, rule_id: ruleId }).delete();
      await tx('push_rules_rules').insert({
        user_id: userId,
        kind,
        rule_id: ruleId,
        priority: index,
        conditions: rule.conditions === undefined ? null : toJsonColumn(rule.conditions),
        pattern: rule.pattern ?? null,
        actions: toJsonColumn(rule.actions),
        // An update keeps the rule's enabled flag; a new rule is enabled (spec: PUT push rule).
        enabled: previous ? Boolean(previous.enabled) : true,
      });
      for (const [i, id] of ordered.entries()) {
        await tx('push_rules_rules').where({ user_id: userId, kind, rule_id: id }).update({ priority: i });
      }
    });
  }

  /** Whether a rule was deleted. */
  async deleteRule(userId: string, kind: RuleKind, ruleId: string, trx?: Queryable): Promise<boolean> {
    return (
      (await (trx ?? this.db)('push_rules_rules')
        .where({ user_id: userId, kind, rule_id: ruleId })
        .delete()) > 0
    );
  }

  /** Whether the user rule exists and was updated. */
  async updateRule(
    userId: string,
    kind: RuleKind,
    ruleId: string,
    change: { enabled?: boolean; actions?: readonly PushAction[] },
    trx?: Queryable,
  ): Promise<boolean> {
    const patch: Record<string, unknown> = {};
    if (change.enabled !== undefined) patch['enabled'] = change.enabled;
    if (change.actions !== undefined) patch['actions'] = toJsonColumn(change.actions);
    return (
      (await (trx ?? this.db)('push_rules_rules')
        .where({ user_id: userId, kind, rule_id: ruleId })
        .update(patch)) > 0
    );
  }

  async updateDefault(
    userId: string,
    kind: RuleKind,
    ruleId: string,
    change: { enabled?: boolean; actions?: readonly PushAction[] },
    trx?: Queryable,
  ): Promise<void> {
    const patch: Record<string, unknown> = {};
    if (change.enabled !== undefined) patch['enabled'] = change.enabled;
    if (change.actions !== undefined) patch['actions'] = toJsonColumn(change.actions);
    await (trx ?? this.db)('push_rules_defaults')
      .insert({ user_id: userId, kind, rule_id: ruleId, enabled: null, actions: null, ...patch })
      .onConflict(['user_id', 'kind', 'rule_id'])
      .merge(Object.keys(patch));
  }

  /** Records that the user's rules changed, at a fresh position of the push_rules stream. */
  async recordChange(userId: string, trx?: Queryable): Promise<number> {
    return withTransaction(trx ?? this.db, async (tx) => {
      await tx('push_rules_stream').where({ id: 1 }).increment('position', 1);
      const counter = (await tx('push_rules_stream').where({ id: 1 }).first()) as {
        position: string | number;
      };
      const position = toNumber(counter.position);
      await tx('push_rules_changes')
        .insert({ user_id: userId, stream_position: position })
        .onConflict('user_id')
        .merge(['stream_position']);
      return position;
    });
  }

  /** The position of the user's last change, or 0. */
  async lastChange(userId: string, trx?: Queryable): Promise<number> {
    const row = (await (trx ?? this.db)('push_rules_changes').where({ user_id: userId }).first()) as
      { stream_position: string | number } | undefined;
    return toNumber(row?.stream_position);
  }

  async currentPosition(trx?: Queryable): Promise<number> {
    const row = (await (trx ?? this.db)('push_rules_stream').where({ id: 1 }).first()) as
      { position: string | number } | undefined;
    return toNumber(row?.position);
  }
}
