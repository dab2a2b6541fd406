/**
 * Email validation sessions, run by Axon itself (Synapse's "local" threepid behaviour): requestToken mails
 * a link with a single-use token; the link (or a POST of the token) marks the session validated; an
 * operation (registration, password reset, adding the address to an account) then consumes the validated
 * session exactly once.
 */
import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import type { Queryable } from '../../../core/storage/transaction.js';
import type { ValidatedThreepid } from '../../auth/api.js';
import type { ValidationPurpose, ValidationSession } from '../store/validation-sessions-store.js';
import { substitute } from './templates.js';
import { IdentityServerError } from './identity-server-client.js';
import {
  canonicalEmail,
  canonicalMsisdn,
  checkClientSecret,
  checkNextLink,
  checkSendAttempt,
} from './threepid-input.js';

/** A validated session may be used for this long after it was created (Synapse: 24 h). */
export const VALIDATION_SESSION_LIFETIME_MS = 24 * 3_600_000;

/** The path segment of each purpose's links, as Synapse names them. */
export const LINK_PATHS: Readonly<Record<ValidationPurpose, string>> = {
  registration: '/_matrix/client/unstable/registration/email/submit_token',
  add_threepid: '/_matrix/client/unstable/add_threepid/email/submit_token',
  password_reset: '/_synapse/client/password_reset/email/submit_token',
};

/** Where a client posts an SMS code (Synapse's path, for every purpose); Axon passes it to the delegate. */
export const MSISDN_SUBMIT_PATH = '/_matrix/client/unstable/add_threepid/msisdn/submit_token';

/** Where a client may POST the token as JSON (the requestToken response's submit_url). */
export const SUBMIT_PATHS: Readonly<Record<ValidationPurpose, string>> = {
  registration: LINK_PATHS.registration,
  add_threepid: LINK_PATHS.add_threepid,
  password_reset: '/_matrix/client/unstable/password_reset/email/submit_token',
};

const TEMPLATE: Readonly<Record<ValidationPurpose, string>> = {
  registration: 'registration',
  add_threepid: 'add_threepid',
  password_reset: 'password_reset',
};

const sha256 = (s: string): string => createHash('sha256').update(s, 'utf8').digest('hex');

const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
/** Synapse's random_string(32): 190 bits, unguessable. */
function randomToken(length = 32): string {
  let s = '';
  for (let i = 0; i < length; i++) s += ALPHANUM[randomInt(ALPHANUM.length)];
  return s;
}

const authFailed = (message: string): MatrixError => new MatrixError(400, 'M_THREEPID_AUTH_FAILED', message);

export interface RequestTokenResult {
  sid: string;
  submit_url?: string;
}

export class ValidationService {
  private readonly settings: Cradle['identityProxySettings'];
  private readonly sessions: Cradle['identityProxySessionsStore'];
  private readonly threepids: Cradle['identityProxyThreepidsStore'];
  private readonly mail: Cradle['identityProxyMailQueue'];
  private readonly templates: Cradle['identityProxyTemplates'];
  private readonly rateLimits: Cradle['identityProxyRateLimits'];
  private readonly idServers: Cradle['identityProxyIdServerClient'];
  private readonly serverName: string;
  private readonly baseUrl: string;

  constructor(
    c: Pick<
      Cradle,
      | 'identityProxySettings'
      | 'identityProxySessionsStore'
      | 'identityProxyThreepidsStore'
      | 'identityProxyMailQueue'
      | 'identityProxyTemplates'
      | 'identityProxyRateLimits'
      | 'identityProxyIdServerClient'
      | 'serverName'
      | 'config'
    >,
  ) {
    this.settings = c.identityProxySettings;
    this.sessions = c.identityProxySessionsStore;
    this.threepids = c.identityProxyThreepidsStore;
    this.mail = c.identityProxyMailQueue;
    this.templates = c.identityProxyTemplates;
    this.rateLimits = c.identityProxyRateLimits;
    this.idServers = c.identityProxyIdServerClient;
    this.serverName = c.serverName;
    this.baseUrl = (c.config.public_baseurl ?? `https://${c.serverName}/`).replace(/\/+$/, '');
  }

  get emailEnabled(): boolean {
    return this.settings.email !== null;
  }

  /** Whether allowed_local_3pids lets this address be used (no rules: everything is allowed). */
  isAllowed(medium: string, address: string): boolean {
    if (this.settings.allowed.length === 0) return true;
    return this.settings.allowed.some((r) => r.medium === medium && r.pattern.test(address));
  }

  /** POST /register|/account/password|/account/3pid /email/requestToken. */
  async requestEmailToken(
    purpose: ValidationPurpose,
    body: Readonly<Record<string, unknown>>,
  ): Promise<RequestTokenResult> {
    const email = this.settings.email;
    if (!email) {
      // The client asked an identity server to do it (the deprecated id_server): Axon trusts none for email.
      if (body['id_server'] !== undefined) {
        throw new MatrixError(
          400,
          'M_SERVER_NOT_TRUSTED',
          'This homeserver does not trust identity servers to validate email addresses',
        );
      }
      throw new MatrixError(
        400,
        'M_THREEPID_MEDIUM_NOT_SUPPORTED',
        'Email validation is not configured on this homeserver',
      );
    }
    const clientSecret = checkClientSecret(body['client_secret']);
    const address = canonicalEmail(body['email']);
    const sendAttempt = checkSendAttempt(body['send_attempt']);
    const nextLink = checkNextLink(body['next_link']);
    const refusal = await this.checkPurpose(purpose, 'email', address);
    if (refusal) return refusal;

    const key = { medium: 'email', address, clientSecret, purpose };
    const result = (sid: string): RequestTokenResult => ({
      sid,
      submit_url: this.baseUrl + SUBMIT_PATHS[purpose],
    });
    const existing = await this.sessions.find(key);
    // send_attempt idempotency: a retry of the same attempt gets the same session and no second mail.
    if (existing && sendAttempt <= existing.lastSendAttempt) return result(existing.sessionId);

    this.rateLimits.address.assert(address);
    const token = randomToken();
    const now = Date.now();
    const tokenExpiresTs = now + email.tokenLifetimeMs;
    let sessionId: string;
    if (existing) {
      sessionId = existing.sessionId;
      await this.sessions.renewToken(sessionId, {
        sendAttempt,
        tokenHash: sha256(token),
        tokenExpiresTs,
        nextLink,
      });
    } else {
      sessionId = randomToken(24);
      try {
        await this.sessions.insert({
          sessionId,
          ...key,
          lastSendAttempt: sendAttempt,
          tokenHash: sha256(token),
          tokenExpiresTs,
          nextLink,
          validatedAt: null,
          createdTs: now,
        });
      } catch (err) {
        // A concurrent request with the same client_secret created it first: that one sends the mail.
        const raced = isUniqueViolation(err) ? await this.sessions.find(key) : undefined;
        if (raced) return result(raced.sessionId);
        throw err;
      }
    }
    await this.queueMail(purpose, address, sessionId, clientSecret, token);
    return result(sessionId);
  }

  /**
   * The policy checks of every requestToken: 3PID changes allowed, allowed_local_3pids, and whether the
   * address is bound (taken for registration and adding, unknown for a reset). With
   * request_token_inhibit_3pid_errors the last two answer a fake sid instead (returned here).
   */
  private async checkPurpose(
    purpose: ValidationPurpose,
    medium: string,
    address: string,
  ): Promise<RequestTokenResult | undefined> {
    if (purpose === 'add_threepid' && !this.settings.changesEnabled) {
      throw new MatrixError(400, 'M_FORBIDDEN', '3PID changes are disabled on this server');
    }
    if (purpose !== 'password_reset' && !this.isAllowed(medium, address)) {
      throw new MatrixError(
        403,
        'M_THREEPID_DENIED',
        'Third-party identifier is not authorized on this server',
      );
    }
    const bound = await this.threepids.find(medium, address);
    if (purpose === 'password_reset' && !bound) {
      // As Synapse: with request_token_inhibit_3pid_errors, pretend so nobody learns which addresses exist.
      if (this.settings.inhibitErrors) return { sid: randomToken(16) };
      throw new MatrixError(400, 'M_THREEPID_NOT_FOUND', 'Third-party identifier not found');
    }
    if (purpose !== 'password_reset' && bound) {
      if (this.settings.inhibitErrors) return { sid: randomToken(16) };
      throw new MatrixError(400, 'M_THREEPID_IN_USE', 'Third-party identifier is already in use');
    }
    return undefined;
  }

  /**
   * POST …/msisdn/requestToken: the delegate identity server (`account_threepid_delegates.msisdn`) sends the
   * SMS (Identity Service v1 `validate/msisdn/requestToken`, as Synapse); Axon keeps a local session row
   * under `d:<sid>` so the validated number can be consumed once, like an email session.
   */
  async requestMsisdnToken(
    purpose: ValidationPurpose,
    body: Readonly<Record<string, unknown>>,
  ): Promise<Record<string, unknown>> {
    const delegate = this.settings.msisdnDelegate;
    if (!delegate) {
      throw new MatrixError(
        400,
        'M_THREEPID_MEDIUM_NOT_SUPPORTED',
        'Phone number validation is not available on this homeserver',
      );
    }
    const clientSecret = checkClientSecret(body['client_secret']);
    const msisdn = canonicalMsisdn(body['country'], body['phone_number']);
    const sendAttempt = checkSendAttempt(body['send_attempt']);
    const nextLink = checkNextLink(body['next_link']);
    const refusal = await this.checkPurpose(purpose, 'msisdn', msisdn);
    if (refusal) return { ...refusal };
    this.rateLimits.address.assert(`msisdn:${msisdn}`);
    let answer: Record<string, unknown>;
    try {
      answer = await this.idServers.delegate(
        delegate,
        '/_matrix/identity/api/v1/validate/msisdn/requestToken',
        {
          country: body['country'],
          phone_number: body['phone_number'],
          client_secret: clientSecret,
          send_attempt: sendAttempt,
          ...(nextLink ? { next_link: nextLink } : {}),
        },
      );
    } catch (err) {
      if (err instanceof IdentityServerError) throw err.toMatrixError();
      throw err;
    }
    const sid = answer['sid'];
    if (typeof sid !== 'string' || !/^[0-9a-zA-Z.=_-]{1,60}$/.test(sid)) {
      throw new MatrixError(502, 'M_UNKNOWN', 'The phone number delegate answered without a valid sid');
    }
    // The delegate knows national formats; its canonical number is the one that counts (checked again).
    const canonical =
      typeof answer['msisdn'] === 'string' && /^\d{4,15}$/.test(answer['msisdn']) ? answer['msisdn'] : msisdn;
    if (canonical !== msisdn) {
      const late = await this.checkPurpose(purpose, 'msisdn', canonical);
      if (late) return { ...late };
    }
    const sessionId = `d:${sid}`;
    const key = { medium: 'msisdn', address: canonical, clientSecret, purpose };
    const existing = await this.sessions.find(key);
    if (existing?.sessionId !== sessionId) {
      if (existing) await this.sessions.delete(existing.sessionId);
      try {
        await this.sessions.insert({
          sessionId,
          ...key,
          lastSendAttempt: sendAttempt,
          tokenHash: null,
          tokenExpiresTs: null,
          nextLink,
          validatedAt: null,
          createdTs: Date.now(),
        });
      } catch (err) {
        if (!isUniqueViolation(err)) throw err;
      }
    }
    return { ...answer, sid, submit_url: this.baseUrl + MSISDN_SUBMIT_PATH };
  }

  /** POST MSISDN_SUBMIT_PATH: the SMS code, passed on to the delegate. */
  async submitMsisdnToken(input: {
    sid: unknown;
    client_secret: unknown;
    token: unknown;
  }): Promise<{ success: boolean }> {
    const delegate = this.settings.msisdnDelegate;
    if (!delegate) throw new MatrixError(400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED', 'No phone number delegate');
    if (typeof input.sid !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: sid');
    if (typeof input.token !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: token');
    const clientSecret = checkClientSecret(input.client_secret);
    try {
      const answer = await this.idServers.delegate(
        delegate,
        '/_matrix/identity/api/v1/validate/msisdn/submitToken',
        {
          sid: input.sid,
          client_secret: clientSecret,
          token: input.token,
        },
      );
      return { success: answer['success'] === true };
    } catch (err) {
      if (err instanceof IdentityServerError) throw err.toMatrixError();
      throw err;
    }
  }

  /**
   * Before consuming a delegate session: asks the delegate whether it validated the number (v1
   * `3pid/getValidated3pid`) and records it locally, so `consume` needs no network inside a transaction.
   */
  async confirmDelegated(creds: { sid: unknown; client_secret: unknown }): Promise<void> {
    const delegate = this.settings.msisdnDelegate;
    if (!delegate || typeof creds.sid !== 'string' || typeof creds.client_secret !== 'string') return;
    const session = await this.sessions.get(`d:${creds.sid}`);
    if (!session || session.validatedAt !== null || !sameSecret(session.clientSecret, creds.client_secret))
      return;
    let answer: Record<string, unknown>;
    try {
      answer = await this.idServers.delegate(
        delegate,
        '/_matrix/identity/api/v1/3pid/getValidated3pid',
        undefined,
        {
          sid: creds.sid,
          client_secret: creds.client_secret,
        },
      );
    } catch (err) {
      if (err instanceof IdentityServerError && err.kind === 'http' && (err.status ?? 500) < 500) return;
      if (err instanceof IdentityServerError) throw err.toMatrixError();
      throw err;
    }
    if (answer['medium'] === 'msisdn' && answer['address'] === session.address) {
      await this.sessions.setValidated(
        session.sessionId,
        typeof answer['validated_at'] === 'number' ? answer['validated_at'] : Date.now(),
      );
    }
  }

  private async queueMail(
    purpose: ValidationPurpose,
    address: string,
    sid: string,
    clientSecret: string,
    token: string,
  ): Promise<void> {
    const email = this.settings.email;
    if (!email) return;
    const query = new URLSearchParams({ token, client_secret: clientSecret, sid });
    const vars = {
      link: `${this.baseUrl}${LINK_PATHS[purpose]}?${query.toString()}`,
      server_name: this.serverName,
      app_name: email.config.app_name,
      client_base_url: email.config.client_base_url ?? '',
    };
    const subjectTemplate =
      purpose === 'password_reset'
        ? email.config.subjects.password_reset
        : email.config.subjects.email_validation;
    await this.mail.enqueue({
      recipient: address,
      subject: substitute(subjectTemplate, { server_name: this.serverName, app: email.config.app_name }),
      text: this.templates.render(`${TEMPLATE[purpose]}.txt`, vars),
      html: this.templates.render(`${TEMPLATE[purpose]}.html`, vars),
    });
  }

  /**
   * The token from a mailed link or a client's POST: marks the session validated (once: the token is burnt).
   * Returns the session's next_link. Throws 400 M_THREEPID_AUTH_FAILED with the reason.
   */
  async submitToken(
    purpose: ValidationPurpose,
    input: { sid: unknown; client_secret: unknown; token: unknown },
  ): Promise<{ nextLink: string | null }> {
    if (typeof input.sid !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: sid');
    if (typeof input.token !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: token');
    const clientSecret = checkClientSecret(input.client_secret);
    const session = await this.sessions.get(input.sid);
    if (!session || session.purpose !== purpose) throw authFailed('Unknown session_id');
    if (!sameSecret(session.clientSecret, clientSecret)) {
      throw authFailed('This client_secret does not match the provided session_id');
    }
    const tokenHash = sha256(input.token);
    if (session.tokenHash === null || !sameSecret(session.tokenHash, tokenHash)) {
      throw authFailed(
        session.validatedAt !== null
          ? 'This validation token has already been used'
          : 'Validation token not found or has been replaced by a newer one',
      );
    }
    const now = Date.now();
    if (session.tokenExpiresTs !== null && session.tokenExpiresTs < now) {
      throw authFailed('Validation token has expired');
    }
    if (!(await this.sessions.markValidated(session.sessionId, tokenHash, now))) {
      throw authFailed('This validation token has already been used');
    }
    return { nextLink: session.nextLink };
  }

  /**
   * The 3PID of a validated session, consumed so it can serve one operation only. Throws
   * M_THREEPID_AUTH_FAILED (status `failureStatus`) when it is unknown, not validated yet, or used.
   */
  async consume(
    purpose: ValidationPurpose,
    creds: { sid: unknown; client_secret: unknown },
    trx?: Queryable,
    failureStatus = 400,
    /** The medium the operation expects (a UIA stage is for one medium). */
    medium?: string,
  ): Promise<ValidatedThreepid> {
    if (typeof creds.sid !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: sid');
    const clientSecret = checkClientSecret(creds.client_secret);
    const fail = (message: string): MatrixError =>
      new MatrixError(failureStatus, 'M_THREEPID_AUTH_FAILED', message);
    const session: ValidationSession | undefined =
      (await this.sessions.get(creds.sid, trx)) ??
      (this.settings.msisdnDelegate ? await this.sessions.get(`d:${creds.sid}`, trx) : undefined);
    if (
      !session ||
      session.purpose !== purpose ||
      (medium !== undefined && session.medium !== medium) ||
      !sameSecret(session.clientSecret, clientSecret)
    ) {
      throw fail('No validation session matches this sid and client_secret');
    }
    if (session.validatedAt === null) throw fail('This third-party identifier has not been validated yet');
    if (session.createdTs + VALIDATION_SESSION_LIFETIME_MS < Date.now()) {
      throw fail('This validation session has expired');
    }
    if (!(await this.sessions.delete(session.sessionId, trx)))
      throw fail('This validation session was already used');
    return { medium: session.medium, address: session.address, validated_at: session.validatedAt };
  }

  async cleanup(): Promise<void> {
    await this.sessions.deleteCreatedBefore(Date.now() - VALIDATION_SESSION_LIFETIME_MS);
  }
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
