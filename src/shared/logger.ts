/**
 * The application's logger. Libraries under src/ emit events; the CLI and the worker
 * log them through this one pino instance, so redaction is decided in one place.
 */
import { pino, destination as pinoDestination, type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/** Paths pino blanks out wherever they appear in a log object. */
const REDACTED_PATHS = [
  'authorization',
  'headers.authorization',
  '*.authorization',
  // A request logged whole (`{ req }`) carries the dashboard's Basic credentials and session cookie.
  '*.headers.authorization',
  'headers.cookie',
  '*.headers.cookie',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'refreshToken',
  '*.refreshToken',
  'refresh_token',
  '*.refresh_token',
  'clientSecret',
  '*.clientSecret',
  'client_secret',
  '*.client_secret',
  'password',
  '*.password',
];

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level name. @defaultValue 'info' */
  level?: string;
  /** Human-readable output (pino-pretty) instead of JSON lines. @defaultValue true when stderr is a terminal */
  pretty?: boolean;
  /** Where JSON lines go. @defaultValue stderr (stdout stays free for command output) */
  destination?: NodeJS.WritableStream;
}

/** Creates the root logger: JSON lines with secrets redacted, readable on a terminal. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? 'info';
  const redact = { paths: REDACTED_PATHS, censor: '[redacted]' };
  const pretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true);
  if (pretty) {
    return pino({
      level,
      redact,
      transport: { target: 'pino-pretty', options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } },
    });
  }
  return pino({ level, redact }, (options.destination as DestinationStream | undefined) ?? pinoDestination(2));
}
