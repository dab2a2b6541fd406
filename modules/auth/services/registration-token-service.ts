/**
 * Registration tokens (spec: "Token-authenticated registration") and Synapse's admin API to manage them
 * (`/_synapse/admin/v1/registration_tokens`), with Synapse's validation rules and messages.
 */
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import { isUniqueViolation } from '../../../core/storage/errors.js';
import type { RegistrationTokenRow } from '../store/registration-tokens-store.js';
import { randomString } from './tokens.js';

const TOKEN_PATTERN = /^[A-Za-z0-9._~-]{1,64}$/;
const invalid = (message: string): MatrixError => new MatrixError(400, 'M_INVALID_PARAM', message);

const isValidNow = (t: RegistrationTokenRow, now: number): boolean =>
  (t.uses_allowed === null || t.pending + t.completed < t.uses_allowed) &&
  (t.expiry_time === null || t.expiry_time > now);

export class RegistrationTokenService {
  private readonly store: Cradle['authStore'];

  constructor({ authStore }: Pick<Cradle, 'authStore'>) {
    this.store = authStore;
  }

  async isValid(token: string): Promise<boolean> {
    const row = await this.store.registrationTokens.get(token);
    return row !== undefined && isValidNow(row, Date.now());
  }

  /** Counts a pending use when the token is valid (the UIA stage); false when it is not. */
  async claim(token: string, _session: string): Promise<boolean> {
    if (!(await this.isValid(token))) return false;
    await this.store.registrationTokens.addPending(token, 1);
    return true;
  }

  /** The registration that claimed the token completed. */
  async complete(token: string): Promise<void> {
    await this.store.registrationTokens.completePending(token);
  }

  async list(valid: boolean | undefined): Promise<RegistrationTokenRow[]> {
    const now = Date.now();
    const all = await this.store.registrationTokens.list();
    return valid === undefined ? all : all.filter((t) => isValidNow(t, now) === valid);
  }

  async get(token: string): Promise<RegistrationTokenRow> {
    const row = await this.store.registrationTokens.get(token);
    if (!row) throw new MatrixError(404, 'M_NOT_FOUND', 'No such registration token: ' + token);
    return row;
  }

  async create(body: Readonly<Record<string, unknown>>): Promise<RegistrationTokenRow> {
    const usesAllowed = usesAllowedOf(body);
    const expiryTime = expiryTimeOf(body);
    const given = body['token'];
    let token: string;
    if (given !== undefined) {
      if (typeof given !== 'string' || !TOKEN_PATTERN.test(given)) {
        throw invalid(
          'token must not be empty, must not be longer than 64 characters, and must contain only the characters A-Z, a-z, 0-9, ., _, ~, and -',
        );
      }
      token = given;
      try {
        await this.store.registrationTokens.insert({
          token,
          uses_allowed: usesAllowed,
          expiry_time: expiryTime,
        });
      } catch (err) {
        if (isUniqueViolation(err)) throw invalid(`Token already exists: ${token}`);
        throw err;
      }
    } else {
      const length = body['length'] ?? 16;
      if (typeof length !== 'number' || !Number.isInteger(length) || length <= 0 || length > 64) {
        throw invalid('length must be an integer > 0 and <= 64');
      }
      for (;;) {
        token = randomString(length, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~-');
        try {
          await this.store.registrationTokens.insert({
            token,
            uses_allowed: usesAllowed,
            expiry_time: expiryTime,
          });
          break;
        } catch (err) {
          if (!isUniqueViolation(err)) throw err;
        }
      }
    }
    return this.get(token);
  }

  async update(token: string, body: Readonly<Record<string, unknown>>): Promise<RegistrationTokenRow> {
    const changes: { uses_allowed?: number | null; expiry_time?: number | null } = {};
    if ('uses_allowed' in body) changes.uses_allowed = usesAllowedOf(body);
    if ('expiry_time' in body) changes.expiry_time = expiryTimeOf(body);
    if (!(await this.store.registrationTokens.update(token, changes))) {
      throw new MatrixError(404, 'M_NOT_FOUND', 'No such registration token: ' + token);
    }
    return this.get(token);
  }

  async delete(token: string): Promise<void> {
    if (!(await this.store.registrationTokens.delete(token))) {
      throw new MatrixError(404, 'M_NOT_FOUND', 'No such registration token: ' + token);
    }
  }
}

function usesAllowedOf(body: Readonly<Record<string, unknown>>): number | null {
  const v = body['uses_allowed'] ?? null;
  if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 0)) {
    throw invalid('uses_allowed must be a non-negative integer or null');
  }
  return v;
}

function expiryTimeOf(body: Readonly<Record<string, unknown>>): number | null {
  const v = body['expiry_time'] ?? null;
  if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < Date.now())) {
    throw invalid('expiry_time must not be in the past');
  }
  return v;
}
