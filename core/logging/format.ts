/**
 * Turning one pino record into a line as Python's logging.Formatter (%-style `format`, `datefmt`) or
 * Synapse's JsonFormatter / TerseJsonFormatter would write it.
 */
import type { FormatterPlan } from './log-config.js';

/** One record as pino serialised it (bindings and fields merged), with its logger's name. */
export interface LogRecord {
  readonly name: string;
  readonly level: number;
  readonly time: number;
  readonly fields: Readonly<Record<string, unknown>>;
}

/** Fields that name the logger or are printed elsewhere, so not repeated after the message. */
const CONSUMED = new Set([
  'level',
  'time',
  'msg',
  'err',
  'name',
  'module',
  'component',
  'plugin',
  'listener',
  'requestId',
  'pid',
  'hostname',
]);

export function levelName(level: number): string {
  if (level >= 60) return 'CRITICAL';
  if (level >= 50) return 'ERROR';
  if (level >= 40) return 'WARNING';
  if (level >= 30) return 'INFO';
  if (level >= 20) return 'DEBUG';
  return 'TRACE';
}

export function formatterFor(plan: FormatterPlan): (record: LogRecord) => string {
  if (plan.kind === 'json') return (record) => jsonLine(record, plan.withTime);
  const { format, datefmt } = plan;
  const pieces = compile(format);
  return (record) => {
    let line = '';
    for (const piece of pieces) line += typeof piece === 'string' ? piece : piece(record, datefmt);
    const stack = errorStack(record.fields['err']);
    return stack ? `${line}\n${stack}\n` : `${line}\n`;
  };
}

type Piece = string | ((record: LogRecord, datefmt: string | undefined) => string);

const SPEC = /%(?:\(([^)]*)\))?([#0\- +]*)(\d+)?(?:\.(\d+))?([diouxXeEfFgGcrsa%])/g;

/** A %-format string as literal text and field readers, compiled once per formatter. */
function compile(format: string): Piece[] {
  const pieces: Piece[] = [];
  let last = 0;
  for (const match of format.matchAll(SPEC)) {
    pieces.push(format.slice(last, match.index));
    last = match.index + match[0].length;
    const [, key, flags = '', width, precision, conversion] = match;
    if (conversion === '%') {
      pieces.push('%');
      continue;
    }
    const read = field(key ?? 'message');
    pieces.push((record, datefmt) => {
      let text = read(record, datefmt);
      if (precision !== undefined && /[fFeEgG]/.test(conversion ?? '')) {
        const n = Number(text);
        if (!Number.isNaN(n)) text = n.toFixed(Number(precision));
      } else if (precision !== undefined) text = text.slice(0, Number(precision));
      if (width !== undefined) {
        const w = Number(width);
        text = flags.includes('-') ? text.padEnd(w) : text.padStart(w, flags.includes('0') ? '0' : ' ');
      }
      return text;
    });
  }
  pieces.push(format.slice(last));
  return pieces.filter((p) => p !== '');
}

/** The LogRecord attributes Python's formats name, read from a pino record. */
function field(key: string): (record: LogRecord, datefmt: string | undefined) => string {
  switch (key) {
    case 'message':
      return (r) => message(r);
    case 'asctime':
      return (r, datefmt) => formatTime(new Date(r.time), datefmt);
    case 'created':
      return (r) => String(r.time / 1000);
    case 'msecs':
      return (r) => String(r.time % 1000);
    case 'relativeCreated':
      return (r) => String(Math.round(r.time - START));
    case 'name':
      return (r) => r.name;
    case 'levelname':
      return (r) => levelName(r.level);
    case 'levelno':
      return (r) => String(Math.max(0, r.level - 10));
    case 'request':
      return (r) => stringField(r.fields['requestId']) ?? '-';
    case 'process':
      return () => String(process.pid);
    case 'processName':
      return () => 'MainProcess';
    case 'thread':
      return () => '0';
    case 'threadName':
      return () => 'MainThread';
    case 'module':
    case 'filename':
    case 'pathname':
    case 'funcName':
      return (r) => r.name.split('.').at(-1) ?? r.name;
    case 'lineno':
      // Node.js gives no line numbers without a stack trace per record: too dear for every line.
      return () => '-';
    default:
      return (r) => stringField(r.fields[key]) ?? '';
  }
}

const START = Date.now();

function stringField(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** The message, then the record's other fields as key=value (what Python would put in the message). */
function message(record: LogRecord): string {
  let text = stringField(record.fields['msg']) ?? '';
  for (const [key, value] of Object.entries(record.fields)) {
    if (CONSUMED.has(key) || value === undefined) continue;
    text += ` ${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`;
  }
  const err = record.fields['err'] as { message?: unknown } | undefined;
  if (err && typeof err.message === 'string' && !text.includes(err.message)) text += `: ${err.message}`;
  return text;
}

function errorStack(err: unknown): string | undefined {
  const stack = (err as { stack?: unknown } | undefined)?.stack;
  return typeof stack === 'string' ? stack : undefined;
}

/** Synapse's JSON formatters: `log`, `namespace`, `level`, the request, every other field; Terse adds `time`. */
function jsonLine(record: LogRecord, withTime: boolean): string {
  const out: Record<string, unknown> = {
    log: stringField(record.fields['msg']) ?? '',
    namespace: record.name,
    level: levelName(record.level),
  };
  if (withTime) out['time'] = Math.round(record.time / 10) / 100;
  const requestId = record.fields['requestId'];
  if (requestId !== undefined) out['request'] = requestId;
  for (const [key, value] of Object.entries(record.fields)) {
    if (!CONSUMED.has(key) || key === 'err') out[key] ??= value;
  }
  return `${JSON.stringify(out)}\n`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const two = (n: number): string => String(n).padStart(2, '0');

/** Python's asctime: `2026-12-07 15:43:12,123` in local time, or `datefmt` through strftime's directives. */
export function formatTime(date: Date, datefmt: string | undefined): string {
  if (datefmt === undefined) {
    return `${strftime(date, '%Y-%m-%d %H:%M:%S')},${String(date.getMilliseconds()).padStart(3, '0')}`;
  }
  return strftime(date, datefmt);
}

export function strftime(date: Date, format: string): string {
  return format.replace(/%([a-zA-Z%])/g, (whole, d: string) => {
    switch (d) {
      case 'Y':
        return String(date.getFullYear());
      case 'y':
        return two(date.getFullYear() % 100);
      case 'm':
        return two(date.getMonth() + 1);
      case 'd':
        return two(date.getDate());
      case 'H':
        return two(date.getHours());
      case 'I':
        return two(date.getHours() % 12 || 12);
      case 'p':
        return date.getHours() < 12 ? 'AM' : 'PM';
      case 'M':
        return two(date.getMinutes());
      case 'S':
        return two(date.getSeconds());
      case 'f':
        return String(date.getMilliseconds() * 1000).padStart(6, '0');
      case 'b':
        return MONTHS[date.getMonth()] ?? '';
      case 'a':
        return DAYS[date.getDay()] ?? '';
      case 'j': {
        const start = new Date(date.getFullYear(), 0, 1);
        return String(Math.floor((date.getTime() - start.getTime()) / 86_400_000) + 1).padStart(3, '0');
      }
      case 'z': {
        const offset = -date.getTimezoneOffset();
        const abs = Math.abs(offset);
        return `${offset >= 0 ? '+' : '-'}${two(Math.floor(abs / 60))}${two(abs % 60)}`;
      }
      case '%':
        return '%';
      default:
        return whole;
    }
  });
}
