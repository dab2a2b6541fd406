/**
 * POST /account/3pid/bind and /unbind: binding a 3PID to the user's Matrix ID at an identity server
 * (Identity Service API v2 `/3pid/bind` with the client's `id_access_token`; `/3pid/unbind` signed by this
 * server with X-Matrix), and remembering where, so deleting the 3PID or deactivating the account unbinds it.
 */
import type { Logger } from 'pino';
import type { Cradle } from '../../../core/container.js';
import { MatrixError } from '../../../core/errors.js';
import type { Requester } from '../../../core/http/context.js';
import { checkIdServer, IdentityServerError } from './identity-server-client.js';
import { canonicalAddress, checkClientSecret } from './threepid-input.js';

export type UnbindResult = 'success' | 'no-support';

export class IdServerBindings {
  private readonly client: Cradle['identityProxyIdServerClient'];
  private readonly store: Cradle['identityProxyBindingsStore'];
  private readonly logger: Logger;

  constructor(c: Pick<Cradle, 'identityProxyIdServerClient' | 'identityProxyBindingsStore' | 'logger'>) {
    this.client = c.identityProxyIdServerClient;
    this.store = c.identityProxyBindingsStore;
    this.logger = c.logger.child({ module: 'identity-proxy', component: 'id-server' });
  }

  async bind(requester: Requester, body: Readonly<Record<string, unknown>>): Promise<void> {
    const clientSecret = checkClientSecret(body['client_secret']);
    const idServer = checkIdServer(body['id_server']);
    const accessToken = body['id_access_token'];
    if (typeof accessToken !== 'string' || accessToken === '') {
      throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: id_access_token');
    }
    const sid = body['sid'];
    if (typeof sid !== 'string') throw new MatrixError(400, 'M_MISSING_PARAM', 'Missing parameter: sid');
    let answer: Record<string, unknown>;
    try {
      answer = await this.client.post(
        idServer,
        '/_matrix/identity/v2/3pid/bind',
        { sid, client_secret: clientSecret, mxid: requester.userId },
        { accessToken },
      );
    } catch (err) {
      if (err instanceof IdentityServerError) throw err.toMatrixError();
      throw err;
    }
    const { medium, address, mxid } = answer;
    if (typeof medium !== 'string' || typeof address !== 'string' || mxid !== requester.userId) {
      throw new MatrixError(502, 'M_UNKNOWN', `identity server ${idServer}: the bind answer is not valid`);
    }
    await this.store.add({ userId: requester.userId, medium, address, idServer });
  }

  /** POST /account/3pid/unbind: at `id_server`, or everywhere this server knows it was bound. */
  async unbind(
    requester: Requester,
    body: Readonly<Record<string, unknown>>,
  ): Promise<{ id_server_unbind_result: UnbindResult }> {
    const { medium, address } = canonicalAddress(body['medium'], body['address']);
    const idServer = body['id_server'] === undefined ? undefined : checkIdServer(body['id_server']);
    return {
      id_server_unbind_result: await this.unbindEverywhere(requester.userId, medium, address, idServer, true),
    };
  }

  /**
   * Unbinds at `idServer` and at every server recorded for the 3PID. `strict`: an unreachable identity
   * server fails the request (502/504); otherwise (deletion, deactivation) it is logged and reported as
   * `no-support`. An identity server that refuses (4xx) is `no-support`, as Synapse.
   */
  async unbindEverywhere(
    userId: string,
    medium: string,
    address: string,
    idServer: string | undefined,
    strict: boolean,
  ): Promise<UnbindResult> {
    const servers = new Set(await this.store.idServersFor(userId, medium, address));
    if (idServer !== undefined) servers.add(idServer);
    if (servers.size === 0) return 'no-support';
    let result: UnbindResult = 'success';
    for (const server of servers) {
      try {
        await this.client.post(
          server,
          '/_matrix/identity/v2/3pid/unbind',
          { mxid: userId, threepid: { medium, address } },
          { signed: true },
        );
      } catch (err) {
        if (!(err instanceof IdentityServerError)) throw err;
        if (err.kind !== 'http' || (err.status ?? 500) >= 500) {
          if (strict) throw err.toMatrixError();
          this.logger.warn({ err: err.message }, 'could not unbind a 3PID');
          result = 'no-support';
          continue;
        }
        result = 'no-support';
      }
      await this.store.remove({ userId, medium, address, idServer: server });
    }
    return result;
  }

  /** After deactivation: unbinds every recorded binding, best effort. */
  async unbindAll(userId: string): Promise<void> {
    for (const b of await this.store.listForUser(userId)) {
      await this.unbindEverywhere(userId, b.medium, b.address, b.idServer, false);
    }
  }
}
