/**
 * User-interactive authentication (spec: Client-Server API, "User-Interactive Authentication API").
 * Sessions live in the database so any process can continue one; a session is bound to the method and
 * path that created it, remembers the request body (minus `auth`), and is deleted once its operation is
 * authorised so that it can never authorise a second one.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { Requester } from '../../../core/http/context.js';
import type { UiaFlow, UiaRequest, UiaResult, UiaService } from '../api.js';
import { generateSessionId } from './tokens.js';

/** Synapse keeps unfinished UIA sessions for 48 hours. */
export const UIA_SESSION_LIFETIME_MS = 48 * 3_600_000;

/** The 401 UIA response: flows/params/session/completed, plus errcode and error only when a stage failed. */
export class UiaRequiredError extends MatrixError {
  constructor(
    readonly session: string,
    body: Record<string, unknown>,
    private readonly failure?: { errcode: string; message: string },
  ) {
    super(
      401,
      failure?.errcode ?? 'M_UNAUTHORIZED',
      failure?.message ?? 'Additional authentication required',
      body,
    );
  }

  override toJSON(): Record<string, unknown> {
    return this.failure ? super.toJSON() : { ...this.extra };
  }
}

/** The full result, with the server-side data stored in the session (registration keeps a password hash there). */
export interface UiaOutcome extends UiaResult {
  readonly serverData: Readonly<Record<string, unknown>>;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export class UiaServiceImpl implements UiaService {
  private readonly store: Cradle['authStore'];
  private readonly passwords: Cradle['authPasswords'];
  private readonly rateLimits: Cradle['authRateLimits'];
  private readonly registrationTokens: Cradle['authRegistrationTokens'];
  private readonly extensions: Cradle['authExtensions'];

  constructor({
    authStore,
    authPasswords,
    authRateLimits,
    authRegistrationTokens,
    authExtensions,
  }: Pick<
    Cradle,
    'authStore' | 'authPasswords' | 'authRateLimits' | 'authRegistrationTokens' | 'authExtensions'
  >) {
    this.store = authStore;
    this.passwords = authPasswords;
    this.rateLimits = authRateLimits;
    this.registrationTokens = authRegistrationTokens;
    this.extensions = authExtensions;
  }

  /** The flows for re-authenticating an existing user: password (when allowed) and the providers' types. */
  reauthFlows(): UiaFlow[] {
    const flows: UiaFlow[] = [];
    if (this.passwords.passwordReauthEnabled) flows.push(['m.login.password']);
    for (const t of this.passwords.loginTypes()) if (t !== 'm.login.password') flows.push([t]);
    return flows;
  }

  async require(request: UiaRequest): Promise<UiaResult> {
    return this.run(request);
  }

  /** `require` with the session's server-side data; `beforeChallenge` may store data before a 401 is sent. */
  async run(
    request: UiaRequest,
    beforeChallenge?: (sessionId: string) => Promise<void>,
  ): Promise<UiaOutcome> {
    const auth = isObject(request.body['auth']) ? request.body['auth'] : undefined;
    const { auth: _auth, ...bodyWithoutAuth } = request.body;
    let clientDict: Record<string, unknown> = bodyWithoutAuth;
    const sessionId = typeof auth?.['session'] === 'string' ? auth['session'] : undefined;
    let completed: Record<string, unknown> = {};
    let serverData: Record<string, unknown> = {};
    let session: string;
    if (sessionId !== undefined) {
      const row = await this.store.uia.get(sessionId);
      if (!row || row.creationTs + UIA_SESSION_LIFETIME_MS < Date.now()) {
        throw new MatrixError(400, 'M_UNKNOWN', `Unknown session ID: ${sessionId}`);
      }
      if (row.uri !== request.path || row.method !== request.method) {
        throw new MatrixError(
          403,
          'M_FORBIDDEN',
          'Requested operation has changed during the UI authentication session.',
        );
      }
      session = row.sessionId;
      completed = { ...row.completed };
      serverData = { ...row.serverDict };
      if (Object.keys(clientDict).length > 0) await this.store.uia.setClientDict(session, clientDict);
      else clientDict = row.clientDict;
    } else {
      session = generateSessionId();
      await this.store.uia.create({
        sessionId: session,
        creationTs: Date.now(),
        uri: request.path,
        method: request.method,
        description: request.description,
        clientDict,
      });
    }

    const challenge = (failure?: { errcode: string; message: string }): UiaRequiredError =>
      new UiaRequiredError(
        session,
        {
          flows: request.flows.map((stages) => ({ stages: [...stages] })),
          params: request.params ?? {},
          session,
          ...(Object.keys(completed).length > 0 ? { completed: Object.keys(completed) } : {}),
        },
        failure,
      );

    const type = auth?.['type'];
    if (typeof type === 'string' && !Object.hasOwn(completed, type)) {
      if (!request.flows.some((flow) => flow.includes(type))) {
        throw new MatrixError(400, 'M_UNRECOGNIZED', 'Unknown authentication type');
      }
      let result: unknown;
      try {
        result = await this.checkStage(type, auth ?? {}, request, session);
      } catch (err) {
        if (err instanceof StageFailure) {
          if (beforeChallenge) await beforeChallenge(session);
          throw challenge({ errcode: err.errcode, message: err.message });
        }
        throw err;
      }
      completed[type] = result;
      await this.store.uia.setCompleted(session, completed);
    }

    if (request.flows.some((flow) => flow.every((stage) => Object.hasOwn(completed, stage)))) {
      await this.store.uia.delete(session);
      return { sessionId: session, completed, clientDict, serverData };
    }
    if (beforeChallenge) await beforeChallenge(session);
    throw challenge();
  }

  async setSessionData(sessionId: string, key: string, value: unknown): Promise<void> {
    const row = await this.store.uia.get(sessionId);
    if (!row) return;
    await this.store.uia.setServerDict(sessionId, { ...row.serverDict, [key]: value });
  }

  async getSessionData(sessionId: string, key: string): Promise<unknown> {
    return (await this.store.uia.get(sessionId))?.serverDict[key];
  }

  private async checkStage(
    type: string,
    auth: Record<string, unknown>,
    request: UiaRequest,
    session: string,
  ): Promise<unknown> {
    const requester = request.requester;
    switch (type) {
      case 'm.login.dummy':
        return true;
      case 'm.login.registration_token': {
        const token = auth['token'];
        if (typeof token !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing token');
        if (!(await this.registrationTokens.claim(token, session))) {
          throw new StageFailure('M_UNAUTHORIZED', 'Invalid registration token');
        }
        return token;
      }
      default: {
        const handler = this.extensions.uiaStage(type);
        if (!handler) return this.checkCredentials(type, auth, requester);
        try {
          return await handler.check(auth, {
            requester,
            sessionId: session,
            method: request.method,
            path: request.path,
          });
        } catch (err) {
          // A stage another module provides signals "try again" with a 401 MatrixError.
          if (err instanceof MatrixError && err.status === 401)
            throw new StageFailure(err.errcode, err.message);
          throw err;
        }
      }
    }
  }

  /** m.login.password (and provider login types): the identified user must be the requester. */
  private async checkCredentials(
    type: string,
    auth: Record<string, unknown>,
    requester: Requester | null,
  ): Promise<string> {
    if (type === 'm.login.password' && !this.passwords.passwordReauthEnabled) {
      throw new MatrixError(400, 'M_UNRECOGNIZED', 'Password authentication is disabled');
    }
    const named = userFromAuthDict(auth) ?? requester?.userId;
    if (named === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing user identifier');
    const userId = this.passwords.qualify(named);
    if (requester && userId.toLowerCase() !== requester.userId.toLowerCase()) {
      throw new MatrixError(403, 'M_FORBIDDEN', 'Invalid auth');
    }
    this.rateLimits.failedAttempts.assert(userId.toLowerCase(), { update: false });
    const { type: _type, session: _session, identifier: _identifier, user: _user, ...fields } = auth;
    const result = await this.passwords.check(requester?.userId ?? userId, type, fields);
    if (!result || (requester && result.userId !== requester.userId)) {
      this.rateLimits.failedAttempts.record(userId.toLowerCase());
      throw new StageFailure('M_FORBIDDEN', 'Invalid password');
    }
    return result.userId;
  }
}

/** A stage the client may try again: answered with the 401 UIA body plus errcode/error. */
class StageFailure extends Error {
  constructor(
    readonly errcode: string,
    message: string,
  ) {
    super(message);
  }
}

/** The user an auth dict or login body names: `identifier` (m.id.user) or the deprecated `user`. */
export function userFromAuthDict(dict: Readonly<Record<string, unknown>>): string | undefined {
  const identifier = dict['identifier'];
  if (isObject(identifier)) {
    if (identifier['type'] === 'm.id.user' && typeof identifier['user'] === 'string')
      return identifier['user'];
    return undefined;
  }
  return typeof dict['user'] === 'string' ? dict['user'] : undefined;
}
