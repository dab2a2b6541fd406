import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { accessTokenOf } from '../../../core/http/auth.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import type { AuthDevice } from '../api.js';

const UpdateBody = Type.Object(
  { display_name: Type.Optional(Type.String()) },
  { additionalProperties: true },
);
const AuthBody = Type.Object(
  { auth: Type.Optional(Type.Object({}, { additionalProperties: true })) },
  { additionalProperties: true },
);
const DeleteDevicesBody = Type.Object(
  {
    devices: Type.Array(Type.String()),
    auth: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: true },
);

function deviceJson(d: AuthDevice): Record<string, unknown> {
  return {
    device_id: d.deviceId,
    ...(d.displayName !== null ? { display_name: d.displayName } : {}),
    ...(d.lastSeenIp !== null ? { last_seen_ip: d.lastSeenIp } : {}),
    ...(d.lastSeenTs !== null ? { last_seen_ts: d.lastSeenTs } : {}),
  };
}

/** Spec module "Device Management". */
export function devicesRoutes(router: ModuleRouter, cradle: Cradle): void {
  router.get('/_matrix/client/v3/devices', { auth: 'required' }, async (ctx) => {
    const devices = await cradle.authDevices.list(requesterOf(ctx).userId);
    ctx.body = { devices: devices.map(deviceJson) };
  });

  router.get('/_matrix/client/v3/devices/:deviceId', { auth: 'required' }, async (ctx) => {
    const device = await cradle.authDevices.get(requesterOf(ctx).userId, ctx.params['deviceId'] ?? '');
    if (!device) throw new MatrixError(404, 'M_NOT_FOUND', 'Not found');
    ctx.body = deviceJson(device);
  });

  router.put('/_matrix/client/v3/devices/:deviceId', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, UpdateBody);
    await cradle.authDevices.rename(requesterOf(ctx).userId, ctx.params['deviceId'] ?? '', body.display_name);
    ctx.body = {};
  });

  router.delete('/_matrix/client/v3/devices/:deviceId', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, AuthBody);
    await cradle.authDevices.delete(requesterOf(ctx), [ctx.params['deviceId'] ?? ''], body, {
      method: ctx.method,
      path: ctx.path,
      accessToken: accessTokenOf(ctx) ?? '',
    });
    ctx.body = {};
  });

  router.post('/_matrix/client/v3/delete_devices', { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, DeleteDevicesBody);
    const { devices, ...rest } = body;
    await cradle.authDevices.delete(requesterOf(ctx), devices, rest, {
      method: ctx.method,
      path: ctx.path,
      accessToken: accessTokenOf(ctx) ?? '',
    });
    ctx.body = {};
  });
}
