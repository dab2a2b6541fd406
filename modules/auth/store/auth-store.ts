/**
 * The only code that touches the auth module's tables, grouped by table family. Services depend on this one
 * object (`authStore` in the container).
 */
import type { Knex } from 'knex';
import type { Cradle } from '../../../core/container.js';
import { DevicesStore } from './devices-store.js';
import { ProfilesStore } from './profiles-store.js';
import { RegistrationTokensStore } from './registration-tokens-store.js';
import { TokensStore } from './tokens-store.js';
import { UiaStore } from './uia-store.js';
import { UsersStore } from './users-store.js';

export class AuthStore {
  readonly users: UsersStore;
  readonly devices: DevicesStore;
  readonly tokens: TokensStore;
  readonly profiles: ProfilesStore;
  readonly uia: UiaStore;
  readonly registrationTokens: RegistrationTokensStore;

  constructor({ db }: Pick<Cradle, 'db'>) {
    this.db = db;
    this.users = new UsersStore(db);
    this.devices = new DevicesStore(db);
    this.tokens = new TokensStore(db);
    this.profiles = new ProfilesStore(db);
    this.uia = new UiaStore(db);
    this.registrationTokens = new RegistrationTokensStore(db);
  }

  readonly db: Knex;
}
