/**
 * The `axon` program: the kernel's command-line runner, handed the built-in modules. This is the only place
 * where the kernel meets the module list (as a Koa application meets its middleware in the app's own file),
 * so nothing in core/ imports modules/. `npm start` runs its compiled form, dist/modules/main.js.
 */
import { runCli } from '../core/cli.js';
import { SUPPORTED_SPEC_VERSIONS } from './discovery/services/discovery-service.js';
import { builtinModules } from './index.js';

await runCli(process.argv.slice(2), builtinModules, { specVersions: SUPPORTED_SPEC_VERSIONS });
