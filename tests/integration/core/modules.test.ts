import t from 'tap';
import { BootError } from '../../../core/errors.js';
import { startServer } from '../../helpers/start-server.js';
import { echoModule, needsEchoModule } from '../../helpers/test-modules.js';
import { builtinModules } from '../../../modules/index.js';

const modules = [...builtinModules, echoModule, needsEchoModule];

void t.test('a disabled module has no routes: they answer M_UNRECOGNIZED', async (t) => {
  const server = await startServer(t, {
    modules: [...builtinModules, echoModule],
    config: { modules: { discovery: false } },
  });
  const versions = await server.request('GET', '/_matrix/client/versions');
  t.equal(versions.status, 404);
  t.equal(versions.body.errcode, 'M_UNRECOGNIZED');
  const echo = await server.request('POST', '/_matrix/client/v3/echo', { body: {} });
  t.equal(echo.status, 200, 'the enabled module still serves');
});

void t.test('a module whose dependency is disabled stops boot, naming both', async (t) => {
  const err = await startServer(t, { modules, config: { modules: { echo: false } } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, BootError);
  t.equal((err as BootError).code, 'AXON_ERR_MODULE_DEPENDENCY_DISABLED');
  t.match((err as Error).message, /module "needs-echo" requires module "echo", which is disabled/);
});

void t.test('boot order follows requires', async (t) => {
  const server = await startServer(t, { modules: [needsEchoModule, ...builtinModules, echoModule] });
  const order = server.kernel.modules.map((m) => m.name);
  t.ok(order.indexOf('echo') < order.indexOf('needs-echo'), order.join(','));
});

void t.test('listeners serve only the resources they name', async (t) => {
  const server = await startServer(t, {
    config: {
      listeners: [
        { port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['federation'] }] },
        { port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] },
      ],
    },
  });
  const [federation, client] = server.kernel.listeners;
  const onFederation = await fetch(`http://127.0.0.1:${federation!.port}/_matrix/client/versions`);
  t.equal(onFederation.status, 404, 'client API absent from the federation-only listener');
  const onClient = await fetch(`http://127.0.0.1:${client!.port}/_matrix/client/versions`);
  t.equal(onClient.status, 200);
  const health = await fetch(`http://127.0.0.1:${federation!.port}/health`);
  t.equal(health.status, 200, 'health is on every listener');
});
