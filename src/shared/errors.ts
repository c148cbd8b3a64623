/**
 * The base of every error the upload path can raise. Callers branch on `code` and
 * `classification`, never on message text. Messages start with `[CODE]` because
 * BullMQ keeps only a failed job's message.
 */

/** What the caller should do about a failure. */
export type ErrorClassification =
  /** 5xx, network faults, timeouts: retry with backoff. */
  | 'transient'
  /** 429 TOO_MANY_REQUESTS: slow every worker down and retry without spending an attempt. */
  | 'rate_limited'
  /** 401 INVALID_TOKEN: refresh the shared token once, then retry. */
  | 'token_expired'
  /** Fails every job the same way (bad credentials, missing scope): pause and tell the operator. */
  | 'systemic'
  /** This row can never succeed as it is: dead-letter it with the reason. */
  | 'permanent';

/** What every classified error carries besides its code and classification. */
export interface ClassifiedErrorInit {
  code: string;
  classification: ErrorClassification;
  /** Human-readable text; never contains a token or secret. */
  message: string;
  /**
   * True when the far side may have acted although the call failed (a timeout or reset
   * after the body was sent, a 5xx): the next attempt must look before posting again.
   */
  ambiguous?: boolean;
  cause?: unknown;
}

/**
 * The base of every error the tool throws on purpose: a stable `code` (listed in
 * `shared/error-codes.ts`) to branch on, a message that starts with `[CODE]`, and a `cause`.
 */
export class ZohoAttachError extends Error {
  override name = 'ZohoAttachError';
  readonly code: string;
  /** The message without the `[CODE]` prefix. */
  readonly reason: string;

  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(`[${code}] ${message}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.reason = message;
  }
}

/** An error with a stable code and a classification that says what to do about it. */
export class ClassifiedError extends ZohoAttachError {
  override name = 'ClassifiedError';
  readonly classification: ErrorClassification;
  readonly ambiguous: boolean;

  constructor(init: ClassifiedErrorInit) {
    super(init.code, init.message, { cause: init.cause });
    this.classification = init.classification;
    this.ambiguous = init.ambiguous ?? false;
  }

  /** A plain object for ledgers, reports and logs (no cause chain, no secrets). */
  toJSON(): Record<string, unknown> {
    return { code: this.code, classification: this.classification, message: this.reason, ambiguous: this.ambiguous };
  }
}

/** True when `error` carries a code and a classification. */
export function isClassifiedError(error: unknown): error is ClassifiedError {
  return error instanceof ClassifiedError;
}
