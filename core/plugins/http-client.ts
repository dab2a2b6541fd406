/**
 * The HTTP client plugins get: fetch() bounded by a timeout over the whole exchange (headers and body),
 * so a provider calling out can never hold a request for longer than its budget.
 */
import type { PluginHttpClient } from './api.js';

export const DEFAULT_HTTP_TIMEOUT_MS = 10_000;

export function createPluginHttpClient(defaultTimeoutMs = DEFAULT_HTTP_TIMEOUT_MS): PluginHttpClient {
  return Object.freeze({
    fetch(url: string, init: RequestInit & { readonly timeoutMs?: number } = {}): Promise<Response> {
      const { timeoutMs = defaultTimeoutMs, signal, ...rest } = init;
      const timeout = AbortSignal.timeout(timeoutMs);
      return fetch(url, { ...rest, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    },
  });
}
