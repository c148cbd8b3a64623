/**
 * Redaction, decided in one place: every URL the tool prints loses its password, and every
 * Redis error loses the arguments of the command that failed. The logger, the Redis
 * connections, the CLI's error output, `doctor`, `status` and the dashboard all go through here.
 */

/** What stands in for a removed secret. */
export const REDACTED = '***';

/**
 * Query parameters that carry a credential. ioredis reads `password` (and `sentinelPassword`)
 * from a Redis URL's query as readily as from its userinfo.
 */
const SECRET_PARAMETER = /pass|secret|token|auth|key/i;

/**
 * A URL inside free text: a scheme, `://`, and everything up to white space or a quote, less
 * the punctuation that ends a sentence (`… at redis://host:6379: refused`).
 */
const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]*[^\s"'<>`.,;:!?)\]]/gi;

/** Userinfo with a password, for text `new URL` cannot parse: `//user:password@`. */
const USERINFO_PASSWORD = /(\/\/[^/?#@\s:]*):[^/?#@\s]*@/g;

/** A secret query parameter, for text `new URL` cannot parse: `password=…`. */
const SECRET_PARAMETER_IN_TEXT = /([?&;][^=&#\s]*(?:pass|secret|token|auth|key)[^=&#\s]*=)[^&#\s]*/gi;

/**
 * The URL with the password of its userinfo and every credential-bearing query parameter
 * (`password`, `sentinelPassword`, `token`, …) replaced by `***`, for messages and logs.
 * A URL with nothing to hide comes back unchanged, byte for byte.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url.replace(USERINFO_PASSWORD, `$1:${REDACTED}@`).replace(SECRET_PARAMETER_IN_TEXT, `$1${REDACTED}`);
  }
  let changed = false;
  if (parsed.password) {
    parsed.password = REDACTED;
    changed = true;
  }
  for (const name of new Set(parsed.searchParams.keys())) {
    if (SECRET_PARAMETER.test(name)) {
      parsed.searchParams.set(name, REDACTED);
      changed = true;
    }
  }
  return changed ? parsed.toString() : url;
}

/** `text` with every URL in it passed through {@link redactUrl}. */
export function redactUrlsIn(text: string): string {
  return text.includes('://') ? text.replace(URL_IN_TEXT, redactUrl) : text;
}

/** The parts of an ioredis error that hold other errors (ioredis and BullMQ nest them). */
const NESTED_ERROR_KEYS = ['cause', 'errors', 'previousErrors', 'lastNodeError'] as const;

/**
 * Removes what a Redis error must not carry, in place, from the error and every error nested in
 * it: ioredis attaches `command: { name, args }` to a failed command's error, and the arguments
 * are the password of an `AUTH`, the token of a `SET`, the job data of an `EVALSHA`. The command's
 * name stays (it says what failed). Safe on any value, and idempotent.
 * @returns the same value
 */
export function scrubError<T>(error: T): T {
  scrub(error, new Set());
  return error;
}

function scrub(value: unknown, seen: Set<object>): void {
  if (!value || typeof value !== 'object' || seen.has(value)) return;
  seen.add(value);
  if (Array.isArray(value)) {
    for (const item of value) scrub(item, seen);
    return;
  }
  const record = value as Record<string, unknown>;
  const command = record.command;
  if (command && typeof command === 'object' && 'args' in command) {
    const name = (command as { name?: unknown }).name;
    // A fresh object: ioredis shares `args` with the command itself.
    record.command = { name };
  }
  for (const key of NESTED_ERROR_KEYS) scrub(record[key], seen);
  for (const nested of Object.values(record)) if (nested instanceof Error) scrub(nested, seen);
}

/**
 * An error's message as it may be shown: Redis errors scrubbed, URLs redacted. For the CLI's
 * last line, doctor's details and anything else that prints an error it did not build itself.
 */
export function safeErrorMessage(error: unknown): string {
  scrubError(error);
  return redactUrlsIn(error instanceof Error ? error.message : String(error));
}
