/**
 * A stand-in for the auth module while these modules are tested on their own: a token `fake:<user>:<device>`
 * authenticates as that user and device, and `authApi.listDevices` lists the devices such tokens named.
 */
import { asValue } from 'awilix';
import { defineModule } from '../../../../core/define-module.js';
import { MatrixError } from '../../../../core/errors.js';
import type { AccessTokenResolver, Requester } from '../../../../core/http/context.js';

export function fakeAuthModule() {
  const devices = new Map<string, Set<string>>();
  const resolver: AccessTokenResolver = {
    async resolve(token: string): Promise<Requester> {
      const m = /^fake:(@[^:]+:[^:]+):(.+)$/.exec(token);
      if (!m?.[1] || !m[2]) throw new MatrixError(401, 'M_UNKNOWN_TOKEN', 'Unknown token');
      return { userId: m[1], deviceId: m[2], isGuest: false, accessTokenId: token };
    },
  };
  const authApi = {
    async listDevices(userId: string) {
      return [...(devices.get(userId) ?? [])].map((deviceId) => ({ userId, deviceId }));
    },
  };
  const module = defineModule({
    name: 'fake-auth',
    description: 'test stand-in for auth',
    enabledByDefault: true,
    register({ container }) {
      container.register({ accessTokenResolver: asValue(resolver), authApi: asValue(authApi) });
    },
  });
  /** A token for `userId` on `deviceId` (the device now exists for listDevices). */
  const token = (userId: string, deviceId = 'DEV1'): string => {
    let set = devices.get(userId);
    if (!set) devices.set(userId, (set = new Set()));
    set.add(deviceId);
    return `fake:${userId}:${deviceId}`;
  };
  return { module, token };
}
