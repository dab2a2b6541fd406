import { asClass } from 'awilix';
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
  description: 'GET /_matrix/client/versions and /.well-known/matrix/{client,server}',
  enabledByDefault: true,
  register({ container }) {
    container.register({ discoveryService: asClass(DiscoveryService).singleton() });
  },
  routes(router, { cradle }) {
    discoveryRoutes(router, cradle);
  },
});
