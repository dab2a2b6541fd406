/**
 * A pino logger that follows a Synapse log config: each child logger's level is its name's (the nearest
 * configured ancestor's, else root's), and each record goes to the handlers of its logger and of its
 * ancestors up to the root, unless a logger says `propagate: false` (Python's rules).
 */
import { pino, type Logger } from 'pino';
import { BootError } from '../errors.js';
import type { LogRecord } from './format.js';
import { buildHandlers, type LogHandler } from './handlers.js';
import type { LogPlan } from './log-config.js';
import { loggerNameOf, nameAndAncestors, ROOT_NAME } from './logger-names.js';

export const REDACT = ['access_token', 'password', '*.password', '*.access_token'];

export interface ConfiguredLogger {
  readonly logger: Logger;
  /** Flushes buffered records and closes the files (after the last line at shutdown). */
  readonly close: () => void;
}

const LABELS: readonly (readonly [number, string])[] = [
  [10, 'trace'],
  [20, 'debug'],
  [30, 'info'],
  [40, 'warn'],
  [50, 'error'],
  [60, 'fatal'],
];

/** The pino label that lets through exactly the records at `level` or above. */
function labelFor(level: number): string {
  return LABELS.find(([n]) => n >= level)?.[1] ?? 'silent';
}

export function createConfiguredLogger(plan: LogPlan): ConfiguredLogger {
  let handlers: Map<string, LogHandler>;
  try {
    handlers = buildHandlers(plan.handlers);
  } catch (err) {
    throw new BootError(
      'AXON_ERR_CONFIG_INVALID',
      `log_config: ${plan.file}: cannot open a log file: ${(err as Error).message}`,
    );
  }
  const levelOf = (name: string): number => {
    for (const n of nameAndAncestors(name)) {
      const level = plan.loggers.get(n)?.level;
      if (level) return level;
    }
    return plan.root.level;
  };
  const routes = new Map<string, LogHandler[]>();
  const handlersOf = (name: string): LogHandler[] => {
    let found = routes.get(name);
    if (found) return found;
    const names: string[] = [];
    let propagate = true;
    for (const n of nameAndAncestors(name)) {
      const logger = plan.loggers.get(n);
      if (!logger) continue;
      names.push(...logger.handlers);
      if (!logger.propagate) {
        propagate = false;
        break;
      }
    }
    if (propagate) names.push(...plan.root.handlers);
    found = [...new Set(names)].flatMap((n) => handlers.get(n) ?? []);
    routes.set(name, found);
    return found;
  };

  let closed = false;
  const destination = {
    write(line: string): void {
      if (closed) return;
      const fields = JSON.parse(line) as Record<string, unknown>;
      const record: LogRecord = {
        name: loggerNameOf(fields),
        level: typeof fields['level'] === 'number' ? fields['level'] : 30,
        time: typeof fields['time'] === 'number' ? fields['time'] : Date.now(),
        fields,
      };
      for (const handler of handlersOf(record.name)) {
        if (record.level >= handler.level) handler.handle(record);
      }
    },
    flush(): void {
      for (const handler of handlers.values()) handler.flush();
    },
  };

  const perLoggerLevels = [...plan.loggers.values()].some((l) => l.level !== 0);
  const logger = pino(
    {
      level: labelFor(levelOf(ROOT_NAME)),
      base: undefined,
      redact: REDACT,
      // Children are named by their bindings (logger-names.ts); each takes its name's level. Only when some
      // logger has its own level: otherwise every child keeps the root's, at no cost per child.
      ...(perLoggerLevels && {
        onChild: (child: Logger) => {
          child.level = labelFor(levelOf(loggerNameOf(child.bindings())));
        },
      }),
    },
    destination,
  );
  return {
    logger,
    close: () => {
      if (closed) return;
      closed = true;
      // Memory handlers first: they flush into the files closed after them.
      const ordered = [...handlers.values()].sort((a, b) => Number(b.buffers) - Number(a.buffers));
      for (const handler of ordered) handler.close();
    },
  };
}
