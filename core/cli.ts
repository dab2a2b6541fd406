/**
 * The `axon` command: generate-config | start | migrate | modules, plus the commands modules contribute
 * (register-user and hash-password come with the auth module). The kernel knows no module: the entry point
 * (modules/main.ts) hands this runner the list it boots with.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateConfigText } from './config/generate.js';
import { BootError } from './errors.js';
import { Kernel, resolvePath } from './kernel.js';
import { validateConfig } from './config/compose.js';
import { loadConfigFile } from './config/load.js';
import { backupDatabase, BackupError, type BackupResult } from './storage/backup.js';
import type { AnyModuleDefinition, CliCommand } from './define-module.js';

const DEV_CONFIG = 'data/homeserver.yaml';

const USAGE = `usage: axon <command> [options]

  generate-config --server-name NAME --config-path FILE [--data-dir DIR] [--port N] [--bind-address ADDR ...]
                  [--database-url postgres://...]
  start [-c FILE]        run the homeserver in the foreground (no -c: a development config under ./data/)
  migrate -c FILE        apply database migrations and exit
  backup -c FILE --to FILE
                         copy the database while the server runs (SQLite; prints the pg_dump command for PostgreSQL)
  modules                list the built-in modules and whether they are on by default
  --version              print Axon's version and the Matrix spec versions it serves

  axon <command> --help  describes one command`;

/** What the entry point tells the runner besides the modules (`--version` prints it). */
export interface CliInfo {
  /** The client-server spec versions served (GET /_matrix/client/versions). */
  readonly specVersions?: readonly string[];
}

const COMMAND_HELP: Readonly<Record<string, string>> = {
  'generate-config': `usage: axon generate-config --server-name NAME --config-path FILE [options]

  Writes a complete homeserver.yaml with fresh secrets (never overwrites an existing file).

  --server-name NAME        the server name (the part after ':' in user IDs); required
  -c, --config-path FILE    where to write the config; required
  --data-dir DIR            database, media, signing key and pid file (default: the config's folder)
  --port N                  the client listener's port (default 8008)
  --bind-address ADDR       an address to listen on; repeat for several (default 127.0.0.1)
  --database-url URL        postgres://user:password@host:port/database (default: SQLite in the data dir)
  --open-registration       allow registration without verification (for trying Axon out)`,
  start: `usage: axon start [-c FILE]

  Runs the homeserver in the foreground until SIGTERM or SIGINT, then stops gracefully.

  -c, --config FILE         homeserver.yaml (default: a development config under ./data/, generated if absent)`,
  migrate: `usage: axon migrate -c FILE

  Applies the database migrations of the enabled modules and exits.

  -c, --config FILE         homeserver.yaml`,
  backup: `usage: axon backup -c FILE --to FILE

  Copies the database into FILE while the server may keep running. SQLite: an online copy with VACUUM INTO
  (one consistent snapshot, compacted; FILE must not exist). PostgreSQL: prints the pg_dump command to run
  (and the pg_restore one), writes nothing and exits with status 2. Back up the media store and the signing
  key too (the command names both).

  -c, --config FILE         homeserver.yaml
  --to FILE                 where to write the copy`,
  modules: `usage: axon modules

  Lists the built-in modules and whether they are on by default (switch them under \`modules:\`).`,
};

async function main(
  argv: readonly string[],
  modules: readonly AnyModuleDefinition[],
  info: CliInfo,
): Promise<number> {
  const [command, ...rest] = argv;
  const moduleCommand = command === undefined ? undefined : moduleCommands(modules).get(command);
  if (command !== undefined && rest.includes('--version')) {
    console.log(await versionText(info)); // `npm start -- --version`
    return 0;
  }
  if (command !== undefined && (rest.includes('--help') || rest.includes('-h'))) {
    const help =
      COMMAND_HELP[command] ??
      (moduleCommand && `usage: axon ${moduleCommand.usage}\n\n  ${moduleCommand.summary}`);
    if (help) {
      console.log(help);
      return 0;
    }
  }
  switch (command) {
    case 'generate-config':
      return generateConfig(rest);
    case 'start':
      return start(rest, modules);
    case 'migrate':
      return migrate(rest, modules);
    case 'backup':
      return backup(rest, modules);
    case 'modules':
      for (const m of modules) {
        console.log(`${m.name.padEnd(16)} ${m.enabledByDefault ? 'on ' : 'off'}  ${m.description}`);
      }
      return 0;
    case 'version':
    case '--version':
    case '-v':
      console.log(await versionText(info));
      return 0;
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(usage(modules));
      return command === undefined ? 1 : 0;
    default: {
      if (moduleCommand) return moduleCommand.run(rest);
      console.error(`unknown command "${command}"\n\n${usage(modules)}`);
      return 1;
    }
  }
}

/** `axon --version`: Axon's version (package.json) and the spec versions it serves. */
async function versionText(info: CliInfo): Promise<string> {
  // core/cli.ts runs from the sources (../package.json) or from dist/core/cli.js (../../package.json).
  let version = 'unknown';
  for (const candidate of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(await readFile(new URL(candidate, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === 'axon' && pkg.version) {
        version = pkg.version;
        break;
      }
    } catch {
      // not this one
    }
  }
  const lines = [`Axon ${version} (Node.js ${process.version})`];
  if (info.specVersions?.length) {
    lines.push(`Matrix client-server API versions: ${info.specVersions.join(', ')}`);
  }
  return lines.join('\n');
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
    // Ctrl-C under `npm start` arrives twice at once: from the terminal (one process group) and forwarded by
    // npm. Repeats within a second are that echo; a signal after it ends a graceful stop that hangs.
    let firstAt: number | undefined;
    const onSignal = (signal: string): void => {
      if (firstAt !== undefined) {
        if (Date.now() - firstAt < 1000) return;
        console.error(`${signal} again: exiting without waiting for the graceful stop`);
        process.exit(1);
      }
      firstAt = Date.now();
      console.log(`${signal}: stopping gracefully`);
      kernel.stop().then(resolveStop, (err: unknown) => {
        console.error(err);
        resolveStop();
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
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

async function backup(argv: readonly string[], modules: readonly AnyModuleDefinition[]): Promise<number> {
  const { values } = parseArgs({
    args: [...argv],
    options: { config: { type: 'string', short: 'c' }, to: { type: 'string' } },
  });
  if (!values.config || !values.to) {
    console.error('backup needs -c FILE and --to FILE (see: axon backup --help)');
    return 1;
  }
  const config = validateConfig(await loadConfigFile(values.config), modules);
  const configDir = dirname(resolve(values.config));
  let result: BackupResult;
  try {
    result = await backupDatabase(config.kernel.database, configDir, values.to);
  } catch (err) {
    if (!(err instanceof BackupError)) throw err;
    console.error(`axon backup: ${err.message}`);
    return 1;
  }
  const signingKey = resolvePath(
    configDir,
    config.kernel.signing_key_path ?? `${config.kernel.server_name}.signing.key`,
  );
  const mediaStore = config.whole['media_store_path'];
  const others = [
    `the signing key ${signingKey}`,
    ...(typeof mediaStore === 'string' ? [`the media store ${resolvePath(configDir, mediaStore)}/`] : []),
    `and ${resolve(values.config)}`,
  ].join(', ');
  if (result.engine === 'pg') {
    console.log(
      `Axon does not dump PostgreSQL itself; nothing was written. Run (with PGPASSWORD set or a ~/.pgpass entry):\n\n` +
        `  ${result.command}\n\nand to restore into an empty database:\n\n  ${result.restore}\n\nAlso back up ${others}.`,
    );
    return 2;
  }
  console.log(
    `backed up ${result.source} to ${result.file} (${result.bytes} bytes). Also back up ${others}.`,
  );
  return 0;
}

/** Runs one `axon` command with these modules and sets the process exit code. */
export function runCli(
  argv: readonly string[],
  modules: readonly AnyModuleDefinition[],
  info: CliInfo = {},
): Promise<void> {
  return main(argv, modules, info).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      if (err instanceof BootError) console.error(`Axon could not start [${err.code}]: ${err.message}`);
      else if (isArgumentError(err)) {
        console.error(`axon ${argv[0] ?? ''}: ${err.message} (see: axon ${argv[0] ?? ''} --help)`);
      } else console.error(err);
      process.exitCode = 1;
    },
  );
}

/** The errors of node:util's parseArgs (an unknown option, a missing value): the operator's typo, not a bug. */
function isArgumentError(err: unknown): err is Error {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof TypeError && typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_');
}
