/**
 * Reads a Synapse log config (`log_config:`), the YAML form of Python's `logging.config.dictConfig`
 * (version 1), into a plan the log router can run. Every problem is reported at once with the file and line,
 * as homeserver.yaml's are; what Axon cannot honour (a handler class it lacks, `style: '{'`) is an error,
 * not a silent downgrade, since the operator expects those lines somewhere.
 */
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { BootError } from '../errors.js';
import { parseConfigText, type ConfigPath, type LoadedConfig } from '../config/load.js';
import { axonLoggerName } from './logger-names.js';

/** pino's numeric levels: Python's plus 10 (DEBUG 10 → 20, …, CRITICAL 50 → 60); 0 is NOTSET. */
export type Level = number;
export const NOTSET = 0;

export type FormatterPlan =
  | { readonly kind: 'text'; readonly format: string; readonly datefmt: string | undefined }
  | { readonly kind: 'json'; readonly withTime: boolean };

export type HandlerTarget =
  | { readonly kind: 'stream'; readonly stream: 'stdout' | 'stderr' }
  | { readonly kind: 'file'; readonly path: string; readonly append: boolean }
  | { readonly kind: 'watched'; readonly path: string; readonly append: boolean }
  | {
      readonly kind: 'rotating';
      readonly path: string;
      readonly append: boolean;
      readonly maxBytes: number;
      readonly backupCount: number;
    }
  | {
      readonly kind: 'timed';
      readonly path: string;
      readonly when: string;
      readonly interval: number;
      readonly backupCount: number;
      readonly utc: boolean;
    }
  | {
      readonly kind: 'memory';
      readonly target: string | undefined;
      readonly capacity: number;
      readonly flushLevel: Level;
      /** Synapse's PeriodicallyFlushingMemoryHandler also flushes every `period` seconds. */
      readonly periodMs: number | undefined;
    }
  | { readonly kind: 'null' };

export interface HandlerPlan {
  readonly name: string;
  readonly level: Level;
  readonly formatter: FormatterPlan;
  readonly target: HandlerTarget;
}

export interface LoggerPlan {
  readonly level: Level;
  readonly handlers: readonly string[];
  readonly propagate: boolean;
}

export interface LogPlan {
  readonly file: string;
  readonly root: { readonly level: Level; readonly handlers: readonly string[] };
  /** By Axon logger name (Synapse names already mapped). */
  readonly loggers: ReadonlyMap<string, LoggerPlan>;
  readonly handlers: ReadonlyMap<string, HandlerPlan>;
}

const LEVELS: Readonly<Record<string, Level>> = {
  NOTSET,
  TRACE: 10,
  DEBUG: 20,
  INFO: 30,
  WARN: 40,
  WARNING: 40,
  ERROR: 50,
  CRITICAL: 60,
  FATAL: 60,
};

const JSON_FORMATTERS: Readonly<Record<string, boolean>> = {
  'synapse.logging.TerseJsonFormatter': true,
  'synapse.logging._terse_json.TerseJsonFormatter': true,
  'synapse.logging.JsonFormatter': false,
  'synapse.logging._terse_json.JsonFormatter': false,
};

const HANDLER_CLASSES: Readonly<Record<string, HandlerTarget['kind']>> = {
  'logging.StreamHandler': 'stream',
  'logging.FileHandler': 'file',
  'logging.handlers.WatchedFileHandler': 'watched',
  'logging.handlers.RotatingFileHandler': 'rotating',
  'logging.handlers.TimedRotatingFileHandler': 'timed',
  'logging.handlers.MemoryHandler': 'memory',
  'synapse.logging.handlers.PeriodicallyFlushingMemoryHandler': 'memory',
  'logging.NullHandler': 'null',
};

/** The keys each handler kind reads besides class, level, formatter and filters. */
const HANDLER_KEYS: Readonly<Record<HandlerTarget['kind'], readonly string[]>> = {
  stream: ['stream'],
  file: ['filename', 'mode', 'encoding', 'delay', 'errors'],
  watched: ['filename', 'mode', 'encoding', 'delay', 'errors'],
  rotating: ['filename', 'mode', 'encoding', 'delay', 'errors', 'maxBytes', 'backupCount'],
  timed: ['filename', 'encoding', 'delay', 'errors', 'when', 'interval', 'backupCount', 'utc'],
  memory: ['capacity', 'flushLevel', 'target', 'period', 'flushOnClose', 'reactor'],
  null: [],
};

export const TIMED_WHEN = ['S', 'M', 'H', 'D', 'MIDNIGHT', 'W0', 'W1', 'W2', 'W3', 'W4', 'W5', 'W6'];

export async function loadLogConfig(file: string): Promise<LogPlan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      `log_config: cannot read ${file}: ${(err as Error).message}`,
    );
  }
  return parseLogConfig(parseConfigText(text, file));
}

export function parseLogConfig(loaded: LoadedConfig): LogPlan {
  const problems: string[] = [];
  const baseDir = dirname(resolve(loaded.file));
  const problem = (path: ConfigPath, message: string): void => {
    const line = loaded.lineOf(path);
    problems.push(
      `${loaded.file}${line === undefined ? '' : `:${line}`}: ${path.join('.') || '(top level)'} ${message}`,
    );
  };
  const data = loaded.data;
  const known = [
    'version',
    'formatters',
    'filters',
    'handlers',
    'loggers',
    'root',
    'disable_existing_loggers',
    'incremental',
  ];
  for (const key of Object.keys(data)) {
    if (!known.includes(key))
      problem([key], `is not a key of Python's logging config (allowed: ${known.join(', ')})`);
  }
  if (data['version'] !== 1) problem(['version'], `must be 1, not ${JSON.stringify(data['version'])}`);
  if (data['incremental'] === true) problem(['incremental'], 'true is not supported: give the whole config');

  const level = (path: ConfigPath, value: unknown, fallback: Level): Level => {
    if (value === undefined || value === null) return fallback;
    if (typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= 50) {
      return value === 0 ? NOTSET : value + 10;
    }
    const byName = typeof value === 'string' ? LEVELS[value.toUpperCase()] : undefined;
    if (byName !== undefined) return byName;
    problem(
      path,
      `must be a level (DEBUG, INFO, WARNING, ERROR, CRITICAL, NOTSET or a number), not ${JSON.stringify(value)}`,
    );
    return fallback;
  };
  const mapping = (path: ConfigPath, value: unknown): Record<string, unknown> => {
    if (value === undefined || value === null) return {};
    if (typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
    problem(path, 'must be a mapping');
    return {};
  };
  const names = (path: ConfigPath, value: unknown, defined: ReadonlySet<string>, what: string): string[] => {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      problem(path, `must be a list of ${what} names`);
      return [];
    }
    return value.flatMap((n, i) => {
      if (typeof n === 'string' && defined.has(n)) return [n];
      problem(
        [...path, i],
        `names no ${what} defined in this file: ${JSON.stringify(n)} (defined: ${[...defined].join(', ') || 'none'})`,
      );
      return [];
    });
  };

  const formatters = new Map<string, FormatterPlan>();
  for (const [name, raw] of Object.entries(mapping(['formatters'], data['formatters']))) {
    const spec = mapping(['formatters', name], raw);
    const cls = spec['()'] ?? spec['class'];
    if (typeof cls === 'string' && cls in JSON_FORMATTERS) {
      formatters.set(name, { kind: 'json', withTime: JSON_FORMATTERS[cls] === true });
      continue;
    }
    if (cls !== undefined && cls !== 'logging.Formatter') {
      problem(
        ['formatters', name, spec['()'] === undefined ? 'class' : '()'],
        `${JSON.stringify(cls)} is not a formatter Axon has (logging.Formatter, ${Object.keys(JSON_FORMATTERS).join(', ')})`,
      );
    }
    if (spec['style'] !== undefined && spec['style'] !== '%') {
      problem(
        ['formatters', name, 'style'],
        `${JSON.stringify(spec['style'])} is not supported: Axon reads %-style formats only`,
      );
    }
    const format = spec['format'] ?? spec['fmt'];
    if (format !== undefined && typeof format !== 'string')
      problem(['formatters', name, 'format'], 'must be a string');
    const datefmt = spec['datefmt'];
    if (datefmt !== undefined && typeof datefmt !== 'string')
      problem(['formatters', name, 'datefmt'], 'must be a string');
    formatters.set(name, {
      kind: 'text',
      format: typeof format === 'string' ? format : '%(message)s',
      datefmt: typeof datefmt === 'string' ? datefmt : undefined,
    });
  }
  // Filters (Synapse's LoggingContextFilter, MetadataFilter) only add fields Axon's records already carry.
  const filters = new Set(Object.keys(mapping(['filters'], data['filters'])));

  const rawHandlers = mapping(['handlers'], data['handlers']);
  const handlerNames = new Set(Object.keys(rawHandlers));
  const handlers = new Map<string, HandlerPlan>();
  for (const [name, raw] of Object.entries(rawHandlers)) {
    const at = (key: string): ConfigPath => ['handlers', name, key];
    const spec = mapping(['handlers', name], raw);
    const cls = spec['class'];
    const kind = typeof cls === 'string' ? HANDLER_CLASSES[cls] : undefined;
    if (!kind) {
      problem(
        at('class'),
        `${JSON.stringify(cls)} is not a handler class Axon has (${Object.keys(HANDLER_CLASSES).join(', ')})`,
      );
      continue;
    }
    for (const key of Object.keys(spec)) {
      if (!['class', 'level', 'formatter', 'filters', ...HANDLER_KEYS[kind]].includes(key)) {
        problem(
          at(key),
          `is not read by ${String(cls)} (it reads: ${HANDLER_KEYS[kind].join(', ') || 'nothing more'})`,
        );
      }
    }
    names(at('filters'), spec['filters'], filters, 'filter');
    let formatter: FormatterPlan = { kind: 'text', format: '%(message)s', datefmt: undefined };
    if (spec['formatter'] !== undefined) {
      const f = typeof spec['formatter'] === 'string' ? formatters.get(spec['formatter']) : undefined;
      if (f) formatter = f;
      else
        problem(
          at('formatter'),
          `names no formatter defined in this file: ${JSON.stringify(spec['formatter'])}`,
        );
    }
    const target = handlerTarget(kind, spec, at, problem, level, baseDir, handlerNames);
    if (target?.kind === 'memory' && target.target === name)
      problem(at('target'), 'may not be the handler itself');
    if (target)
      handlers.set(name, { name, level: level(at('level'), spec['level'], NOTSET), formatter, target });
  }

  const loggers = new Map<string, LoggerPlan>();
  for (const [name, raw] of Object.entries(mapping(['loggers'], data['loggers']))) {
    const spec = mapping(['loggers', name], raw);
    for (const key of Object.keys(spec)) {
      if (!['level', 'handlers', 'propagate', 'filters'].includes(key))
        problem(['loggers', name, key], 'is not a logger key (level, handlers, propagate, filters)');
    }
    if (spec['propagate'] !== undefined && typeof spec['propagate'] !== 'boolean')
      problem(['loggers', name, 'propagate'], 'must be true or false');
    names(['loggers', name, 'filters'], spec['filters'], filters, 'filter');
    loggers.set(axonLoggerName(name), {
      level: level(['loggers', name, 'level'], spec['level'], NOTSET),
      handlers: names(['loggers', name, 'handlers'], spec['handlers'], handlerNames, 'handler'),
      propagate: spec['propagate'] !== false,
    });
  }
  const root = mapping(['root'], data['root']);
  for (const key of Object.keys(root)) {
    if (!['level', 'handlers', 'filters'].includes(key))
      problem(['root', key], 'is not a root logger key (level, handlers)');
  }
  const rootPlan = {
    // Python's root logger defaults to WARNING.
    level: level(['root', 'level'], root['level'], LEVELS['WARNING'] ?? 40) || 10,
    handlers: names(['root', 'handlers'], root['handlers'], handlerNames, 'handler'),
  };
  const dedicated = data['disable_existing_loggers'];
  if (dedicated !== undefined && typeof dedicated !== 'boolean')
    problem(['disable_existing_loggers'], 'must be true or false');
  if (problems.length > 0) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      `log_config: ${loaded.file} is not a log config Axon can follow`,
      problems,
    );
  }
  return { file: loaded.file, root: rootPlan, loggers, handlers };
}

function handlerTarget(
  kind: HandlerTarget['kind'],
  spec: Record<string, unknown>,
  at: (key: string) => ConfigPath,
  problem: (path: ConfigPath, message: string) => void,
  level: (path: ConfigPath, value: unknown, fallback: Level) => Level,
  baseDir: string,
  handlerNames: ReadonlySet<string>,
): HandlerTarget | undefined {
  const int = (key: string, fallback: number, min = 0): number => {
    const value = spec[key];
    if (value === undefined) return fallback;
    if (typeof value === 'number' && Number.isInteger(value) && value >= min) return value;
    problem(at(key), `must be an integer of at least ${min}, not ${JSON.stringify(value)}`);
    return fallback;
  };
  const encoding = spec['encoding'];
  if (
    encoding !== undefined &&
    encoding !== null &&
    (typeof encoding !== 'string' || !/^utf-?8$/i.test(encoding))
  ) {
    problem(at('encoding'), `${JSON.stringify(encoding)} is not supported: Axon writes UTF-8`);
  }
  const path = (): string => {
    const filename = spec['filename'];
    if (typeof filename === 'string' && filename !== '') {
      // As every relative path in homeserver.yaml: against the directory of the file that names it.
      return isAbsolute(filename) ? filename : resolve(baseDir, filename);
    }
    problem(at('filename'), 'is required (the file to write)');
    return '';
  };
  const append = (): boolean => {
    const mode = spec['mode'] ?? 'a';
    if (mode !== 'a' && mode !== 'w') problem(at('mode'), `must be "a" or "w", not ${JSON.stringify(mode)}`);
    return mode !== 'w';
  };
  switch (kind) {
    case 'stream': {
      const stream = spec['stream'] ?? 'ext://sys.stderr'; // Python's StreamHandler writes to stderr
      if (stream !== 'ext://sys.stderr' && stream !== 'ext://sys.stdout') {
        problem(at('stream'), `must be ext://sys.stdout or ext://sys.stderr, not ${JSON.stringify(stream)}`);
      }
      return { kind, stream: stream === 'ext://sys.stdout' ? 'stdout' : 'stderr' };
    }
    case 'file':
    case 'watched':
      return { kind, path: path(), append: append() };
    case 'rotating':
      return {
        kind,
        path: path(),
        append: append(),
        maxBytes: int('maxBytes', 0),
        backupCount: int('backupCount', 0),
      };
    case 'timed': {
      const when = typeof spec['when'] === 'string' ? spec['when'].toUpperCase() : 'H';
      if (!TIMED_WHEN.includes(when) || (spec['when'] !== undefined && typeof spec['when'] !== 'string'))
        problem(
          at('when'),
          `must be one of S, M, H, D, midnight, W0 to W6, not ${JSON.stringify(spec['when'])}`,
        );
      if (spec['utc'] !== undefined && typeof spec['utc'] !== 'boolean')
        problem(at('utc'), 'must be true or false');
      return {
        kind,
        path: path(),
        when,
        interval: int('interval', 1, 1),
        backupCount: int('backupCount', 0),
        utc: spec['utc'] === true,
      };
    }
    case 'memory': {
      const target = spec['target'];
      if (target !== undefined && (typeof target !== 'string' || !handlerNames.has(target))) {
        problem(at('target'), `names no handler defined in this file: ${JSON.stringify(target)}`);
      }
      const period = spec['period'];
      if (period !== undefined && (typeof period !== 'number' || !(period > 0)))
        problem(at('period'), 'must be a number of seconds above 0');
      return {
        kind,
        target: typeof target === 'string' ? target : undefined,
        capacity: int('capacity', 1, 1),
        flushLevel: level(at('flushLevel'), spec['flushLevel'], LEVELS['ERROR'] ?? 50),
        periodMs:
          typeof period === 'number' && period > 0
            ? period * 1000
            : spec['class'] === 'logging.handlers.MemoryHandler'
              ? undefined
              : 5000, // Synapse's default period
      };
    }
    case 'null':
      return { kind };
  }
}
