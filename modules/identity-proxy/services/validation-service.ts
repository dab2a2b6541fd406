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
import { canonicalEmail, checkClientSecret, checkNextLink, checkSendAttempt } from './threepid-input.js';

/** A validated session may be used for this long after it was created (Synapse: 24 h). */
export const VALIDATION_SESSION_LIFETIME_MS = 24 * 3_600_000;

/** The path segment of each purpose's links, as Synapse names them. */
export const LINK_PATHS: Readonly<Record<ValidationPurpose, string>> = {
  registration: '/_matrix/client/unstable/registration/email/submit_token',
  add_threepid: '/_matrix/client/unstable/add_threepid/email/submit_token',
  password_reset: '/_synapse/client/password_reset/email/submit_token',
};

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
    if (purpose === 'add_threepid' && !this.settings.changesEnabled) {
      throw new MatrixError(400, 'M_FORBIDDEN', '3PID changes are disabled on this server');
    }
    if (purpose !== 'password_reset' && !this.isAllowed('email', address)) {
      throw new MatrixError(403, 'M_THREEPID_DENIED', 'Your email domain is not authorized on this server');
    }
    const bound = await this.threepids.find('email', address);
    if (purpose === 'password_reset' && !bound) {
      // As Synapse: with request_token_inhibit_3pid_errors, pretend so nobody learns which addresses exist.
      if (this.settings.inhibitErrors) return { sid: randomToken(16) };
      throw new MatrixError(400, 'M_THREEPID_NOT_FOUND', 'Email not found');
    }
    if (purpose !== 'password_reset' && bound) {
      if (this.settings.inhibitErrors) return { sid: randomToken(16) };
      throw new MatrixError(400, 'M_THREEPID_IN_USE', 'Email is already in use');
    }

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
  ): Promise<ValidatedThreepid> {
    if (typeof creds.sid !== 'string')
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: sid');
    const clientSecret = checkClientSecret(creds.client_secret);
    const fail = (message: string): MatrixError =>
      new MatrixError(failureStatus, 'M_THREEPID_AUTH_FAILED', message);
    const session: ValidationSession | undefined = await this.sessions.get(creds.sid, trx);
    if (!session || session.purpose !== purpose || !sameSecret(session.clientSecret, clientSecret)) {
      throw fail('No validation session matches this sid and client_secret');
    }
    if (session.validatedAt === null) throw fail('This email address has not been validated yet');
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
