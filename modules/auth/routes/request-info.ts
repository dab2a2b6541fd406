import type { AxonContext } from '../../../core/http/context.js';
import type { RequestInfo } from '../services/registration-service.js';

/** What services need to know about the HTTP request (rate-limit keys, spam-checker info, UIA binding). */
export function requestInfo(ctx: AxonContext): RequestInfo {
  return { ip: ctx.ip, userAgent: ctx.get('user-agent'), method: ctx.method, path: ctx.path };
}
