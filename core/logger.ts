import { pino, type Logger, type DestinationStream } from 'pino';

/** The root logger: JSON lines (pino). Modules and plugins get children named after them. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    { level, base: undefined, redact: ['access_token', 'password', '*.password', '*.access_token'] },
    destination,
  );
}
