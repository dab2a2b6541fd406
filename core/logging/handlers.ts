/**
 * The handlers of a Synapse log config: the console, plain, watched, size-rotated and time-rotated files,
 * and Synapse's buffering memory handler. Files are written synchronously, as pino writes stdout by
 * default: a log line costs a few microseconds in the page cache, and rotation then needs no locking.
 * Rotation is small enough to write here (Python's rules, below) rather than take a dependency whose file
 * naming would differ from what Synapse operators' logrotate and log shippers expect.
 */
import {
  closeSync,
  existsSync,
  fstatSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { formatterFor, strftime, type LogRecord } from './format.js';
import type { HandlerPlan, HandlerTarget } from './log-config.js';

export interface LogHandler {
  readonly level: number;
  /** Holds records back (a memory handler): closed before the handlers it writes into. */
  readonly buffers: boolean;
  handle(record: LogRecord): void;
  flush(): void;
  close(): void;
}

/** Builds every handler of a plan; a memory handler's target is built first. Throws if a file cannot open. */
export function buildHandlers(plans: ReadonlyMap<string, HandlerPlan>): Map<string, LogHandler> {
  const built = new Map<string, LogHandler>();
  const build = (plan: HandlerPlan): LogHandler => {
    const existing = built.get(plan.name);
    if (existing) return existing;
    const format = formatterFor(plan.formatter);
    const target = plan.target;
    let handler: LogHandler;
    if (target.kind === 'memory') {
      const inner = target.target ? plans.get(target.target) : undefined;
      handler = new MemoryHandler(plan.level, target, inner ? build(inner) : undefined);
    } else {
      handler = new WritingHandler(plan.level, format, sinkFor(target));
    }
    built.set(plan.name, handler);
    return handler;
  };
  for (const plan of plans.values()) build(plan);
  return built;
}

interface Sink {
  write(text: string, time: number): void;
  close(): void;
}

function sinkFor(target: Exclude<HandlerTarget, { kind: 'memory' }>): Sink {
  switch (target.kind) {
    case 'stream':
      return {
        write: (text) => void (target.stream === 'stdout' ? process.stdout : process.stderr).write(text),
        close: () => undefined,
      };
    case 'null':
      return { write: () => undefined, close: () => undefined };
    case 'file':
      return new FileSink(target.path, target.append);
    case 'watched':
      return new WatchedFileSink(target.path, target.append);
    case 'rotating':
      return new RotatingFileSink(target.path, target.append, target.maxBytes, target.backupCount);
    case 'timed':
      return new TimedRotatingFileSink(
        target.path,
        target.when,
        target.interval,
        target.backupCount,
        target.utc,
      );
  }
}

class WritingHandler implements LogHandler {
  readonly buffers = false;
  private failed = false;
  constructor(
    readonly level: number,
    private readonly format: (record: LogRecord) => string,
    private readonly sink: Sink,
  ) {}

  handle(record: LogRecord): void {
    try {
      this.sink.write(this.format(record), record.time);
      this.failed = false;
    } catch (err) {
      // As Python's Handler.handleError: say so on stderr (once per outage) and carry on serving.
      if (!this.failed) process.stderr.write(`--- Logging error: ${(err as Error).message} ---\n`);
      this.failed = true;
    }
  }

  flush(): void {}

  close(): void {
    this.sink.close();
  }
}

class FileSink implements Sink {
  protected fd: number;
  protected size: number;

  constructor(
    protected readonly path: string,
    append: boolean,
  ) {
    this.fd = openSync(path, append ? 'a' : 'w');
    this.size = fstatSync(this.fd).size;
  }

  write(text: string, _time: number): void {
    const bytes = Buffer.from(text);
    writeSync(this.fd, bytes);
    this.size += bytes.length;
  }

  protected reopen(flags: 'a' | 'w'): void {
    closeSync(this.fd);
    this.fd = openSync(this.path, flags);
    this.size = fstatSync(this.fd).size;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** logging.handlers.WatchedFileHandler: reopens the file when logrotate (or anyone) moved or removed it. */
class WatchedFileSink extends FileSink {
  override write(text: string, time: number): void {
    let moved: boolean;
    try {
      const onDisk = statSync(this.path);
      const open = fstatSync(this.fd);
      moved = onDisk.ino !== open.ino || onDisk.dev !== open.dev;
    } catch {
      moved = true;
    }
    if (moved) this.reopen('a');
    super.write(text, time);
  }
}

/**
 * logging.handlers.RotatingFileHandler: before a line would take the file to maxBytes, `file` becomes
 * `file.1`, `file.1` becomes `file.2`, … up to `file.<backupCount>`, which is dropped. As in Python, a
 * maxBytes or backupCount of 0 never rotates.
 */
class RotatingFileSink extends FileSink {
  constructor(
    path: string,
    append: boolean,
    private readonly maxBytes: number,
    private readonly backupCount: number,
  ) {
    super(path, append);
  }

  override write(text: string, time: number): void {
    if (
      this.maxBytes > 0 &&
      this.backupCount > 0 &&
      this.size > 0 &&
      this.size + Buffer.byteLength(text) >= this.maxBytes
    ) {
      rmSync(`${this.path}.${this.backupCount}`, { force: true });
      for (let i = this.backupCount - 1; i >= 1; i--) {
        if (existsSync(`${this.path}.${i}`)) renameSync(`${this.path}.${i}`, `${this.path}.${i + 1}`);
      }
      renameSync(this.path, `${this.path}.1`);
      this.reopen('w');
    }
    super.write(text, time);
  }
}

const SUFFIX: Readonly<Record<string, string>> = {
  S: '%Y-%m-%d_%H-%M-%S',
  M: '%Y-%m-%d_%H-%M',
  H: '%Y-%m-%d_%H',
  D: '%Y-%m-%d',
};

/**
 * logging.handlers.TimedRotatingFileHandler: at each boundary (every `interval` S/M/H/D, at midnight, or on
 * weekday N at midnight) `file` becomes `file.<date>` named for the period it holds, and only the newest
 * `backupCount` of those are kept (0: all). The first boundary counts from the file's last change, so a
 * restart after midnight still rotates yesterday's file.
 */
class TimedRotatingFileSink extends FileSink {
  private rolloverAt: number;
  private readonly suffix: string;

  constructor(
    path: string,
    private readonly when: string,
    private readonly interval: number,
    private readonly backupCount: number,
    private readonly utc: boolean,
  ) {
    super(path, true);
    this.suffix = SUFFIX[when] ?? SUFFIX['D'] ?? '';
    this.rolloverAt = this.nextRollover(existsSync(path) ? statSync(path).mtimeMs : Date.now());
  }

  override write(text: string, time: number): void {
    if (time >= this.rolloverAt) this.rollover(time);
    super.write(text, time);
  }

  private rollover(now: number): void {
    const periodStart = this.previousBoundary(this.rolloverAt);
    const stamp = new Date(
      this.utc ? periodStart + new Date(periodStart).getTimezoneOffset() * 60_000 : periodStart,
    );
    const rotated = `${this.path}.${strftime(stamp, this.suffix)}`;
    if (this.size > 0) {
      rmSync(rotated, { force: true });
      renameSync(this.path, rotated);
      this.reopen('w');
    }
    if (this.backupCount > 0) this.dropOldest();
    this.rolloverAt = this.nextRollover(now);
  }

  private dropOldest(): void {
    const prefix = `${basename(this.path)}.`;
    const rotated = readdirSync(dirname(this.path))
      .filter((f) => f.startsWith(prefix) && /^\d{4}-\d{2}-\d{2}/.test(f.slice(prefix.length)))
      .sort();
    for (const old of rotated.slice(0, Math.max(0, rotated.length - this.backupCount))) {
      rmSync(join(dirname(this.path), old), { force: true });
    }
  }

  private periodMs(): number {
    const unit = { S: 1000, M: 60_000, H: 3_600_000 }[this.when as 'S' | 'M' | 'H'] ?? 86_400_000;
    return unit * (this.when.startsWith('W') ? 7 : this.interval);
  }

  private previousBoundary(at: number): number {
    return at - this.periodMs();
  }

  /** The next boundary after `from`: plain intervals count from `from`; midnight and W0–W6 align to days. */
  private nextRollover(from: number): number {
    if (this.when !== 'MIDNIGHT' && !this.when.startsWith('W')) return from + this.periodMs();
    const date = new Date(from);
    const midnight = this.utc
      ? Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate() + 1)
      : new Date(date.getFullYear(), date.getMonth(), date.getDate() + 1).getTime();
    if (this.when === 'MIDNIGHT') return midnight + (this.interval - 1) * 86_400_000;
    // W0 is Monday (Python's weekday()); JavaScript's getDay() has Sunday 0.
    const weekday = ((this.utc ? date.getUTCDay() : date.getDay()) + 6) % 7;
    const wanted = Number(this.when.slice(1));
    // As Python: at the midnight that ends weekday N.
    return midnight + ((wanted - weekday + 7) % 7) * 86_400_000;
  }
}

/**
 * logging.handlers.MemoryHandler and Synapse's PeriodicallyFlushingMemoryHandler: records wait in memory
 * and go to the target together when `capacity` are waiting, when one is at `flushLevel` or above, every
 * `period` seconds (Synapse's), and at shutdown.
 */
class MemoryHandler implements LogHandler {
  readonly buffers = true;
  private buffer: LogRecord[] = [];
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    readonly level: number,
    private readonly plan: Extract<HandlerTarget, { kind: 'memory' }>,
    private readonly target: LogHandler | undefined,
  ) {
    if (plan.periodMs !== undefined) {
      this.timer = setInterval(() => this.flush(), plan.periodMs);
      this.timer.unref();
    }
  }

  handle(record: LogRecord): void {
    this.buffer.push(record);
    if (this.buffer.length >= this.plan.capacity || record.level >= this.plan.flushLevel) this.flush();
  }

  flush(): void {
    const records = this.buffer;
    this.buffer = [];
    if (!this.target) return;
    for (const record of records) if (record.level >= this.target.level) this.target.handle(record);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.flush();
  }
}
