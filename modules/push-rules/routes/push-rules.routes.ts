import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf, type AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { parseRequest } from '../../../core/validation.js';
import { isRuleKind, type RuleKind } from '../rules/types.js';

const Action = Type.Union([Type.String(), Type.Record(Type.String(), Type.Unknown())]);
const Condition = Type.Object({
  kind: Type.String(),
  key: Type.Optional(Type.String()),
  pattern: Type.Optional(Type.String()),
  is: Type.Optional(Type.String()),
  value: Type.Optional(Type.Union([Type.String(), Type.Integer(), Type.Boolean(), Type.Null()])),
});
const RuleBody = Type.Object({
  actions: Type.Array(Action),
  conditions: Type.Optional(Type.Array(Condition)),
  pattern: Type.Optional(Type.String()),
});
const EnabledBody = Type.Object({ enabled: Type.Boolean() });
const ActionsBody = Type.Object({ actions: Type.Array(Action) });
const PlaceQuery = Type.Object({ before: Type.Optional(Type.String()), after: Type.Optional(Type.String()) });
const NotificationsQuery = Type.Object({
  from: Type.Optional(Type.String()),
  limit: Type.Optional(Type.String({ pattern: '^[0-9]+$' })),
  only: Type.Optional(Type.String()),
});

function ruleParams(ctx: AxonContext): { kind: RuleKind; ruleId: string } {
  const { kind, ruleId } = ctx.params as { kind: string; ruleId: string };
  if (!isRuleKind(kind)) throw new MatrixError(400, 'M_INVALID_PARAM', `Unknown push rule kind ${kind}`);
  return { kind, ruleId };
}

export function pushRulesRoutes(router: ModuleRouter, cradle: Cradle): void {
  const auth = { auth: 'required' } as const;
  const base = '/_matrix/client/v3/pushrules';

  router.get(`${base}/`, auth, async (ctx) => {
    ctx.body = { global: await cradle.pushRulesService.presented(requesterOf(ctx).userId) };
  });
  router.get(`${base}/global/`, auth, async (ctx) => {
    ctx.body = await cradle.pushRulesService.presented(requesterOf(ctx).userId);
  });

  const rule = `${base}/global/:kind/:ruleId`;
  router.get(rule, auth, async (ctx) => {
    const { kind, ruleId } = ruleParams(ctx);
    ctx.body = await cradle.pushRulesService.getRule(requesterOf(ctx).userId, kind, ruleId);
  });
  router.put(rule, auth, async (ctx) => {
    const { kind, ruleId } = ruleParams(ctx);
    const body = await readBody(ctx, RuleBody);
    const place = parseRequest(PlaceQuery, { ...ctx.query }, 'query');
    await cradle.pushRulesService.putRule(requesterOf(ctx).userId, kind, ruleId, body, place);
    ctx.body = {};
  });
  router.delete(rule, auth, async (ctx) => {
    const { kind, ruleId } = ruleParams(ctx);
    await cradle.pushRulesService.deleteRule(requesterOf(ctx).userId, kind, ruleId);
    ctx.body = {};
  });

  router.get(`${rule}/enabled`, auth, async (ctx) => {
    const { kind, ruleId } = ruleParams(ctx);
    ctx.body = {
      enabled: (await cradle.pushRulesService.getRule(requesterOf(ctx).userId, kind, ruleId)).enabled,
    };
  });
  router.put(`${rule}/enabled`, auth, async (ctx) => {
    const { kind, ruleId } = ruleParams(ctx);
    const { enabled } = await readBody(ctx, EnabledBody);
    await cradle.pushRulesService.setEnabled(requesterOf(ctx).userId, kind, ruleId, enabled);
    ctx.body = {};
  });
  router.get(`${rule}/actions`, auth, async (ctx) => {
    const { kind, ruleId } = ruleParams(ctx);
    ctx.body = {
      actions: (await cradle.pushRulesService.getRule(requesterOf(ctx).userId, kind, ruleId)).actions,
    };
  });
  router.put(`${rule}/actions`, auth, async (ctx) => {
    const { kind, ruleId } = ruleParams(ctx);
    const { actions } = await readBody(ctx, ActionsBody);
    await cradle.pushRulesService.setActions(requesterOf(ctx).userId, kind, ruleId, actions);
    ctx.body = {};
  });

  router.get('/_matrix/client/v3/notifications', auth, async (ctx) => {
    const q = parseRequest(NotificationsQuery, { ...ctx.query }, 'query');
    ctx.body = await cradle.notificationService.list(requesterOf(ctx).userId, {
      from: q.from,
      limit: q.limit === undefined ? undefined : Number(q.limit),
      only: q.only,
    });
  });
}
