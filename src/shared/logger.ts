/**
 * The application's logger. Libraries under src/ emit events; the CLI and the worker
 * log them through this one pino instance, so redaction is decided in one place.
 */
import {
  pino,
  destination as pinoDestination,
  stdSerializers,
  type DestinationStream,
  type Logger as PinoLogger,
  type LoggerOptions as PinoOptions,
} from 'pino';
import { redactUrlsIn, scrubError } from './redact.js';

/** One logging method, the way pino's are called: `(fields, message)` or `(message)`. */
export interface LogMethod {
  (fields: object, message?: string): void;
  (message: string): void;
}

/**
 * What the tool needs of a logger: pino's methods. A pino logger fits, and so does any object
 * with these methods (a library user's own logger, or {@link silentLogger}).
 */
export interface Logger {
  error: LogMethod;
  warn: LogMethod;
  info: LogMethod;
  debug: LogMethod;
  /** A logger that adds `bindings` to every line. */
  child(bindings: Record<string, unknown>): Logger;
}

/** A logger that writes nothing: the library's default. */
export const silentLogger: Logger = {
  error: () => undefined,
  warn: () => undefined,
  info: () => undefined,
  debug: () => undefined,
  child: () => silentLogger,
};

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
export function createLogger(options: LoggerOptions = {}): PinoLogger {
  const base: PinoOptions = {
    level: options.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    serializers: { err: serializeError, error: serializeError, cause: serializeError },
    formatters: { log: redactLogObject },
    hooks: {
      // The message itself: `cannot reach Redis at redis://:…@host` must not carry the password.
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactUrlsIn(arg) : arg)) as typeof args);
      },
    },
  };
  const pretty = options.pretty ?? (options.destination === undefined && process.stderr.isTTY === true);
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: { destination: 2, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  // Written synchronously, as Node writes its own stderr to files and pipes on Linux: pino's default
  // destination hands every line to libuv's thread pool, a round trip (and a thread's wake-up) per
  // line that cost a worker more CPU than the write itself (BENCHMARKS.md, "the session of
  // 2026-12-04 19:17 UTC"), and a line still waiting there is lost when the process dies.
  return pino(base, (options.destination as DestinationStream | undefined) ?? pinoDestination({ dest: 2, sync: true }));
}

/**
 * pino's error serializer, on an error stripped of what it must not show: a Redis error's
 * command arguments (an AUTH password, a token being stored) and the password of any URL in
 * its message or stack.
 */
function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const serialized = stdSerializers.err(scrubError(error));
  serialized.message = redactUrlsIn(serialized.message);
  serialized.stack = redactUrlsIn(serialized.stack);
  return serialized;
}

/** How deep {@link redactLogObject} looks for errors and URLs a log line carries under other names. */
const MAX_DEPTH = 4;

/**
 * Errors a log line carries anywhere (`{ outcome: { error } }`) are scrubbed in place, and
 * strings holding a URL get its password redacted (copying only what changes).
 */
function redactLogObject(object: Record<string, unknown>): Record<string, unknown> {
  return redactValue(object, 0) as Record<string, unknown>;
}

function redactValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return redactUrlsIn(value);
  if (value instanceof Error) return scrubError(value);
  if (!value || typeof value !== 'object' || depth >= MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    const items = value.map((item) => redactValue(item, depth + 1));
    return items.some((item, i) => item !== value[i]) ? items : value;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const redacted = redactValue(item, depth + 1);
    if (redacted !== item) (copy ??= { ...value })[key] = redacted;
  }
  return copy ?? value;
}
