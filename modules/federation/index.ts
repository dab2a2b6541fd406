import { readFileSync } from 'node:fs';
import { asFunction, asValue } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { parseDuration } from '../../core/config/units.js';
import { defineModule } from '../../core/define-module.js';
import { BootError } from '../../core/errors.js';
import { resolvePathAgainst } from './services/paths.js';
import type { FederationApi } from './api.js';
import { rotateSigningKeyCommand } from './commands/rotate-signing-key.js';
import {
  certificateVerificationSkipper,
  checkFederationConfig,
  FederationConfigSchema,
  ipRangeFilter,
  type FederationConfig,
  type TrustedKeyServer,
} from './config.js';
import { federationRoutes } from './routes/federation.routes.js';
import { keysRoutes } from './routes/keys.routes.js';
import { systemDns } from './services/dns.js';
import { DomainPolicy } from './services/domain-policy.js';
import { FederationClientImpl } from './services/federation-client.js';
import { HandlerRegistry } from './services/handler-registry.js';
import { HttpsTransport } from './services/https-transport.js';
import { KeyRingImpl } from './services/key-ring.js';
import { NotaryService } from './services/notary.js';
import { OwnServerKeys } from './services/own-server-keys.js';
import { profileQueryHandler } from './services/profile-query.js';
import { RemoteProfiles } from './services/remote-profiles.js';
import { RemoteMembershipTransport } from './services/remote-membership.js';
import { RequestAuthenticator } from './services/request-authenticator.js';
import { ServerNameResolver } from './services/server-name-resolver.js';
import { HttpsWellKnownFetcher } from './services/well-known-fetcher.js';
import { FederationStore } from './store/federation-store.js';
import { federationKeysMigration } from './store/migrations/20261207120000_federation_keys.js';
import { federationInboundTxnsMigration } from './store/migrations/20261207141000_federation_inbound_txns.js';
import { InboundTxnStore } from './store/inbound-txn-store.js';
import { TransactionReceiver } from './services/transaction-receiver.js';
import { sendRoutes } from './routes/send.routes.js';
import { federationOutboundMigration } from './store/migrations/20261207160000_federation_outbound.js';
import { OutboundStore } from './store/outbound-store.js';
import { DestinationBackoff } from './services/outbound/destination-backoff.js';
import { EventFanout } from './services/outbound/event-fanout.js';
import { FederationSender } from './services/outbound/federation-sender.js';
import { remoteEventSource } from './services/remote-event-source.js';
import { readsRoutes } from './routes/reads.routes.js';
import { roomsRoutes } from './routes/rooms.routes.js';
import { membershipRoutes } from './routes/membership.routes.js';
import { MembershipHandshakes } from './services/membership-handshakes.js';

declare module '../../core/container.js' {
  interface Cradle {
    federationConfig: FederationConfig;
    federationStore: FederationStore;
    federationDomainPolicy: DomainPolicy;
    federationTransport: HttpsTransport;
    federationResolver: ServerNameResolver;
    federationClient: FederationClientImpl;
    federationOwnKeys: OwnServerKeys;
    federationKeyRing: KeyRingImpl;
    federationNotary: NotaryService;
    federationAuthenticator: RequestAuthenticator;
    federationHandlers: HandlerRegistry;
    federationTransactions: TransactionReceiver;
    federationSender: FederationSender;
    federationFanout: EventFanout;
  }
}

/**
 * Server-to-server foundations: server keys and the notary, discovery, the signed outbound client, inbound
 * X-Matrix authentication. Disabled, the server is a private island: every federation and key endpoint
 * answers 404 M_UNRECOGNIZED.
 */
export default defineModule({
  name: 'federation',
  description: 'Server keys, notary, discovery, signed federation requests and their verification',
  enabledByDefault: true,
  config: FederationConfigSchema,
  migrations: [federationKeysMigration, federationInboundTxnsMigration, federationOutboundMigration],
  register({ container, config, logger }) {
    const trusted: TrustedKeyServer[] = checkFederationConfig(config);
    if (
      !config.suppress_key_server_warning &&
      config.trusted_key_servers.some((s) => s.server_name === 'matrix.org' && !s.verify_keys)
    ) {
      logger.warn(
        'trusted_key_servers uses matrix.org without verify_keys: its answers are trusted without checking ' +
          'its signature. Pin its keys, or set suppress_key_server_warning: true.',
      );
    }
    const { configDir } = container.cradle;
    let ca: Buffer[] | undefined;
    try {
      ca = config.federation_custom_ca_list?.map((p) => readFileSync(resolvePathAgainst(configDir, p)));
    } catch (err) {
      throw new BootError('AXON_ERR_CONFIG_INVALID', `federation_custom_ca_list: ${(err as Error).message}`);
    }
    const refreshIntervalMs = parseDuration(config.key_refresh_interval);
    const timeoutMs = parseDuration(config.federation.client_timeout);
    container.register({
      federationConfig: asValue(config),
      federationStore: asFunction(({ db }: Cradle) => new FederationStore({ db })).singleton(),
      federationDomainPolicy: asValue(new DomainPolicy(config.federation_domain_whitelist)),
      federationTransport: asValue(
        new HttpsTransport({
          dns: systemDns,
          ipFilter: ipRangeFilter(config),
          tls: {
            verify: config.federation_verify_certificates,
            ca,
            skipVerification: certificateVerificationSkipper(
              config.federation_certificate_verification_whitelist,
            ),
          },
        }),
      ),
      federationResolver: asFunction(
        ({ federationTransport }: Cradle) =>
          new ServerNameResolver({
            dns: systemDns,
            wellKnownFetcher: new HttpsWellKnownFetcher(federationTransport),
          }),
      ).singleton(),
      federationClient: asFunction(
        (c: Cradle) =>
          new FederationClientImpl({
            serverName: c.serverName,
            signingKey: c.signingKey,
            resolver: c.federationResolver,
            transport: c.federationTransport,
            domainPolicy: c.federationDomainPolicy,
            defaultTimeoutMs: timeoutMs,
            onReachable: (destination) => serverUp(c, destination),
          }),
      ).singleton(),
      federationOwnKeys: asFunction(
        (c: Cradle) =>
          new OwnServerKeys({
            serverName: c.serverName,
            signingKey: c.signingKey,
            store: c.federationStore,
            configuredOldKeys: config.old_signing_keys ?? {},
            refreshIntervalMs,
          }),
      ).singleton(),
      federationKeyRing: asFunction(
        (c: Cradle) =>
          new KeyRingImpl({
            serverName: c.serverName,
            ownKeys: c.federationOwnKeys,
            store: c.federationStore,
            client: c.federationClient,
            trustedKeyServers: trusted,
            logger: c.logger.child({ module: 'federation', component: 'key-ring' }),
          }),
      ).singleton(),
      federationNotary: asFunction(
        (c: Cradle) =>
          new NotaryService({
            serverName: c.serverName,
            signingKey: c.signingKey,
            store: c.federationStore,
            keyRing: c.federationKeyRing,
            ownKeys: c.federationOwnKeys,
            isDomainAllowed: (name) => c.federationDomainPolicy.isAllowed(name),
          }),
      ).singleton(),
      federationAuthenticator: asFunction(
        (c: Cradle) =>
          new RequestAuthenticator({
            serverName: c.serverName,
            keyRing: c.federationKeyRing,
            domainPolicy: c.federationDomainPolicy,
            onAuthenticated: (origin) => serverUp(c, origin),
          }),
      ).singleton(),
      federationSender: asFunction((c: Cradle) => {
        const store = new OutboundStore({ db: c.db });
        return new FederationSender({
          serverName: c.serverName,
          client: c.federationClient,
          store,
          backoff: new DestinationBackoff(store, {
            minRetryIntervalMs: parseDuration(config.federation.destination_min_retry_interval),
            retryMultiplier: config.federation.destination_retry_multiplier,
            maxRetryIntervalMs: parseDuration(config.federation.destination_max_retry_interval),
          }),
          domainPolicy: c.federationDomainPolicy,
          rooms: () => (c.enabledModules.includes('rooms') ? c.roomsFederationApi : undefined),
          catchUpLimit: config.federation.destination_catch_up_limit,
          timeoutMs,
          logger: c.logger.child({ module: 'federation', component: 'sender' }),
        });
      }).singleton(),
      federationFanout: asFunction(
        (c: Cradle) =>
          new EventFanout({
            serverName: c.serverName,
            rooms: c.roomsFederationApi,
            streamPosition: () => c.roomsApi.currentStreamPosition(),
            store: new OutboundStore({ db: c.db }),
            sender: c.federationSender,
            logger: c.logger.child({ module: 'federation', component: 'fanout' }),
          }),
      ).singleton(),
      federationHandlers: asValue(new HandlerRegistry()),
      federationTransactions: asFunction(
        (c: Cradle) =>
          new TransactionReceiver({
            store: new InboundTxnStore({ db: c.db }),
            keyRing: c.federationKeyRing,
            handlers: c.federationHandlers,
            rooms: () => (c.enabledModules.includes('rooms') ? c.roomsFederationApi : undefined),
            serverAcl: async (roomId) =>
              c.enabledModules.includes('rooms')
                ? (await c.roomsApi.currentStateEvent(roomId, 'm.room.server_acl', ''))?.content
                : undefined,
            remoteOf: (origin) => remoteEventSource(c.federationClient, origin),
            logger: c.logger.child({ module: 'federation', component: 'transactions' }),
          }),
      ).singleton(),
      federationApi: asFunction((c: Cradle): FederationApi => ({
        client: c.federationClient,
        keyRing: c.federationKeyRing,
        isDomainAllowed: (name) => c.federationDomainPolicy.isAllowed(name),
        registerQueryHandler: (type, handler) => c.federationHandlers.registerQueryHandler(type, handler),
        registerEduHandler: (type, handler) => c.federationHandlers.registerEduHandler(type, handler),
        authenticateRequest: (ctx) => c.federationAuthenticator.authenticate(ctx),
        sendEdu: (destination, eduType, content, options) =>
          c.federationSender.sendEdu(destination, eduType, content, options),
        sendStoredEdu: (destination, eduType, content) =>
          c.federationSender.sendStoredEdu(destination, eduType, content),
        remoteServerUp: (serverName) => serverUp(c, serverName),
      })).singleton(),
    });
  },
  routes(router, { cradle }) {
    keysRoutes(router, cradle);
    federationRoutes(router, cradle);
    sendRoutes(router, cradle);
    roomsRoutes(router, cradle);
    membershipRoutes(router, cradle);
    readsRoutes(router, cradle);
  },
  async start(cradle) {
    await cradle.federationOwnKeys.load();
    await cradle.federationSender.start();
    if (cradle.enabledModules.includes('rooms')) {
      const fanout = cradle.federationFanout;
      cradle.roomsHooks.onEventPersisted(() => fanout.wake());
      await fanout.start();
      // Joins and leaves of rooms on other servers: rooms calls this transport (it never imports us).
      cradle.roomsHooks.setFederationMembership(
        new RemoteMembershipTransport({ client: cradle.federationClient, keyRing: cradle.federationKeyRing }),
      );
      cradle.roomsHooks.setFederationInvites(
        new MembershipHandshakes({
          serverName: cradle.serverName,
          signingKey: cradle.signingKey,
          client: cradle.federationClient,
          keyRing: cradle.federationKeyRing,
        }),
      );
      cradle.roomsHooks.setRemoteRooms({
        readsOf: (server) => remoteEventSource(cradle.federationClient, server),
        keys: cradle.federationTransactions.keys,
      });
    }
    if (cradle.enabledModules.includes('auth')) {
      cradle.federationHandlers.registerQueryHandler(
        'profile',
        profileQueryHandler(cradle.serverName, () => cradle.authApi),
      );
      // GET /profile of another server's user: auth asks through this (it never imports us).
      cradle.authApi.setRemoteProfileSource(new RemoteProfiles(cradle.federationClient));
    }
  },
  async stop(cradle) {
    if (cradle.enabledModules.includes('rooms')) await cradle.federationFanout.stop();
    await cradle.federationSender.stop();
    cradle.federationTransport.close();
  },
  commands: { 'rotate-signing-key': rotateSigningKeyCommand },
});

/** A server answered us or spoke to us: end its backoff, send what waits (never blocks the caller). */
function serverUp(c: Cradle, serverName: string): void {
  c.federationSender.remoteServerUp(serverName).catch((err: unknown) => {
    c.logger.warn({ err, serverName }, 'could not reset the backoff of a server');
  });
}
