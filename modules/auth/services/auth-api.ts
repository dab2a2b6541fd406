/** The AuthApi other modules call (see ../api.ts), backed by this module's services. */
import type { Cradle } from '../../../core/container.js';
import type {
  AuthApi,
  AuthDevice,
  AuthUser,
  Profile,
  ProfileChange,
  RemoteProfileSource,
  ThreepidSupport,
  UiaService,
  UiaStageHandler,
  UserRegistered,
} from '../api.js';
import type { DeviceCreated, DeviceDeleted, DeviceRenamed, UserDeactivated } from './auth-events.js';

export class AuthApiImpl implements AuthApi {
  private readonly store: Cradle['authStore'];
  private readonly registration: Cradle['authRegistration'];
  private readonly passwords: Cradle['authPasswords'];
  private readonly profiles: Cradle['authProfiles'];
  private readonly devices: Cradle['authDevices'];
  private readonly events: Cradle['authEvents'];
  private readonly config: Cradle['authConfig'];
  private readonly extensions: Cradle['authExtensions'];
  readonly uia: UiaService;

  constructor(
    c: Pick<
      Cradle,
      | 'authStore'
      | 'authRegistration'
      | 'authPasswords'
      | 'authProfiles'
      | 'authDevices'
      | 'authEvents'
      | 'authUia'
      | 'authConfig'
      | 'authExtensions'
    >,
  ) {
    this.store = c.authStore;
    this.registration = c.authRegistration;
    this.passwords = c.authPasswords;
    this.profiles = c.authProfiles;
    this.devices = c.authDevices;
    this.events = c.authEvents;
    this.uia = c.authUia;
    this.config = c.authConfig;
    this.extensions = c.authExtensions;
  }

  capabilities(): Readonly<Record<string, unknown>> {
    const passwords = this.config.password_config;
    return {
      'm.change_password': { enabled: passwords.enabled !== false && passwords.localdb_enabled },
      'm.get_login_token': { enabled: this.config.login_via_existing_session.enabled },
      'm.set_displayname': { enabled: this.config.enable_set_displayname },
      'm.set_avatar_url': { enabled: this.config.enable_set_avatar_url },
      'm.profile_fields': { enabled: true },
      'm.3pid_changes': { enabled: this.extensions.threepids?.changesEnabled ?? false },
    };
  }

  async getUser(userId: string): Promise<AuthUser | undefined> {
    const row = await this.store.users.get(userId);
    if (!row) return undefined;
    const { passwordHash: _hash, ...user } = row;
    return user;
  }

  async userExists(userId: string): Promise<boolean> {
    const user = await this.store.users.get(userId);
    return user !== undefined && !user.deactivated;
  }

  async isServerAdmin(userId: string): Promise<boolean> {
    return (await this.store.users.get(userId))?.admin ?? false;
  }

  async isShadowBanned(userId: string): Promise<boolean> {
    return (await this.store.users.get(userId))?.shadowBanned ?? false;
  }

  async registerUser(
    localpart: string,
    options: { displayName?: string; admin?: boolean; password?: string } = {},
  ): Promise<string> {
    if (options.password !== undefined) this.passwords.checkPolicy(options.password);
    return this.registration.createUser(localpart.toLowerCase(), {
      passwordHash: options.password === undefined ? null : await this.passwords.hash(options.password),
      admin: options.admin,
      displayName: options.displayName,
    });
  }

  getProfile(userId: string): Promise<Profile | undefined> {
    return this.profiles.find(userId);
  }

  getDevice(userId: string, deviceId: string): Promise<AuthDevice | undefined> {
    return this.devices.get(userId, deviceId);
  }

  listDevices(userId: string): Promise<readonly AuthDevice[]> {
    return this.devices.list(userId);
  }

  onProfileChanged(listener: (change: ProfileChange) => Promise<void>): void {
    this.events.profileChanged.push(listener);
  }

  onUserDeactivated(listener: (event: UserDeactivated) => Promise<void>): void {
    this.events.userDeactivated.push(listener);
  }

  onDeviceDeleted(listener: (event: DeviceDeleted) => Promise<void>): void {
    this.events.deviceDeleted.push(listener);
  }

  onDeviceCreated(listener: (event: DeviceCreated) => Promise<void>): void {
    this.events.deviceCreated.push(listener);
  }

  onDeviceRenamed(listener: (event: DeviceRenamed) => Promise<void>): void {
    this.events.deviceRenamed.push(listener);
  }

  registerUiaStage(type: string, handler: UiaStageHandler): void {
    this.extensions.registerUiaStage(type, handler);
  }

  registerThreepidSupport(support: ThreepidSupport): void {
    this.extensions.registerThreepidSupport(support);
  }

  registerSharedRoomsCheck(check: (a: string, b: string) => Promise<boolean>): void {
    this.extensions.sharesRoom = check;
  }

  setRemoteProfileSource(source: RemoteProfileSource): void {
    this.extensions.remoteProfiles = source;
  }

  onUserRegistered(listener: (event: UserRegistered) => Promise<void>): void {
    this.events.userRegistered.push(listener);
  }
}
