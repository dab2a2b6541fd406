/** Spec: "Adding Account Administrative Contact Information": GET /account/3pid, add, delete, deprecated POST. */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

const AddBody = Type.Object(
  {
    auth: Type.Optional(Type.Object({}, { additionalProperties: true })),
    client_secret: Type.Optional(Type.String()),
    sid: Type.Optional(Type.String()),
  },
  { additionalProperties: true },
);
const DeleteBody = Type.Object(
  { medium: Type.String(), address: Type.String(), id_server: Type.Optional(Type.String()) },
  { additionalProperties: true },
);
const AnyObject = Type.Object({}, { additionalProperties: true });

export function threepidRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.get('/_matrix/client/v3/account/3pid', { auth: 'required' }, async (ctx) => {
    ctx.body = { threepids: await cradle.identityProxyThreepids.list(requesterOf(ctx).userId) };
  });

  router.post('/_matrix/client/v3/account/3pid/add', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, AddBody);
    await cradle.identityProxyThreepids.add(requesterOf(ctx), body, { method: ctx.method, path: ctx.path });
    ctx.body = {};
  });

  router.post('/_matrix/client/v3/account/3pid/delete', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, DeleteBody);
    ctx.body = await cradle.identityProxyThreepids.delete(requesterOf(ctx), body);
  });

  router.post('/_matrix/client/v3/account/3pid/bind', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, AnyObject);
    await cradle.identityProxyIdServerBindings.bind(requesterOf(ctx), body);
    ctx.body = {};
  });

  router.post('/_matrix/client/v3/account/3pid/unbind', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, AnyObject);
    ctx.body = await cradle.identityProxyIdServerBindings.unbind(requesterOf(ctx), body);
  });

  router.post('/_matrix/client/v3/account/3pid', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, AnyObject);
    await cradle.identityProxyThreepids.addDeprecated(requesterOf(ctx), body);
    ctx.body = {};
  });
}
