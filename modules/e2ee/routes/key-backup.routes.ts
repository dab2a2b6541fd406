/** /room_keys/version and /room_keys/keys (spec "Server-side key backups"). */
import { Type } from '@sinclair/typebox';
import type { Cradle } from '../../../core/container.js';
import { readBody } from '../../../core/http/body.js';
import { requesterOf, type AxonContext } from '../../../core/http/context.js';
import type { ModuleRouter } from '../../../core/http/router-registry.js';
import { MatrixError } from '../../../core/errors.js';
import { parseRequest } from '../../../core/validation.js';

const AnyObject = Type.Record(Type.String(), Type.Unknown());

const CreateBody = Type.Object({ algorithm: Type.String(), auth_data: AnyObject });
const UpdateBody = Type.Object({
  algorithm: Type.String(),
  auth_data: AnyObject,
  version: Type.Optional(Type.String()),
});

const Session = Type.Object({
  first_message_index: Type.Integer({ minimum: 0 }),
  forwarded_count: Type.Integer({ minimum: 0 }),
  is_verified: Type.Boolean(),
  session_data: AnyObject,
});
const RoomSessions = Type.Object({ sessions: Type.Record(Type.String(), Session) });
const AllRooms = Type.Object({ rooms: Type.Record(Type.String(), RoomSessions) });
const VersionQuery = Type.Object({ version: Type.String() });

const BASE = '/_matrix/client/v3/room_keys';

function versionOf(ctx: AxonContext): string {
  return parseRequest(VersionQuery, { ...ctx.query }, 'query').version;
}

export function keyBackupRoutes(router: ModuleRouter, cradle: Cradle): void {
  const backup = () => cradle.e2eeKeyBackup;
  const user = (ctx: AxonContext) => requesterOf(ctx).userId;

  router.post(`${BASE}/version`, { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, CreateBody);
    ctx.body = { version: await backup().createVersion(user(ctx), body.algorithm, body.auth_data) };
  });
  router.get(`${BASE}/version`, { auth: 'required' }, async (ctx) => {
    ctx.body = await backup().getVersion(user(ctx));
  });
  router.get(`${BASE}/version/:version`, { auth: 'required' }, async (ctx) => {
    ctx.body = await backup().getVersion(user(ctx), ctx.params['version'] ?? '');
  });
  router.put(`${BASE}/version/:version`, { auth: 'required' }, async (ctx) => {
    const body = await readBody(ctx, UpdateBody);
    await backup().updateVersion(user(ctx), ctx.params['version'] ?? '', body);
    ctx.body = {};
  });
  router.delete(`${BASE}/version/:version`, { auth: 'required' }, async (ctx) => {
    await backup().deleteVersion(user(ctx), ctx.params['version'] ?? '');
    ctx.body = {};
  });

  router.put(`${BASE}/keys`, { auth: 'required' }, async (ctx) => {
    const version = versionOf(ctx);
    const body = await readBody(ctx, AllRooms);
    const rooms = Object.fromEntries(Object.entries(body.rooms).map(([roomId, r]) => [roomId, r.sessions]));
    ctx.body = await backup().putKeys(user(ctx), version, rooms);
  });
  router.put(`${BASE}/keys/:roomId`, { auth: 'required' }, async (ctx) => {
    const version = versionOf(ctx);
    const body = await readBody(ctx, RoomSessions);
    ctx.body = await backup().putKeys(user(ctx), version, { [ctx.params['roomId'] ?? '']: body.sessions });
  });
  router.put(`${BASE}/keys/:roomId/:sessionId`, { auth: 'required' }, async (ctx) => {
    const version = versionOf(ctx);
    const body = await readBody(ctx, Session);
    const roomId = ctx.params['roomId'] ?? '';
    ctx.body = await backup().putKeys(user(ctx), version, {
      [roomId]: { [ctx.params['sessionId'] ?? '']: body },
    });
  });

  router.get(`${BASE}/keys`, { auth: 'required' }, async (ctx) => {
    const rooms = await backup().getKeys(user(ctx), versionOf(ctx));
    ctx.body = {
      rooms: Object.fromEntries(Object.entries(rooms).map(([roomId, sessions]) => [roomId, { sessions }])),
    };
  });
  router.get(`${BASE}/keys/:roomId`, { auth: 'required' }, async (ctx) => {
    const roomId = ctx.params['roomId'] ?? '';
    const rooms = await backup().getKeys(user(ctx), versionOf(ctx), roomId);
    ctx.body = { sessions: rooms[roomId] ?? {} };
  });
  router.get(`${BASE}/keys/:roomId/:sessionId`, { auth: 'required' }, async (ctx) => {
    const roomId = ctx.params['roomId'] ?? '';
    const sessionId = ctx.params['sessionId'] ?? '';
    const rooms = await backup().getKeys(user(ctx), versionOf(ctx), roomId, sessionId);
    const session = rooms[roomId]?.[sessionId];
    if (!session) throw new MatrixError(404, 'M_NOT_FOUND', 'No room_keys found');
    ctx.body = session;
  });

  router.delete(`${BASE}/keys`, { auth: 'required' }, async (ctx) => {
    ctx.body = await backup().deleteKeys(user(ctx), versionOf(ctx));
  });
  router.delete(`${BASE}/keys/:roomId`, { auth: 'required' }, async (ctx) => {
    ctx.body = await backup().deleteKeys(user(ctx), versionOf(ctx), ctx.params['roomId'] ?? '');
  });
  router.delete(`${BASE}/keys/:roomId/:sessionId`, { auth: 'required' }, async (ctx) => {
    const params = ctx.params;
    ctx.body = await backup().deleteKeys(
      user(ctx),
      versionOf(ctx),
      params['roomId'] ?? '',
      params['sessionId'] ?? '',
    );
  });
}
