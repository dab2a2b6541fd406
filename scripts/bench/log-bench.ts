/**
 * The cost of one log line: an access-log-shaped record through pino's JSON lines to a file (no log_config)
 * against the same record through a Synapse log config (text format, RotatingFileHandler), in-process.
 *
 *   npx tsx scripts/bench/log-bench.ts [--lines 200000]
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino } from 'pino';
import { parseConfigText } from '../../core/config/load.js';
import { parseLogConfig } from '../../core/logging/log-config.js';
import { createConfiguredLogger } from '../../core/logging/log-router.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '200000' } } });
const lines = Number(values.lines);
const dir = await mkdtemp(join(tmpdir(), 'axon-log-bench-'));
const record = {
  requestId: 'k3',
  user: '@alice:example.org',
  method: 'GET',
  path: '/_matrix/client/v3/sync',
  status: 200,
  ms: 1.23,
  ip: '127.0.0.1',
};

function time(label: string, log: (i: number) => void): void {
  for (let i = 0; i < 10_000; i++) log(i); // warm up
  const started = process.hrtime.bigint();
  for (let i = 0; i < lines; i++) log(i);
  const ns = Number(process.hrtime.bigint() - started) / lines;
  console.log(`${label.padEnd(52)} ${(ns / 1000).toFixed(2)} µs per line`);
}

const plain = pino({ base: undefined }, pino.destination({ dest: join(dir, 'plain.log'), sync: true }));
const plainAccess = plain.child({ name: 'axon.access.http.8008' });
time('pino JSON lines, sync file (no log_config)', () => plainAccess.info(record, 'request'));

const yaml = `version: 1
formatters:
  precise: { format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s' }
handlers:
  file: { class: logging.handlers.RotatingFileHandler, filename: text.log, maxBytes: 104857600, backupCount: 3, formatter: precise }
loggers:
  synapse.storage.SQL: { level: INFO }
root: { level: INFO, handlers: [file] }
`;
await writeFile(join(dir, 'log.config'), yaml);
const configured = createConfiguredLogger(parseLogConfig(parseConfigText(yaml, join(dir, 'log.config'))));
const access = configured.logger.child({ name: 'axon.access.http.8008' });
time('log_config: text format, RotatingFileHandler', () => access.info(record, 'request'));
const debug = configured.logger.child({ module: 'rooms' });
time('log_config: a DEBUG line below the root level', () => debug.debug(record, 'dropped'));
configured.close();
await rm(dir, { recursive: true, force: true });
