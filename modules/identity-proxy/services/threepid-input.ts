/** Checks of what clients send about 3PIDs: client secrets, email addresses, next_link, send_attempt. */
import { MatrixError } from '../../../core/errors.js';

/** The spec's charset and length for client_secret. */
const CLIENT_SECRET = /^[0-9a-zA-Z.=_-]{1,255}$/;

export function checkClientSecret(value: unknown): string {
  if (typeof value !== 'string')
    throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: client_secret');
  if (!CLIENT_SECRET.test(value)) {
    throw new MatrixError(
      400,
      'M_INVALID_PARAM',
      'Invalid client_secret: 1 to 255 characters from [0-9a-zA-Z.=_-]',
    );
  }
  return value;
}

const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;
const DOMAIN_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;

/**
 * An email address in the form Axon stores and compares: trimmed and lower-cased (Synapse's
 * canonicalise_email), after a strict check of its shape (a plain `local@domain`, no display name, no
 * comments, no IP literal). Throws 400 M_INVALID_PARAM with the reason.
 */
export function canonicalEmail(value: unknown): string {
  if (typeof value !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: email');
  const address = value.trim();
  const bad = (why: string): MatrixError =>
    new MatrixError(400, 'M_INVALID_PARAM', `Invalid email address: ${why}`);
  if (address.length > 320) throw bad('too long');
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) throw bad('expected local@domain');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (
    local.length > 64 ||
    !LOCAL_PART.test(local) ||
    local.startsWith('.') ||
    local.endsWith('.') ||
    local.includes('..')
  ) {
    throw bad('the part before @ is not valid');
  }
  const labels = domain.split('.');
  if (domain.length > 253 || !labels.every((l) => DOMAIN_LABEL.test(l))) throw bad('the domain is not valid');
  return address.toLowerCase();
}

/** A phone number in international form, digits only (E.164 without the +), as Synapse's phone_number_to_msisdn. */
export function canonicalMsisdn(country: unknown, phoneNumber: unknown): string {
  if (typeof country !== 'string')
    throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: country');
  if (typeof phoneNumber !== 'string')
    throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: phone_number');
  const digits = phoneNumber.replace(/[\s().-]/g, '').replace(/^\+/, '');
  if (!/^\d{4,15}$/.test(digits) || !/^[A-Za-z]{2}$/.test(country)) {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'Unable to parse phone number');
  }
  return digits;
}

/** The canonical address for a medium Axon knows; 400 M_THREEPID_MEDIUM_NOT_SUPPORTED for others. */
export function canonicalAddress(medium: unknown, address: unknown): { medium: string; address: string } {
  if (typeof medium !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: medium');
  if (typeof address !== 'string')
    throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: address');
  if (medium === 'email') return { medium, address: canonicalEmail(address) };
  if (medium === 'msisdn') {
    if (!/^\d{4,15}$/.test(address)) throw new MatrixError(400, 'M_INVALID_PARAM', 'Invalid msisdn');
    return { medium, address };
  }
  throw new MatrixError(400, 'M_THREEPID_MEDIUM_NOT_SUPPORTED', `Unsupported medium: ${medium}`);
}

/** next_link must be an http(s) URL: anything else (javascript:, data:) would be an open redirect to code. */
export function checkNextLink(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw new MatrixError(400, 'M_INVALID_PARAM', 'next_link must be a string');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'next_link is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'next_link must be an http or https URL');
  }
  return value;
}

export function checkSendAttempt(value: unknown): number {
  if (value === undefined) throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: send_attempt');
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new MatrixError(400, 'M_INVALID_PARAM', 'send_attempt must be a non-negative integer');
  }
  return value;
}
