import { Type } from '@sinclair/typebox';
import { asFunction } from 'awilix';
import type { Cradle } from '../../core/container.js';
import { defineModule } from '../../core/define-module.js';
import { DiscoveryService } from './services/discovery-service.js';
import { discoveryRoutes } from './routes/discovery.routes.js';

declare module '../../core/container.js' {
  interface Cradle {
    discoveryService: DiscoveryService;
  }
}

/** How clients and servers find this homeserver and what it speaks: versions and .well-known. */
export default defineModule({
  name: 'discovery',
  description: 'GET /_matrix/client/versions, /capabilities and /.well-known/matrix/{client,server}',
  enabledByDefault: true,
  config: Type.Object({
    /** The identity server clients are told about in /.well-known/matrix/client (Synapse's key). */
    default_identity_server: Type.Optional(Type.String({ pattern: '^https?://' })),
  }),
  register({ container, config: moduleConfig }) {
    container.register({
      discoveryService: asFunction(
        ({ config }: Cradle) =>
          new DiscoveryService({
            config,
            defaultIdentityServer: moduleConfig.default_identity_server,
            optionalService: <T>(name: string) =>
              container.hasRegistration(name) ? container.resolve<T>(name) : undefined,
          }),
      ).singleton(),
    });
  },
  routes(router, { cradle }) {
    discoveryRoutes(router, cradle);
  },
});
