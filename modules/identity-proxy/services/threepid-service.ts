/**
 * 3PIDs on local accounts: listing, adding (after validation and UIA), deleting; and what the auth module
 * asks through its extension points: the `m.login.email.identity` UIA stage, resolving a 3PID to its user
 * (login with m.id.thirdparty, password reset), registration flows, binding the email a registration
 * validated, and dropping a deactivated user's 3PIDs.
 */
import type { Logger } from 'pino';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { Requester } from '../../../core/http/context.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import { withTransaction } from '../../../core/storage/transaction.js';
import type { UiaFlow, UiaStageHandler, ValidatedThreepid } from '../../auth/api.js';
import { checkIdServer } from './identity-server-client.js';
import { canonicalAddress } from './threepid-input.js';

export const EMAIL_IDENTITY = 'm.login.email.identity';
export const MSISDN = 'm.login.msisdn';

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ThreepidView {
  medium: string;
  address: string;
  validated_at: number;
  added_at: number;
}

export class ThreepidService {
  private readonly settings: Cradle['identityProxySettings'];
  private readonly store: Cradle['identityProxyThreepidsStore'];
  private readonly validation: Cradle['identityProxyValidation'];
  private readonly authApi: Cradle['authApi'];
  private readonly bindings: Cradle['identityProxyIdServerBindings'];
  private readonly db: Cradle['db'];
  private readonly logger: Logger;

  constructor(
    c: Pick<
      Cradle,
      | 'identityProxySettings'
      | 'identityProxyThreepidsStore'
      | 'identityProxyValidation'
      | 'authApi'
      | 'identityProxyIdServerBindings'
      | 'db'
      | 'logger'
    >,
  ) {
    this.settings = c.identityProxySettings;
    this.store = c.identityProxyThreepidsStore;
    this.validation = c.identityProxyValidation;
    this.authApi = c.authApi;
    this.bindings = c.identityProxyIdServerBindings;
    this.db = c.db;
    this.logger = c.logger.child({ module: 'identity-proxy' });
  }

  /** Plugs 3PIDs into auth (called once at boot). */
  connectToAuth(): void {
    const emailEnabled = this.validation.emailEnabled;
    const msisdnEnabled = this.settings.msisdnDelegate !== null;
    if (emailEnabled) this.authApi.registerUiaStage(EMAIL_IDENTITY, this.threepidStage(EMAIL_IDENTITY));
    if (msisdnEnabled) this.authApi.registerUiaStage(MSISDN, this.threepidStage(MSISDN));
    this.authApi.registerThreepidSupport({
      resolveUser: (medium, address) => this.resolveUser(medium, address),
      changesEnabled: this.settings.changesEnabled,
      registrationFlows: (base) => this.registrationFlows(base, emailEnabled, msisdnEnabled),
      passwordResetStage: emailEnabled ? EMAIL_IDENTITY : undefined,
    });
    this.authApi.onUserRegistered(async ({ userId, uiaResults }) => {
      for (const stage of [EMAIL_IDENTITY, MSISDN]) {
        const threepid = uiaResults[stage] as ValidatedThreepid | undefined;
        if (threepid) await this.bind(userId, threepid);
      }
    });
    this.authApi.onUserDeactivated(async ({ userId }) => {
      await this.bindings.unbindAll(userId);
      await this.store.deleteAllForUser(userId);
    });
  }

  /**
   * Synapse's registration flows: dummy unless a 3PID is required, the email flow unless msisdn is
   * required, the msisdn flow unless email is required, and msisdn + email when both are possible; each
   * takes the place of m.login.dummy in auth's flows (so a registration token stage stays first).
   */
  registrationFlows(base: readonly UiaFlow[], email: boolean, msisdn: boolean): UiaFlow[] {
    const { requireEmail, requireMsisdn } = this.settings;
    const variants: string[][] = [];
    if (!requireEmail && !requireMsisdn) variants.push(['m.login.dummy']);
    if (email && !requireMsisdn) variants.push([EMAIL_IDENTITY]);
    if (msisdn && !requireEmail) variants.push([MSISDN]);
    if (msisdn && email) variants.push([MSISDN, EMAIL_IDENTITY]);
    return base.flatMap((flow) =>
      variants.map((v) => flow.flatMap((stage) => (stage === 'm.login.dummy' ? v : [stage]))),
    );
  }

  private threepidStage(type: typeof EMAIL_IDENTITY | typeof MSISDN): UiaStageHandler {
    const medium = type === MSISDN ? 'msisdn' : 'email';
    return {
      check: async (auth, context) => {
        const purpose = /\/register$/.test(context.path)
          ? 'registration'
          : /\/account\/password$/.test(context.path)
            ? 'password_reset'
            : undefined;
        if (!purpose) {
          throw new MatrixError(400, 'M_UNRECOGNIZED', `${type} is not offered for this operation`);
        }
        const creds = auth['threepid_creds'] ?? auth['threepidCreds'];
        if (!isObject(creds))
          throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: threepid_creds');
        const sidAndSecret = { sid: creds['sid'], client_secret: creds['client_secret'] };
        if (medium === 'msisdn') await this.validation.confirmDelegated(sidAndSecret);
        // 401: the client may try again (Element polls this stage until the link is clicked).
        const threepid = await this.validation.consume(purpose, sidAndSecret, undefined, 401, medium);
        if (purpose === 'registration') {
          if (!this.validation.isAllowed(threepid.medium, threepid.address)) {
            throw new MatrixError(
              403,
              'M_THREEPID_DENIED',
              'Third-party identifier is not authorized on this server',
            );
          }
          if (await this.store.find(threepid.medium, threepid.address)) {
            throw new MatrixError(400, 'M_THREEPID_IN_USE', 'Third-party identifier is already in use');
          }
        }
        return threepid;
      },
    };
  }

  async resolveUser(medium: string, address: string): Promise<string | undefined> {
    let canonical: { medium: string; address: string };
    try {
      canonical = canonicalAddress(medium, address);
    } catch {
      return undefined;
    }
    return (await this.store.find(canonical.medium, canonical.address))?.userId;
  }

  async list(userId: string): Promise<ThreepidView[]> {
    return (await this.store.listForUser(userId)).map((t) => ({
      medium: t.medium,
      address: t.address,
      validated_at: t.validatedAt,
      added_at: t.addedAt,
    }));
  }

  /** POST /account/3pid/add: UIA (re-authentication), then the validated session's address joins the account. */
  async add(
    requester: Requester,
    body: Readonly<Record<string, unknown>>,
    request: { method: string; path: string },
  ): Promise<void> {
    this.assertChangesEnabled();
    const { clientDict } = await this.authApi.uia.require({
      requester,
      body,
      flows: this.authApi.uia.reauthFlows(),
      description: 'add a third-party identifier to your account',
      method: request.method,
      path: request.path,
    });
    await this.addValidated(requester.userId, clientDict);
  }

  /** The deprecated POST /account/3pid: `three_pid_creds` of a session Axon validated; no UIA, as Synapse. */
  async addDeprecated(requester: Requester, body: Readonly<Record<string, unknown>>): Promise<void> {
    this.assertChangesEnabled();
    const creds = body['three_pid_creds'] ?? body['threePidCreds'];
    if (!isObject(creds)) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: three_pid_creds');
    if (body['bind'] === true) {
      throw new MatrixError(400, 'M_UNRECOGNIZED', 'Binding to an identity server is not supported here');
    }
    await this.addValidated(requester.userId, creds);
  }

  private async addValidated(userId: string, creds: Readonly<Record<string, unknown>>): Promise<void> {
    if (creds['sid'] === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: sid');
    if (creds['client_secret'] === undefined)
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: client_secret');
    await this.validation.confirmDelegated({ sid: creds['sid'], client_secret: creds['client_secret'] });
    try {
      await withTransaction(this.db, async (trx) => {
        const threepid = await this.validation.consume(
          'add_threepid',
          { sid: creds['sid'], client_secret: creds['client_secret'] },
          trx,
        );
        if (!this.validation.isAllowed(threepid.medium, threepid.address)) {
          throw new MatrixError(
            403,
            'M_THREEPID_DENIED',
            'Third-party identifier is not allowed on this server',
          );
        }
        await this.store.insert(
          {
            userId,
            medium: threepid.medium,
            address: threepid.address,
            validatedAt: threepid.validated_at,
            addedAt: Date.now(),
          },
          trx,
        );
      });
    } catch (err) {
      if (isUniqueViolation(err))
        throw new MatrixError(400, 'M_THREEPID_IN_USE', 'Third-party identifier is already in use');
      throw err;
    }
  }

  /**
   * POST /account/3pid/delete: removes the 3PID from the account and unbinds it from the identity servers it
   * was bound at (and `id_server`); an identity server that cannot be reached makes the result `no-support`.
   */
  async delete(
    requester: Requester,
    body: Readonly<Record<string, unknown>>,
  ): Promise<{ id_server_unbind_result: string }> {
    this.assertChangesEnabled();
    const { medium, address } = canonicalAddress(body['medium'], body['address']);
    const idServer = body['id_server'] === undefined ? undefined : checkIdServer(body['id_server']);
    const result = await this.bindings.unbindEverywhere(requester.userId, medium, address, idServer, false);
    const removed = await this.store.delete(requester.userId, medium, address);
    if (!removed)
      this.logger.debug({ userId: requester.userId, medium }, '3PID to delete was not on the account');
    return { id_server_unbind_result: result };
  }

  /** Binds a validated 3PID to a new account; a concurrent binding elsewhere wins and is logged. */
  private async bind(userId: string, threepid: ValidatedThreepid): Promise<void> {
    try {
      await this.store.insert({
        userId,
        medium: threepid.medium,
        address: threepid.address,
        validatedAt: threepid.validated_at,
        addedAt: Date.now(),
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      this.logger.warn(
        { userId, medium: threepid.medium },
        'registered, but the validated 3PID was bound meanwhile',
      );
    }
  }

  private assertChangesEnabled(): void {
    if (!this.settings.changesEnabled) {
      throw new MatrixError(400, 'M_FORBIDDEN', '3PID changes are disabled on this server');
    }
  }
}
