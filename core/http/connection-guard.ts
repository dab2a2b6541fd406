/**
 * Slow and hostile clients (slowloris): a socket may hold the server only as long as it makes progress.
 * - headers must arrive within `headersTimeoutMs` (Node's headersTimeout, checked every second rather than
 *   Node's default 30 s; the clientError path answers 408 with a Matrix error);
 * - a request body may not stall for more than `bodyIdleTimeoutMs` between chunks (408, then close), while a
 *   long-poll `/sync` whose request has been read costs nothing but an idle socket;
 * - one client address may hold at most `maxConnectionsPerIp` sockets; the next is answered 429
 *   M_LIMIT_EXCEEDED and closed. Not applied on a listener with `x_forwarded: true` (every socket comes from
 *   the proxy, which must cap per client itself), and loopback is exempt by default (a proxy on the same host);
 * - all listeners together hold at most `maxConnections` (Node closes sockets beyond it).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { writeRawError } from './raw-errors.js';

export interface ConnectionLimits {
  readonly headersTimeoutMs: number;
  readonly bodyIdleTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxConnectionsPerIp: number;
  readonly maxConnections: number;
  readonly exemptLoopback: boolean;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  headersTimeoutMs: 20_000,
  bodyIdleTimeoutMs: 30_000,
  // The whole request, body included: generous, since a large upload over a slow link takes minutes.
  requestTimeoutMs: 600_000,
  maxConnectionsPerIp: 256,
  maxConnections: 10_000,
  exemptLoopback: true,
};

let limits: ConnectionLimits = DEFAULT_CONNECTION_LIMITS;

/** Set before the listeners open (tests shorten the timeouts; the defaults suit a public server). */
export function setConnectionLimits(overrides: Partial<ConnectionLimits>): void {
  limits = { ...DEFAULT_CONNECTION_LIMITS, ...overrides };
}

export function connectionLimits(): ConnectionLimits {
  return limits;
}

function isLoopback(address: string | undefined): boolean {
  return (
    address === '::1' || address?.startsWith('127.') === true || address?.startsWith('::ffff:127.') === true
  );
}

/** Applies the limits to a server that has not started listening yet. */
export function guardConnections(server: Server, options: { behindProxy: boolean }): void {
  const l = limits;
  server.headersTimeout = l.headersTimeoutMs;
  server.requestTimeout = l.requestTimeoutMs;
  server.maxConnections = l.maxConnections;

  const perIp = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const ip = socket.remoteAddress ?? '';
    if (options.behindProxy || (l.exemptLoopback && isLoopback(ip))) return;
    const count = (perIp.get(ip) ?? 0) + 1;
    perIp.set(ip, count);
    socket.once('close', () => {
      const left = (perIp.get(ip) ?? 1) - 1;
      if (left <= 0) perIp.delete(ip);
      else perIp.set(ip, left);
    });
    if (count > l.maxConnectionsPerIp) {
      writeRawError(socket, { status: 429, errcode: 'M_LIMIT_EXCEEDED', error: 'Too many connections' });
    }
  });

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const hasBody =
      (req.headers['content-length'] ?? '0') !== '0' || req.headers['transfer-encoding'] !== undefined;
    if (!hasBody) return;
    // req.setTimeout: while the body is incomplete the timeout goes to this listener rather than destroying
    // the socket, so the client learns why.
    req.setTimeout(l.bodyIdleTimeoutMs, () => {
      if (res.headersSent) {
        socketOf(req)?.destroy();
        return;
      }
      const body = JSON.stringify({ errcode: 'M_UNKNOWN', error: 'Request body not received in time' });
      res.writeHead(408, {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        Connection: 'close',
      });
      res.end(body, () => socketOf(req)?.destroy());
    });
    const done = (): void => void socketOf(req)?.setTimeout(0);
    req.once('end', done);
    req.once('close', done);
  });
}

/** A request's socket: Node sets it to null once the socket is released (a late 'close' or timeout sees none). */
function socketOf(req: IncomingMessage): Socket | null {
  // Typed as always present; at run time it is null after release.
  const socket: Socket | null = req.socket;
  return socket;
}
