/**
 * Reading and changing a user's push rules (GET/PUT/DELETE /pushrules/global/...). Every change advances
 * the push_rules stream for that user, so their next sync carries the new `m.push_rules` account data.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { PUSH_RULES_STREAM } from '../api.js';
import { buildRuleset, isDefaultRule, presentRule } from '../rules/ruleset.js';
import type { PushAction, PushCondition, PushRule, RuleKind, Ruleset } from '../rules/types.js';
import type { PushRulesStore } from '../store/push-rules-store.js';

export interface RuleBody {
  readonly actions: readonly PushAction[];
  readonly conditions?: readonly PushCondition[] | undefined;
  readonly pattern?: string | undefined;
}

type Deps = Pick<Cradle, 'notifier'> & { pushRulesStore: PushRulesStore };

const notFound = (): MatrixError => new MatrixError(404, 'M_NOT_FOUND', 'Unknown push rule');

export class PushRulesService {
  /** Rulesets are read for every member on every event; a change here invalidates its user's entry. */
  private readonly cache = new Map<string, { at: number; ruleset: Ruleset }>();
  private static readonly CACHE_MS = 30_000;

  constructor(private readonly deps: Deps) {}

  async ruleset(userId: string): Promise<Ruleset> {
    const hit = this.cache.get(userId);
    if (hit && Date.now() - hit.at < PushRulesService.CACHE_MS) return hit.ruleset;
    const store = this.deps.pushRulesStore;
    const ruleset = buildRuleset(userId, await store.userRules(userId), await store.defaultOverrides(userId));
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(userId, { at: Date.now(), ruleset });
    return ruleset;
  }

  /** The ruleset as the client API shows it. */
  async presented(userId: string): Promise<Record<RuleKind, PushRule[]>> {
    const ruleset = await this.ruleset(userId);
    const out = {} as Record<RuleKind, PushRule[]>;
    for (const kind of Object.keys(ruleset) as RuleKind[])
      out[kind] = ruleset[kind].map((r) => presentRule(kind, r));
    return out;
  }

  async getRule(userId: string, kind: RuleKind, ruleId: string): Promise<PushRule> {
    const rule = (await this.ruleset(userId))[kind].find((r) => r.rule_id === ruleId);
    if (!rule) throw notFound();
    return presentRule(kind, rule);
  }

  async putRule(
    userId: string,
    kind: RuleKind,
    ruleId: string,
    body: RuleBody,
    position: { before?: string | undefined; after?: string | undefined },
  ): Promise<void> {
    if (ruleId.startsWith('.'))
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Rule ids starting with "." are reserved');
    if (ruleId === '' || /[/\\]/.test(ruleId))
      throw new MatrixError(
        400,
        'M_INVALID_PARAM',
        'Rule ids may not be empty or contain slashes or backslashes',
      );
    validateActions(body.actions);
    if (kind === 'content' && typeof body.pattern !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Content rules need a pattern');
    const rule = {
      actions: body.actions,
      conditions: kind === 'override' || kind === 'underride' ? (body.conditions ?? []) : undefined,
      pattern: kind === 'content' ? body.pattern : undefined,
    };
    for (const anchor of [position.before, position.after]) {
      if (anchor?.startsWith('.'))
        throw new MatrixError(
          400,
          'M_INVALID_PARAM',
          'A rule cannot be placed relative to a server-default rule',
        );
    }
    const check = (ids: readonly string[], anchor: string): number => {
      const i = ids.indexOf(anchor);
      if (i < 0) throw new MatrixError(404, 'M_NOT_FOUND', `Unknown rule ${anchor} for before/after`);
      return i;
    };
    await this.deps.pushRulesStore.putRule(userId, kind, ruleId, rule, (ids) => {
      // `before` wins when both are given (spec: the next most important rule with respect to `before`).
      if (position.before !== undefined) return check(ids, position.before);
      if (position.after !== undefined) return check(ids, position.after) + 1;
      return 0;
    });
    await this.changed(userId);
  }

  async deleteRule(userId: string, kind: RuleKind, ruleId: string): Promise<void> {
    if (isDefaultRule(userId, kind, ruleId))
      throw new MatrixError(400, 'M_INVALID_PARAM', 'Server-default rules cannot be deleted');
    if (!(await this.deps.pushRulesStore.deleteRule(userId, kind, ruleId))) throw notFound();
    await this.changed(userId);
  }

  async setEnabled(userId: string, kind: RuleKind, ruleId: string, enabled: boolean): Promise<void> {
    await this.update(userId, kind, ruleId, { enabled });
  }

  async setActions(
    userId: string,
    kind: RuleKind,
    ruleId: string,
    actions: readonly PushAction[],
  ): Promise<void> {
    validateActions(actions);
    await this.update(userId, kind, ruleId, { actions });
  }

  async currentPosition(): Promise<number> {
    return this.deps.pushRulesStore.currentPosition();
  }

  async lastChange(userId: string): Promise<number> {
    return this.deps.pushRulesStore.lastChange(userId);
  }

  private async update(
    userId: string,
    kind: RuleKind,
    ruleId: string,
    change: { enabled?: boolean; actions?: readonly PushAction[] },
  ): Promise<void> {
    const store = this.deps.pushRulesStore;
    if (isDefaultRule(userId, kind, ruleId)) await store.updateDefault(userId, kind, ruleId, change);
    else if (!(await store.updateRule(userId, kind, ruleId, change))) throw notFound();
    await this.changed(userId);
  }

  private async changed(userId: string): Promise<void> {
    this.cache.delete(userId);
    const position = await this.deps.pushRulesStore.recordChange(userId);
    this.deps.notifier.publish({ stream: PUSH_RULES_STREAM, position, userIds: [userId] });
  }
}

const KNOWN_STRING_ACTIONS = new Set(['notify', 'dont_notify', 'coalesce']);

/** Actions are `notify` (or a historical no-op) or an object with a string `set_tweak`. */
function validateActions(actions: readonly PushAction[]): void {
  for (const action of actions) {
    const ok =
      typeof action === 'string' ? KNOWN_STRING_ACTIONS.has(action) : typeof action['set_tweak'] === 'string';
    if (!ok) throw new MatrixError(400, 'M_UNKNOWN', `Unrecognised action ${JSON.stringify(action)}`);
  }
}
