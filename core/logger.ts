import { pino, type Logger, type DestinationStream } from 'pino';
import { REDACT } from './logging/log-router.js';

/** The root logger without a `log_config`: JSON lines (pino). Modules and plugins get children named after them. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino({ level, base: undefined, redact: REDACT }, destination);
}
