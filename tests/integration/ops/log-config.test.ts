/**
 * `log_config`: a Synapse logging config is followed, not only its root level. A server writes its log file
 * in the configured text format, files rotate at maxBytes, per-logger levels (Synapse's names mapped to
 * Axon's) apply, records reach the handlers of their logger and its ancestors, JSON lines are an option, and
 * a config Axon cannot follow stops boot with every problem, file and line.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { parseConfigText } from '../../../core/config/load.js';
import { BootError } from '../../../core/errors.js';
import { Kernel } from '../../../core/kernel.js';
import { buildHandlers } from '../../../core/logging/handlers.js';
import { parseLogConfig } from '../../../core/logging/log-config.js';
import { createConfiguredLogger } from '../../../core/logging/log-router.js';
import { builtinModules } from '../../../modules/index.js';

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'axon-logging-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A logger built from log-config YAML written into `dir` (relative filenames resolve against it). */
async function loggerFrom(dir: string, yaml: string): Promise<ReturnType<typeof createConfiguredLogger>> {
  const file = join(dir, 'log.config');
  await writeFile(file, yaml);
  return createConfiguredLogger(parseLogConfig(parseConfigText(yaml, file)));
}

const PRECISE = "'%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s'";

void t.test('a server writes its log file in the text format of the log config', async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    join(dir, 'log.config'),
    `version: 1
formatters:
  precise:
    format: ${PRECISE}
filters:
  context:
    (): synapse.logging.context.LoggingContextFilter
    request: ""
handlers:
  file:
    class: logging.handlers.RotatingFileHandler
    formatter: precise
    filename: homeserver.log
    maxBytes: 104857600
    backupCount: 10
    filters: [context]
    encoding: utf8
loggers:
  synapse.storage.SQL:
    level: DEBUG
root:
  level: INFO
  handlers: [file]
disable_existing_loggers: false
`,
  );
  const kernel = await Kernel.boot({
    config: {
      server_name: 'logs.test',
      listeners: [{ port: 0, bind_addresses: ['127.0.0.1'], resources: [{ names: ['client'] }] }],
      database: { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } },
      signing_key_path: join(dir, 'signing.key'),
      media_store_path: join(dir, 'media'),
      log_config: 'log.config',
    },
    configDir: dir,
    modules: builtinModules,
  });
  const res = await fetch(`${kernel.baseUrl()}/_matrix/client/versions`);
  t.equal(res.status, 200);
  await kernel.stop(0);
  const lines = (await readFile(join(dir, 'homeserver.log'), 'utf8')).trimEnd().split('\n');
  const stamp = String.raw`\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}`;
  t.match(lines[0], new RegExp(`^${stamp} - axon - - - INFO - - - `), 'the first line is the root logger');
  t.ok(
    lines.some((l) =>
      new RegExp(
        `^${stamp} - axon\\.access\\.http\\.0 - - - INFO - \\w+ - request method=GET path=/_matrix/client/versions status=200 `,
      ).test(l),
    ),
    'the access log line, named after the configured port as Synapse names it',
  );
  t.ok(lines.some((l) => / - axon - - - INFO - - - Axon started modules=\[/.test(l)));
  t.match(lines.at(-1), / - INFO - - - Axon stopped$/, 'the last line is written before the file closes');
  t.ok(
    lines.some((l) => / - axon\.storage\.SQL - - - DEBUG - - - SQL sql="(select|insert|create)/i.test(l)),
    'synapse.storage.SQL at DEBUG logs the statements',
  );
  t.notOk(
    lines.some((l) => l.includes(' - DEBUG - ') && !l.includes(' axon.storage.SQL ')),
    "root INFO drops the other loggers' debug",
  );
});

void t.test(
  'RotatingFileHandler rotates before a line would reach maxBytes, keeping backupCount files',
  async (t) => {
    const dir = await tempDir(t);
    const { logger, close } = await loggerFrom(
      dir,
      `version: 1
formatters: { plain: { format: '%(message)s' } }
handlers:
  file: { class: logging.handlers.RotatingFileHandler, filename: rotating.log, maxBytes: 1000, backupCount: 2, formatter: plain }
root: { level: INFO, handlers: [file] }
`,
    );
    for (let i = 0; i < 100; i++) logger.info(`line ${String(i).padStart(3, '0')} ${'x'.repeat(40)}`); // 50 bytes each
    close();
    const files = (await readdir(dir)).filter((f) => f.startsWith('rotating.log')).sort();
    t.same(files, ['rotating.log', 'rotating.log.1', 'rotating.log.2'], 'two backups, the oldest dropped');
    for (const f of files) t.ok((await stat(join(dir, f))).size < 1000, `${f} stays under maxBytes`);
    t.equal(
      (await readFile(join(dir, 'rotating.log.1'), 'utf8')).split('\n').length - 1,
      19,
      '19 lines of 50 bytes each',
    );
    t.match(
      await readFile(join(dir, 'rotating.log'), 'utf8'),
      /line 099 x+\n$/,
      'the newest line is in the file itself',
    );
    t.match(
      await readFile(join(dir, 'rotating.log.2'), 'utf8'),
      /^line 057 /,
      'the oldest kept is the third file',
    );
  },
);

void t.test(
  'TimedRotatingFileHandler rotates at each boundary, names files by period, keeps backupCount',
  async (t) => {
    const dir = await tempDir(t);
    const yaml = `version: 1
formatters: { plain: { format: '%(message)s' } }
handlers:
  hourly: { class: logging.handlers.TimedRotatingFileHandler, filename: hourly.log, when: H, backupCount: 2, formatter: plain }
  nightly: { class: logging.handlers.TimedRotatingFileHandler, filename: nightly.log, when: midnight, utc: true, formatter: plain }
root: { level: INFO, handlers: [hourly, nightly] }
`;
    const plan = parseLogConfig(parseConfigText(yaml, join(dir, 'log.config')));
    const handlers = buildHandlers(plan.handlers);
    const write = (time: number, msg: string): void => {
      for (const h of handlers.values()) h.handle({ name: 'axon', level: 30, time, fields: { msg } });
    };
    const now = Date.now();
    const hour = 3_600_000;
    for (let i = 0; i < 4; i++) write(now + i * hour + 1000, `hour ${i}`); // crosses 3 hourly boundaries
    write(now + 2 * 86_400_000, 'two days later');
    for (const h of handlers.values()) h.close();
    const files = (await readdir(dir)).sort();
    const hourly = files.filter((f) => f.startsWith('hourly.log.'));
    t.equal(hourly.length, 2, 'only backupCount rotated hourly files are kept');
    for (const f of hourly) t.match(f, /^hourly\.log\.\d{4}-\d\d-\d\d_\d\d$/, 'named %Y-%m-%d_%H');
    t.equal(await readFile(join(dir, 'hourly.log'), 'utf8'), 'two days later\n');
    t.equal(
      await readFile(join(dir, hourly[1] ?? ''), 'utf8'),
      'hour 3\n',
      'the newest backup holds the last hour',
    );
    const nightly = files.filter((f) => f.startsWith('nightly.log.'));
    // One rotation per UTC midnight crossed (the four hourly writes may straddle one); backupCount 0 keeps all.
    const days = new Set([0, 1, 2, 3].map((i) => new Date(now + i * hour + 1000).toISOString().slice(0, 10)));
    t.equal(nightly.length, days.size, 'one rotation per UTC midnight crossed');
    for (const f of nightly) t.match(f, /^nightly\.log\.\d{4}-\d\d-\d\d$/, 'named %Y-%m-%d');
    t.equal(await readFile(join(dir, 'nightly.log'), 'utf8'), 'two days later\n');
  },
);

void t.test('per-logger levels apply by Synapse or Axon name, to a logger and its children', async (t) => {
  const dir = await tempDir(t);
  const { logger, close } = await loggerFrom(
    dir,
    `version: 1
formatters: { short: { format: '%(name)s %(levelname)s %(message)s' } }
handlers:
  file: { class: logging.FileHandler, filename: levels.log, formatter: short }
loggers:
  synapse.federation: { level: DEBUG }      # Synapse's name for Axon's federation module
  axon.rooms: { level: ERROR }
  synapse.access.http.8008: { level: WARNING }
root: { level: INFO, handlers: [file] }
`,
  );
  logger.child({ module: 'federation' }).debug('federation debug');
  logger.child({ module: 'federation', component: 'key-ring' }).debug('key-ring debug (a child)');
  logger.child({ module: 'rooms' }).warn('rooms warning');
  logger.child({ module: 'rooms' }).error('rooms error');
  logger.child({ module: 'sync' }).debug('sync debug');
  logger.child({ module: 'sync' }).info('sync info');
  logger.child({ name: 'axon.access.http.8008' }).info('access 8008');
  logger.child({ name: 'axon.access.http.8448' }).info('access 8448');
  close();
  t.same((await readFile(join(dir, 'levels.log'), 'utf8')).trimEnd().split('\n'), [
    'axon.federation DEBUG federation debug',
    'axon.federation.key-ring DEBUG key-ring debug (a child)',
    'axon.rooms ERROR rooms error',
    'axon.sync INFO sync info',
    'axon.access.http.8448 INFO access 8448',
  ]);
});

void t.test('handlers of a logger and its ancestors, propagate: false, and handler levels', async (t) => {
  const dir = await tempDir(t);
  const { logger, close } = await loggerFrom(
    dir,
    `version: 1
handlers:
  all: { class: logging.FileHandler, filename: all.log }
  warnings: { class: logging.FileHandler, filename: warnings.log, level: WARNING }
  access: { class: logging.FileHandler, filename: access.log }
loggers:
  synapse.access: { handlers: [access], propagate: false }
root: { level: INFO, handlers: [all, warnings] }
`,
  );
  logger.info('hello');
  logger.warn('careful');
  logger.child({ name: 'axon.access.http.8008' }).info('GET /');
  close();
  t.equal(await readFile(join(dir, 'all.log'), 'utf8'), 'hello\ncareful\n');
  t.equal(await readFile(join(dir, 'warnings.log'), 'utf8'), 'careful\n');
  t.equal(await readFile(join(dir, 'access.log'), 'utf8'), 'GET /\n', 'access lines only in their own file');
});

void t.test(
  "Synapse's PeriodicallyFlushingMemoryHandler holds records until capacity, flushLevel or close",
  async (t) => {
    const dir = await tempDir(t);
    const { logger, close } = await loggerFrom(
      dir,
      `version: 1
handlers:
  file: { class: logging.FileHandler, filename: buffered.log }
  buffer:
    class: synapse.logging.handlers.PeriodicallyFlushingMemoryHandler
    target: file
    capacity: 3
    flushLevel: 30   # Python's WARNING
    period: 3600
root: { level: INFO, handlers: [buffer] }
`,
    );
    const written = (): Promise<string> => readFile(join(dir, 'buffered.log'), 'utf8');
    logger.info('one');
    logger.info('two');
    t.equal(await written(), '', 'held');
    logger.info('three');
    t.equal(await written(), 'one\ntwo\nthree\n', 'flushed at capacity');
    logger.info('four');
    logger.warn('five');
    t.equal(await written(), 'one\ntwo\nthree\nfour\nfive\n', 'flushed by a WARNING');
    logger.info('six');
    close();
    t.equal(await written(), 'one\ntwo\nthree\nfour\nfive\nsix\n', 'flushed at close');
  },
);

void t.test(
  "JSON lines with Synapse's TerseJsonFormatter; a WatchedFileHandler follows logrotate",
  async (t) => {
    const dir = await tempDir(t);
    const { logger, close } = await loggerFrom(
      dir,
      `version: 1
formatters: { structured: { class: synapse.logging.TerseJsonFormatter } }
handlers:
  file: { class: logging.handlers.WatchedFileHandler, filename: json.log, formatter: structured }
root: { level: INFO, handlers: [file] }
`,
    );
    logger.child({ module: 'rooms' }).info({ room_id: '!a:b', access_token: 'secret' }, 'created');
    await rename(join(dir, 'json.log'), join(dir, 'json.log.1')); // what logrotate does
    logger.error(new Error('boom'), 'failed');
    close();
    const first = JSON.parse(await readFile(join(dir, 'json.log.1'), 'utf8')) as Record<string, unknown>;
    t.match(first, { log: 'created', namespace: 'axon.rooms', level: 'INFO', time: Number, room_id: '!a:b' });
    t.equal(first['access_token'], '[Redacted]', 'tokens stay redacted');
    const second = JSON.parse(await readFile(join(dir, 'json.log'), 'utf8')) as Record<string, unknown>;
    t.match(
      second,
      { log: 'failed', namespace: 'axon', level: 'ERROR', err: { message: 'boom' } },
      'reopened',
    );
  },
);

void t.test('a log config Axon cannot follow stops boot, naming every problem with its line', async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    join(dir, 'bad.log.config'),
    `version: 1
formatters:
  precise: { format: '%(message)s', style: '{' }
handlers:
  remote: { class: logging.handlers.SysLogHandler, address: /dev/log }
  file: { class: logging.handlers.RotatingFileHandler, filename: x.log, maxBytes: lots, formatter: fancy }
loggers:
  synapse: { level: LOUD, handlers: [console] }
root: { level: INFO, handlers: [file] }
`,
  );
  const boot = Kernel.boot({
    config: {
      server_name: 'logs.test',
      listeners: [],
      database: { name: 'sqlite3', args: { database: join(dir, 'homeserver.db') } },
      log_config: 'bad.log.config',
    },
    configDir: dir,
    modules: builtinModules,
  });
  const err = (await boot.then(
    () => t.fail('booted'),
    (e: unknown) => e,
  )) as BootError;
  t.type(err, BootError);
  t.equal(err.code, 'AXON_ERR_CONFIG_INVALID');
  const file = join(dir, 'bad.log.config');
  t.match(err.problems, [
    `${file}:3: formatters.precise.style "{" is not supported: Axon reads %-style formats only`,
    `${file}:5: handlers.remote.class "logging.handlers.SysLogHandler" is not a handler class Axon has`,
    `${file}:6: handlers.file.formatter names no formatter defined in this file: "fancy"`,
    `${file}:6: handlers.file.maxBytes must be an integer of at least 0, not "lots"`,
    `${file}:8: loggers.synapse.level must be a level (DEBUG, INFO, WARNING, ERROR, CRITICAL, NOTSET or a number), not "LOUD"`,
    `${file}:8: loggers.synapse.handlers.0 names no handler defined in this file: "console"`,
  ]);
  t.notOk(existsSync(join(dir, 'homeserver.db')), 'nothing was created');

  const missing = await Kernel.boot({
    config: { server_name: 'logs.test', listeners: [], log_config: 'absent.yaml' },
    configDir: dir,
    modules: builtinModules,
  }).catch((e: unknown) => e);
  t.match(missing, {
    code: 'AXON_ERR_CONFIG_INVALID',
    message: /^log_config: cannot read .*absent\.yaml: ENOENT/,
  });

  await writeFile(
    join(dir, 'nodir.log.config'),
    'version: 1\nhandlers: { f: { class: logging.FileHandler, filename: no/such/dir/x.log } }\nroot: { handlers: [f] }\n',
  );
  const unopenable = await Kernel.boot({
    config: { server_name: 'logs.test', listeners: [], log_config: 'nodir.log.config' },
    configDir: dir,
    modules: builtinModules,
  }).catch((e: unknown) => e);
  t.match(unopenable, {
    code: 'AXON_ERR_CONFIG_INVALID',
    message: /cannot open a log file: ENOENT.*no\/such\/dir\/x\.log/,
  });
});
