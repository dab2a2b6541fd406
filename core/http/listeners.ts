/**
 * Opens every configured listener on every bind address (HTTP, or HTTPS when `tls: true`), and closes them
 * gracefully: stop accepting, let in-flight requests finish, then drop idle keep-alive connections.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import type Koa from 'koa';
import type { Logger } from 'pino';
import { BootError } from '../errors.js';
import { guardConnections } from './connection-guard.js';
import { onClientError, onConnect } from './raw-errors.js';

export interface OpenListener {
  readonly server: Server;
  readonly address: string;
  readonly port: number;
}

export interface ListenOptions {
  readonly port: number;
  readonly bindAddresses: readonly string[];
  readonly tls?: { cert: Buffer; key: Buffer };
}

export async function listen(app: Koa, options: ListenOptions, logger: Logger): Promise<OpenListener[]> {
  const open: OpenListener[] = [];
  for (const address of options.bindAddresses) {
    const callback = app.callback();
    // requireHostHeader: Node would refuse an HTTP/1.1 request without Host with an empty 400; Synapse serves it.
    // connectionsCheckingInterval: how often Node enforces headersTimeout/requestTimeout (default 30 s).
    const serverOptions = { requireHostHeader: false, connectionsCheckingInterval: 1000 };
    const server = options.tls
      ? createHttpsServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key }, callback)
      : createHttpServer(serverOptions, callback);
    server.keepAliveTimeout = 65_000;
    server.on('clientError', onClientError);
    server.on('connect', onConnect);
    guardConnections(server, { behindProxy: app.proxy });
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port, address, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      // On a dual-stack host, '::' already accepts IPv4, so the usual ['::', '0.0.0.0'] pair collides.
      if (
        (err as NodeJS.ErrnoException).code === 'EADDRINUSE' &&
        address === '0.0.0.0' &&
        open.some((l) => l.address === '::')
      ) {
        logger.debug('0.0.0.0 already served through the dual-stack :: socket');
        continue;
      }
      await Promise.all(open.map((l) => closeServer(l.server, 0)));
      throw err;
    }
    const info = server.address() as AddressInfo;
    open.push({ server, address, port: info.port });
    logger.info(`listening on ${options.tls ? 'https' : 'http'}://${formatHost(address)}:${info.port}`);
  }
  return open;
}

export function formatHost(address: string): string {
  return address.includes(':') ? `[${address}]` : address;
}

/** Stops accepting; waits up to `graceMs` for in-flight requests, then closes whatever remains. */
export async function closeServer(server: Server, graceMs: number): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), graceMs);
  await closed;
  clearTimeout(timer);
}

/** One listener of the config, as the boot-time port check needs it. */
export interface PlannedListener {
  /** Its index in `listeners:` (for the key named in errors). */
  readonly index: number;
  readonly port: number;
  readonly bindAddresses: readonly string[];
}

/**
 * Checks, before the database is touched, that every listener can bind its port on each of its addresses
 * (bound, then released at once). A port that is taken, privileged or on an address this machine lacks is
 * a BootError naming the key and what to do, instead of a stack trace after migrations already ran.
 */
export async function checkListenersCanBind(planned: readonly PlannedListener[]): Promise<void> {
  for (const listener of planned) {
    if (listener.port === 0) continue;
    for (const address of listener.bindAddresses) {
      const server = createNetServer();
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen({ port: listener.port, host: address, exclusive: true }, () => resolve());
        });
      } catch (err) {
        throw listenError(err, listener, address);
      } finally {
        await new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
      }
    }
  }
}

/** The BootError for a listener that cannot bind, or the error itself when it is something else. */
export function listenError(err: unknown, listener: PlannedListener, address: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  const key = `listeners[${listener.index}]`;
  const where = `${formatHost(address)}:${listener.port}`;
  if (code === 'EADDRINUSE') {
    return new BootError(
      'AXON_ERR_PORT_IN_USE',
      `${key}.port: ${where} is already in use by another process (another Axon or Synapse?): stop it, or set another port in ${key}.port`,
    );
  }
  if (code === 'EACCES') {
    return new BootError(
      'AXON_ERR_PORT_DENIED',
      `${key}.port: binding ${where} is not permitted for this user: use a port above 1023 behind a reverse proxy, or grant CAP_NET_BIND_SERVICE`,
    );
  }
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new BootError(
      'AXON_ERR_BIND_ADDRESS',
      `${key}.bind_addresses: ${address} is not an address of this machine: use one it has (127.0.0.1, ::1, 0.0.0.0 or ::)`,
    );
  }
  return err;
}
