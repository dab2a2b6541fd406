/** POST /keys/device_signing/upload (UIA when replacing keys) and /keys/signatures/upload. */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';

const AnyObject = Type.Record(Type.String(), Type.Unknown());

const DeviceSigningBody = Type.Object({
  master_key: Type.Optional(AnyObject),
  self_signing_key: Type.Optional(AnyObject),
  user_signing_key: Type.Optional(AnyObject),
  auth: Type.Optional(Type.Union([AnyObject, Type.Null()])),
});

const SignaturesBody = Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown()));

export function crossSigningRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.post('/_matrix/client/v3/keys/device_signing/upload', { auth: 'required' }, async (ctx) => {
    const requester = requesterOf(ctx);
    let body = await readBody(ctx, DeviceSigningBody);
    if (await cradle.e2eeCrossSigning.needsAuth(requester.userId, body)) {
      const done = await cradle.authApi.uia.require({
        requester,
        body,
        flows: [['m.login.password']],
        description: 'replace cross-signing keys',
        method: ctx.method,
        path: ctx.path,
      });
      // A client completing UIA may send only `auth`: the keys are those of the first request.
      if (!body.master_key && !body.self_signing_key && !body.user_signing_key)
        body = { ...body, ...(done.clientDict as typeof body) };
    }
    await cradle.e2eeCrossSigning.upload(requester.userId, body);
    ctx.body = {};
  });

  router.post('/_matrix/client/v3/keys/signatures/upload', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, SignaturesBody);
    ctx.body = { failures: await cradle.e2eeCrossSigning.uploadSignatures(requesterOf(ctx).userId, body) };
  });
}
