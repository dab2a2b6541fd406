/**
 * The `axon` command: generate-config | start | migrate | modules, plus the commands modules contribute
 * (register-user and hash-password come with the auth module). The kernel knows no module: the entry point
 * (modules/main.ts) hands this runner the list it boots with.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateConfigText } from './config/generate.js';
import { BootError } from './errors.js';
import { Kernel } from './kernel.js';
import type { AnyModuleDefinition, CliCommand } from './define-module.js';

const DEV_CONFIG = 'data/homeserver.yaml';

const USAGE = `usage: axon <command> [options]

  generate-config --server-name NAME --config-path FILE [--data-dir DIR] [--port N] [--bind-address ADDR ...]
                  [--database-url postgres://...]
  start [-c FILE]        run the homeserver in the foreground (no -c: a development config under ./data/)
  migrate -c FILE        apply database migrations and exit
  modules                list the built-in modules and whether they are on by default`;

async function main(argv: readonly string[], modules: readonly AnyModuleDefinition[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'generate-config':
      return generateConfig(rest);
    case 'start':
      return start(rest, modules);
    case 'migrate':
      return migrate(rest, modules);
    case 'modules':
      for (const m of modules) {
        console.log(`${m.name.padEnd(16)} ${m.enabledByDefault ? 'on ' : 'off'}  ${m.description}`);
      }
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage(modules));
      return command === undefined ? 1 : 0;
    default: {
      const moduleCommand = moduleCommands(modules).get(command);
      if (moduleCommand) return moduleCommand.run(rest);
      console.error(`unknown command "${command}"\n\n${usage(modules)}`);
      return 1;
    }
  }
}

function moduleCommands(modules: readonly AnyModuleDefinition[]): Map<string, CliCommand> {
  return new Map(modules.flatMap((m) => Object.entries(m.commands ?? {})));
}

function usage(modules: readonly AnyModuleDefinition[]): string {
  const extra = [...moduleCommands(modules)].map(
    ([name, c]) => `  ${c.usage.startsWith(name) ? c.usage : name}\n      ${c.summary}`,
  );
  return extra.length > 0 ? `${USAGE}\n${extra.join('\n')}` : USAGE;
}

async function generateConfig(argv: readonly string[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'server-name': { type: 'string' },
      'config-path': { type: 'string', short: 'c' },
      'data-dir': { type: 'string' },
      port: { type: 'string' },
      'database-url': { type: 'string' },
      'bind-address': { type: 'string', multiple: true },
      'open-registration': { type: 'boolean' },
    },
  });
  const serverName = values['server-name'];
  const configPath = values['config-path'];
  if (!serverName || !configPath) {
    console.error('generate-config needs --server-name and --config-path');
    return 1;
  }
  if (existsSync(configPath)) {
    console.error(`${configPath} exists already; not overwriting it`);
    return 1;
  }
  const port = Number(values.port ?? 8008);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    console.error('--port must be a port number');
    return 1;
  }
  await writeConfig(configPath, {
    serverName,
    port,
    dataDir: values['data-dir'] ?? dirname(resolve(configPath)),
    databaseUrl: values['database-url'],
    bindAddresses: values['bind-address'],
    openRegistration: values['open-registration'] ?? false,
  });
  console.log(`wrote ${configPath}; start with: npm start -- -c ${configPath}`);
  return 0;
}

async function writeConfig(path: string, options: Parameters<typeof generateConfigText>[0]): Promise<void> {
  await mkdir(dirname(resolve(path)), { recursive: true });
  await mkdir(options.dataDir, { recursive: true });
  await writeFile(path, generateConfigText(options), { mode: 0o600, flag: 'wx' });
}

function configArg(argv: readonly string[]): string | undefined {
  const { values } = parseArgs({ args: [...argv], options: { config: { type: 'string', short: 'c' } } });
  return values.config;
}

async function start(argv: readonly string[], modules: readonly AnyModuleDefinition[]): Promise<number> {
  let configPath = configArg(argv);
  if (!configPath) {
    configPath = DEV_CONFIG;
    if (!existsSync(configPath)) {
      const dataDir = resolve(dirname(configPath));
      await writeConfig(configPath, {
        serverName: 'localhost',
        port: 8008,
        dataDir,
        openRegistration: true,
      });
      console.log(
        `no -c given: generated a development config for "localhost" in ${join(dataDir, 'homeserver.yaml')}`,
      );
    } else {
      console.log(`no -c given: using the development config ${configPath}`);
    }
  }
  const kernel = await Kernel.boot({ configPath, modules });
  console.log(`Axon is running at ${kernel.baseUrl()} (Ctrl-C to stop)`);
  await new Promise<void>((resolveStop) => {
    const onSignal = (signal: string): void => {
      console.log(`${signal}: stopping gracefully`);
      kernel.stop().then(resolveStop, (err: unknown) => {
        console.error(err);
        resolveStop();
      });
    };
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  });
  return 0;
}

async function migrate(argv: readonly string[], modules: readonly AnyModuleDefinition[]): Promise<number> {
  const configPath = configArg(argv);
  if (!configPath) {
    console.error('migrate needs -c FILE');
    return 1;
  }
  const kernel = await Kernel.boot({ configPath, modules, listen: false });
  await kernel.stop();
  console.log('database is up to date');
  return 0;
}

/** Runs one `axon` command with these modules and sets the process exit code. */
export function runCli(argv: readonly string[], modules: readonly AnyModuleDefinition[]): Promise<void> {
  return main(argv, modules).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof BootError) console.error(`Axon could not start [${err.code}]: ${err.message}`);
      else console.error(err);
      process.exitCode = 1;
    },
  );
}
