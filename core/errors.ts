/**
 * Errors: `MatrixError` is thrown anywhere a request fails and rendered in one place (core/http/render-error.ts);
 * `BootError` carries a stable code, in fastify's manner, so operators and tests can recognise a boot failure.
 */

export type MatrixErrcode =
  | 'M_FORBIDDEN'
  | 'M_UNKNOWN_TOKEN'
  | 'M_MISSING_TOKEN'
  | 'M_USER_LOCKED'
  | 'M_USER_SUSPENDED'
  | 'M_BAD_JSON'
  | 'M_NOT_JSON'
  | 'M_NOT_FOUND'
  | 'M_LIMIT_EXCEEDED'
  | 'M_UNRECOGNIZED'
  | 'M_UNKNOWN'
  | 'M_UNAUTHORIZED'
  | 'M_USER_DEACTIVATED'
  | 'M_USER_IN_USE'
  | 'M_INVALID_USERNAME'
  | 'M_ROOM_IN_USE'
  | 'M_INVALID_ROOM_STATE'
  | 'M_THREEPID_IN_USE'
  | 'M_THREEPID_NOT_FOUND'
  | 'M_THREEPID_AUTH_FAILED'
  | 'M_THREEPID_DENIED'
  | 'M_SERVER_NOT_TRUSTED'
  | 'M_UNSUPPORTED_ROOM_VERSION'
  | 'M_INCOMPATIBLE_ROOM_VERSION'
  | 'M_BAD_STATE'
  | 'M_GUEST_ACCESS_FORBIDDEN'
  | 'M_CAPTCHA_NEEDED'
  | 'M_CAPTCHA_INVALID'
  | 'M_MISSING_PARAM'
  | 'M_INVALID_PARAM'
  | 'M_TOO_LARGE'
  | 'M_EXCLUSIVE'
  | 'M_RESOURCE_LIMIT_EXCEEDED'
  | 'M_CANNOT_LEAVE_SERVER_NOTICE_ROOM'
  | 'M_THREEPID_MEDIUM_NOT_SUPPORTED'
  | 'M_WEAK_PASSWORD'
  | 'M_PASSWORD_TOO_SHORT'
  | 'M_DUPLICATE_ANNOTATION'
  | 'M_NOT_YET_UPLOADED'
  | 'M_CANNOT_OVERWRITE_MEDIA'
  | 'M_UNABLE_TO_AUTHORISE_JOIN'
  | 'M_UNABLE_TO_GRANT_JOIN'
  | 'M_UNKNOWN_POS'
  | 'M_INVALID_SIGNATURE'
  | (string & { readonly __custom?: never });

export class MatrixError extends Error {
  constructor(
    readonly status: number,
    readonly errcode: MatrixErrcode,
    message: string,
    /** Extra top-level fields of the error body (`retry_after_ms`, `soft_logout`, UIA `flows`, …). */
    readonly extra: Readonly<Record<string, unknown>> = {},
  ) {
    super(message);
    this.name = 'MatrixError';
  }

  toJSON(): Record<string, unknown> {
    return { ...this.extra, errcode: this.errcode, error: this.message };
  }
}

export const notFound = (message = 'Not found'): MatrixError => new MatrixError(404, 'M_NOT_FOUND', message);
export const forbidden = (message: string): MatrixError => new MatrixError(403, 'M_FORBIDDEN', message);
export const badJson = (message: string): MatrixError => new MatrixError(400, 'M_BAD_JSON', message);
export const invalidParam = (message: string): MatrixError =>
  new MatrixError(400, 'M_INVALID_PARAM', message);
export const missingParam = (message: string): MatrixError =>
  new MatrixError(400, 'M_MISSING_PARAM', message);

export type BootErrorCode =
  | 'AXON_ERR_CONFIG_INVALID'
  | 'AXON_ERR_CONFIG_NOT_FOUND'
  | 'AXON_ERR_MODULE_UNKNOWN'
  | 'AXON_ERR_MODULE_DEPENDENCY_DISABLED'
  | 'AXON_ERR_MODULE_DEPENDENCY_CYCLE'
  | 'AXON_ERR_SIGNING_KEY'
  | 'AXON_ERR_TLS'
  | 'AXON_ERR_PORT_IN_USE'
  | 'AXON_ERR_PORT_DENIED'
  | 'AXON_ERR_BIND_ADDRESS'
  | 'AXON_ERR_DATABASE'
  | 'AXON_ERR_DATABASE_NEWER'
  | 'AXON_ERR_PLUGIN_LOAD'
  | 'AXON_ERR_PLUGIN_CONFLICT';

/** A failure that stops boot. `problems` lists every problem found, not only the first. */
export class BootError extends Error {
  constructor(
    readonly code: BootErrorCode,
    message: string,
    readonly problems: readonly string[] = [message],
  ) {
    super(
      problems.length === 1 && problems[0] === message
        ? message
        : `${message}:\n  - ${problems.join('\n  - ')}`,
    );
    this.name = 'BootError';
  }
}
