/**
 * Listeners other modules register through the AuthApi. They run after the change is committed; a failing
 * listener is logged and does not undo the change or fail the request.
 */
import type { Logger } from 'pino';
import type { Cradle } from '../../../core/container.js';
import type { ProfileChange, UserRegistered } from '../api.js';

type Listener<E> = (event: E) => Promise<void>;

export interface DeviceDeleted {
  userId: string;
  deviceIds: readonly string[];
}
export interface DeviceCreated {
  userId: string;
  deviceId: string;
}
export interface DeviceRenamed {
  userId: string;
  deviceId: string;
  displayName: string;
}
export interface UserDeactivated {
  userId: string;
  erase: boolean;
}

export class AuthEvents {
  private readonly logger: Logger;
  readonly profileChanged: Listener<ProfileChange>[] = [];
  readonly userDeactivated: Listener<UserDeactivated>[] = [];
  readonly deviceDeleted: Listener<DeviceDeleted>[] = [];
  readonly deviceCreated: Listener<DeviceCreated>[] = [];
  readonly deviceRenamed: Listener<DeviceRenamed>[] = [];
  readonly userRegistered: Listener<UserRegistered>[] = [];

  constructor({ logger }: Pick<Cradle, 'logger'>) {
    this.logger = logger.child({ module: 'auth', component: 'auth-events' });
  }

  async emit<E>(name: string, listeners: readonly Listener<E>[], event: E): Promise<void> {
    for (const listener of listeners) {
      try {
        await listener(event);
      } catch (err) {
        this.logger.error({ err, event: name }, `an ${name} listener failed`);
      }
    }
  }
}
