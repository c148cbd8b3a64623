/**
 * Every way a Zoho call can fail, as one error class with a stable `code` and a
 * `classification`. This file is the one place that decides which Zoho answers are
 * transient, rate limits, token expiry, systemic or permanent; the upload
 * processor branches on `classification`, never on message text.
 */
import { ClassifiedError, type ClassifiedErrorInit, type ErrorClassification } from '../shared/errors.js';

export type { ErrorClassification } from '../shared/errors.js';

/** Codes we give to failures Zoho did not name itself. Zoho's own codes are used as they are. */
export const LocalErrorCode = {
  /** The connection failed or was reset. */
  NETWORK_ERROR: 'NETWORK_ERROR',
  /** No complete answer within the request timeout. */
  TIMEOUT: 'TIMEOUT',
  /** A 5xx answer without a Zoho error envelope. */
  HTTP_SERVER_ERROR: 'HTTP_SERVER_ERROR',
  /** A 4xx answer without a Zoho error envelope. */
  HTTP_CLIENT_ERROR: 'HTTP_CLIENT_ERROR',
  /** A 2xx answer we could not read (not JSON, no attachment id). */
  UNEXPECTED_RESPONSE: 'UNEXPECTED_RESPONSE',
  /** The refresh token is revoked or invalid (`{"error":"invalid_code"}`). */
  REFRESH_INVALID_CODE: 'REFRESH_INVALID_CODE',
  /** Wrong client id/secret, or the wrong data centre (`{"error":"invalid_client"}`). */
  REFRESH_INVALID_CLIENT: 'REFRESH_INVALID_CLIENT',
  /** Zoho's 10-refreshes-per-10-minutes throttle (`{"error":"Access Denied"}`). */
  REFRESH_THROTTLED: 'REFRESH_THROTTLED',
  /** Any other refresh failure. */
  REFRESH_FAILED: 'REFRESH_FAILED',
  /** No credentials configured to obtain a token. */
  NO_CREDENTIALS: 'NO_CREDENTIALS',
  /** Another process held the refresh lock and no fresh token appeared in time. */
  TOKEN_WAIT_TIMEOUT: 'TOKEN_WAIT_TIMEOUT',
  /** The fixed `ZOHO_ACCESS_TOKEN` was rejected; it cannot be refreshed. */
  ACCESS_TOKEN_REJECTED: 'ACCESS_TOKEN_REJECTED',
  /** The file yielded a different number of bytes than its size: it changed while uploading. */
  BODY_SIZE_MISMATCH: 'BODY_SIZE_MISMATCH',
  /** The caller aborted the call (its `AbortSignal` fired). */
  ABORTED: 'ABORTED',
  /**
   * A value that cannot be sent as given: a module or id that cannot be put in a URL path safely
   * (empty, `.` or `..`), or a COQL name or value that could change what the query says.
   */
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
} as const;

/** Zoho's codes that always mean "this configuration cannot work": pause, do not dead-letter. */
const SYSTEMIC_ZOHO_CODES = new Set(['AUTHENTICATION_FAILURE', 'OAUTH_SCOPE_MISMATCH']);

/** Everything known about one failed Zoho call. */
export interface ZohoErrorInit extends ClassifiedErrorInit {
  /** HTTP status, when an answer arrived. */
  httpStatus?: number;
  /** Zoho's `code` from the error envelope, when there was one. */
  zohoCode?: string;
  /** Zoho's `details` object, when there was one. */
  details?: Record<string, unknown>;
  /** `X-API-CREDITS-REMAINING`, when Zoho sent it. */
  creditsRemaining?: number;
}

/**
 * A failed Zoho call. `code` is Zoho's own code (`INVALID_DATA`, `TOO_MANY_REQUESTS`, …)
 * or one of {@link LocalErrorCode}.
 */
export class ZohoError extends ClassifiedError {
  override readonly name = 'ZohoError';
  readonly httpStatus: number | undefined;
  readonly zohoCode: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly creditsRemaining: number | undefined;

  constructor(init: ZohoErrorInit) {
    super(init);
    this.httpStatus = init.httpStatus;
    this.zohoCode = init.zohoCode;
    this.details = init.details;
    this.creditsRemaining = init.creditsRemaining;
  }

  override toJSON(): Record<string, unknown> {
    return {
      ...super.toJSON(),
      httpStatus: this.httpStatus,
      zohoCode: this.zohoCode,
      details: this.details,
      creditsRemaining: this.creditsRemaining,
    };
  }
}

/** Zoho's error envelope: at the top level, or as `data[0]` (the SDK accepts both). */
interface ZohoEnvelope {
  code?: unknown;
  message?: unknown;
  details?: unknown;
  status?: unknown;
}

/** Pulls Zoho's error envelope out of a parsed body, wherever Zoho put it. */
export function findErrorEnvelope(body: unknown): ZohoEnvelope | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const top = body as ZohoEnvelope & { data?: unknown };
  if (typeof top.code === 'string') return top;
  if (Array.isArray(top.data) && top.data[0] && typeof top.data[0] === 'object') {
    const first = top.data[0] as ZohoEnvelope;
    if (typeof first.code === 'string' && first.status === 'error') return first;
  }
  return undefined;
}

/**
 * Error codes of failed connection attempts. Without a body byte handed over they mean "no
 * connection existed, nothing left this machine"; a code alone cannot say more, since an
 * unreachable host can also be reported in the middle of a transfer.
 */
const CONNECT_PHASE_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** undici's timeouts, and `AbortSignal.timeout()`'s. */
const TIMEOUT_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT']);

/** How far a failed call got; see {@link callPhase}. */
export const CALL_PHASES = ['before-connect', 'connected', 'body-started', 'answered'] as const;

/** One of {@link CALL_PHASES}. */
export type CallPhase = (typeof CALL_PHASES)[number];

/**
 * Failures without a (complete) answer: `unreachable` (a connect-phase code: refused,
 * unreachable host or network, DNS), `timeout` (connect, headers or body timeout,
 * `AbortSignal.timeout()`), `aborted` (the caller's signal), `reset` (any other network error).
 */
export const NETWORK_FAILURES = ['unreachable', 'reset', 'timeout', 'aborted'] as const;

/** One of {@link NETWORK_FAILURES}. */
export type NetworkFailure = (typeof NETWORK_FAILURES)[number];

/**
 * What was wrong with an answer: `auth-refused` is a 401 other than `INVALID_TOKEN`, or Zoho's
 * `AUTHENTICATION_FAILURE` / `OAUTH_SCOPE_MISMATCH` at any status below 500; `4xx` is any other
 * refusal: a non-2xx answer below 500, or an error row in a 2xx answer.
 */
export const ANSWER_FAILURES = ['5xx', '2xx-unreadable', '429', '401-invalid-token', 'auth-refused', '4xx'] as const;

/** One of {@link ANSWER_FAILURES}. */
export type AnswerFailure = (typeof ANSWER_FAILURES)[number];

/** What a failure means: one cell of {@link FAILURE_TABLE}. */
export interface FailureVerdict {
  classification: ErrorClassification;
  /**
   * Zoho may have acted on the call: for a call that changes Zoho's data (an upload, a delete)
   * the failure is ambiguous, and the next attempt lists the record before it posts again.
   * Reads are never ambiguous.
   */
  ambiguous: boolean;
  /** The error's code when Zoho named none. */
  code: string;
}

/** Network failures can happen in every phase; answers' failures only once answered. */
type FailureTable = {
  readonly [P in CallPhase]: Readonly<
    Record<P extends 'answered' ? NetworkFailure | AnswerFailure : NetworkFailure, FailureVerdict>
  >;
};

const notStored = (code: string): FailureVerdict => ({ classification: 'transient', ambiguous: false, code });
const mayBeStored = (code: string): FailureVerdict => ({ classification: 'transient', ambiguous: true, code });

/**
 * The one table of what a failed Zoho call means: phase × failure → classification and
 * ambiguity. {@link errorFromNetwork}, {@link errorFromResponse} and {@link unexpectedResponse}
 * read it; RELIABILITY.md ("How a failed call is classified") shows it row for row. The rule:
 * before the first request-body byte was handed over, nothing can be stored; after it, every
 * failure is ambiguous, whatever its code.
 */
export const FAILURE_TABLE: FailureTable = {
  'before-connect': {
    unreachable: notStored(LocalErrorCode.NETWORK_ERROR),
    reset: notStored(LocalErrorCode.NETWORK_ERROR),
    timeout: notStored(LocalErrorCode.TIMEOUT),
    aborted: notStored(LocalErrorCode.ABORTED),
  },
  connected: {
    unreachable: notStored(LocalErrorCode.NETWORK_ERROR),
    reset: notStored(LocalErrorCode.NETWORK_ERROR),
    timeout: notStored(LocalErrorCode.TIMEOUT),
    aborted: notStored(LocalErrorCode.ABORTED),
  },
  'body-started': {
    unreachable: mayBeStored(LocalErrorCode.NETWORK_ERROR),
    reset: mayBeStored(LocalErrorCode.NETWORK_ERROR),
    timeout: mayBeStored(LocalErrorCode.TIMEOUT),
    aborted: mayBeStored(LocalErrorCode.ABORTED),
  },
  answered: {
    // The answer could not be read to its end: it may well have been a success.
    unreachable: mayBeStored(LocalErrorCode.NETWORK_ERROR),
    reset: mayBeStored(LocalErrorCode.NETWORK_ERROR),
    timeout: mayBeStored(LocalErrorCode.TIMEOUT),
    aborted: mayBeStored(LocalErrorCode.ABORTED),
    // Zoho can fail after it stored the file, so a 5xx never proves nothing was saved.
    '5xx': mayBeStored(LocalErrorCode.HTTP_SERVER_ERROR),
    '2xx-unreadable': mayBeStored(LocalErrorCode.UNEXPECTED_RESPONSE),
    '429': { classification: 'rate_limited', ambiguous: false, code: 'TOO_MANY_REQUESTS' },
    '401-invalid-token': { classification: 'token_expired', ambiguous: false, code: 'INVALID_TOKEN' },
    // A 401 we cannot name is still an authentication problem that no retry fixes.
    'auth-refused': { classification: 'systemic', ambiguous: false, code: 'AUTHENTICATION_FAILURE' },
    '4xx': { classification: 'permanent', ambiguous: false, code: LocalErrorCode.HTTP_CLIENT_ERROR },
  },
};

/** Every row of {@link FAILURE_TABLE}, in order: for tests and documentation. */
export function failureTableRows(): Array<
  { phase: CallPhase; failure: NetworkFailure | AnswerFailure } & FailureVerdict
> {
  return CALL_PHASES.flatMap((phase) => {
    const cells: Readonly<Partial<Record<NetworkFailure | AnswerFailure, FailureVerdict>>> = FAILURE_TABLE[phase];
    // In the order of the kinds' lists, not Object.entries' (which would put '429' first).
    return [...NETWORK_FAILURES, ...ANSWER_FAILURES].flatMap((failure) => {
      const verdict = cells[failure];
      return verdict ? [{ phase, failure, ...verdict }] : [];
    });
  });
}

/**
 * How far a call got before it failed without a complete answer. `answered`: the status line
 * arrived (the answer's body was being read). Otherwise the client says whether the request
 * was handed to undici (`dispatched`), whether it has a body, and whether the body's first
 * byte was handed over (`bodyStarted`).
 */
export type CallProgress =
  { answered: true } | { answered: false; dispatched: boolean; hasBody: boolean; bodyStarted: boolean };

/** What a call that does not say how far it got is taken to have done: everything short of an answer. */
const UNKNOWN_PROGRESS: CallProgress = { answered: false, dispatched: true, hasBody: false, bodyStarted: true };

/**
 * The phase of a failure with error code `code`:
 * - `answered` once the status line arrived;
 * - `body-started` once the first body byte was handed over, whatever the code;
 * - `before-connect` when the call never reached undici, or failed with a connect-phase code;
 * - `connected` for any other failure of a call with a body;
 * - `body-started` for any other failure of a call without one (a delete): its request is complete with its headers.
 */
export function callPhase(code: string | undefined, progress: CallProgress): CallPhase {
  if (progress.answered) return 'answered';
  if (progress.bodyStarted) return 'body-started';
  if (!progress.dispatched || (code !== undefined && CONNECT_PHASE_CODES.has(code))) return 'before-connect';
  return progress.hasBody ? 'connected' : 'body-started';
}

/** Which {@link NetworkFailure} an error thrown by undici (or the body stream) is. */
export function networkFailure(error: unknown): NetworkFailure {
  const code = errorCode(error);
  const name = error instanceof Error ? error.name : undefined;
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED') return 'aborted';
  if ((code !== undefined && TIMEOUT_CODES.has(code)) || name === 'TimeoutError') return 'timeout';
  if (code !== undefined && CONNECT_PHASE_CODES.has(code)) return 'unreachable';
  return 'reset';
}

/** Which {@link AnswerFailure} a non-2xx answer is. */
export function answerFailure(status: number, zohoCode: string | undefined): AnswerFailure {
  if (status === 429) return '429';
  if (status >= 500) return '5xx';
  if (status === 401 && zohoCode === 'INVALID_TOKEN') return '401-invalid-token';
  if (status === 401 || (zohoCode !== undefined && SYSTEMIC_ZOHO_CODES.has(zohoCode))) return 'auth-refused';
  return '4xx';
}

/**
 * Classifies a non-2xx HTTP answer from the Zoho API (not the accounts server), per {@link FAILURE_TABLE}.
 * @param status HTTP status
 * @param body the parsed JSON body, or undefined when it was not JSON
 * @param creditsRemaining `X-API-CREDITS-REMAINING`, when present
 * @param context.mutating true for calls that change Zoho's data; @defaultValue `true`
 */
export function errorFromResponse(
  status: number,
  body: unknown,
  creditsRemaining?: number,
  context: { mutating?: boolean } = {},
): ZohoError {
  const envelope = findErrorEnvelope(body);
  const zohoCode = typeof envelope?.code === 'string' ? envelope.code : undefined;
  const message =
    typeof envelope?.message === 'string' && envelope.message.length > 0 ? envelope.message : `HTTP ${status}`;
  const details =
    envelope?.details && typeof envelope.details === 'object'
      ? (envelope.details as Record<string, unknown>)
      : undefined;
  const verdict = FAILURE_TABLE.answered[answerFailure(status, zohoCode)];
  return new ZohoError({
    httpStatus: status,
    zohoCode,
    details,
    creditsRemaining,
    message,
    code: zohoCode ?? verdict.code,
    classification: verdict.classification,
    ambiguous: (context.mutating ?? true) && verdict.ambiguous,
  });
}

/** True when `error` is a {@link ZohoError}. */
export function isZohoError(error: unknown): error is ZohoError {
  return error instanceof ZohoError;
}

/**
 * Classifies a call that got no (complete) answer: a refused, reset or timed-out
 * connection, or the caller's abort, per {@link FAILURE_TABLE}.
 * @param error what undici (or the body stream) threw; a {@link ZohoError} is returned as it is
 * @param context.mutating true for calls that change Zoho's data (upload, delete)
 * @param context.progress how far the call got; unknown counts as everything short of an answer
 */
export function errorFromNetwork(error: unknown, context: { mutating: boolean; progress?: CallProgress }): ZohoError {
  if (error instanceof ZohoError) return error;
  const code = errorCode(error);
  const failure = networkFailure(error);
  const verdict = FAILURE_TABLE[callPhase(code, context.progress ?? UNKNOWN_PROGRESS)][failure];
  const detail = error instanceof Error ? error.message : String(error);
  const name = error instanceof Error ? error.name : undefined;
  const message =
    failure === 'aborted'
      ? `call aborted: ${detail}`
      : failure === 'timeout'
        ? `no answer in time (${code ?? name})`
        : `${code ?? 'network failure'}: ${detail}`;
  return new ZohoError({
    code: verdict.code,
    classification: verdict.classification,
    ambiguous: context.mutating && verdict.ambiguous,
    message,
    cause: error,
  });
}

function errorCode(error: unknown): string | undefined {
  if (error && typeof error === 'object' && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}

/**
 * The `error` codes Zoho's accounts server (and OAuth 2.0, RFC 6749 §5.2) answers a refresh with.
 * Only these are ever shown: anything else in an answer may be the request repeated back (a
 * proxy, a wrong ZOHO_ACCOUNTS_URL, an echoing server) with the client secret and refresh token in it.
 */
const KNOWN_REFRESH_ERRORS = new Set([
  'invalid_code',
  'invalid_client',
  'invalid_client_secret',
  'invalid_redirect_uri',
  'invalid_request',
  'invalid_grant',
  'invalid_scope',
  'unauthorized_client',
  'unsupported_grant_type',
  'access_denied',
  'Access Denied',
]);

/**
 * Classifies a token refresh answer that carried no access token. Zoho's accounts server
 * reports most failures with HTTP 200 and an `error` field, so the status alone says little.
 * Nothing of the answer is copied into the error but a known code (see KNOWN_REFRESH_ERRORS):
 * not its text, not `error_description`, not an `error` field that is not Zoho's.
 * @param status HTTP status of the accounts server's answer
 * @param body the parsed JSON body, or undefined when it was not JSON
 */
export function errorFromRefresh(status: number, body: unknown): ZohoError {
  const fields = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const named = typeof fields.error === 'string' ? fields.error : undefined;
  const zohoCode = named !== undefined && KNOWN_REFRESH_ERRORS.has(named) ? named : undefined;
  const base = { httpStatus: status, zohoCode, details: zohoCode === undefined ? undefined : { error: zohoCode } };

  if (zohoCode === 'invalid_code') {
    return new ZohoError({
      ...base,
      code: LocalErrorCode.REFRESH_INVALID_CODE,
      classification: 'systemic',
      message: 'the refresh token is revoked or invalid (invalid_code)',
    });
  }
  if (zohoCode === 'invalid_client') {
    return new ZohoError({
      ...base,
      code: LocalErrorCode.REFRESH_INVALID_CLIENT,
      classification: 'systemic',
      message: 'the client id or secret is wrong, or this is the wrong data centre (invalid_client)',
    });
  }
  if (zohoCode === 'Access Denied' || status === 429) {
    // Zoho's 10-refreshes-per-10-minutes throttle clears by itself, and every job would
    // hit it alike: "slow every worker down, spend no attempt" (rate_limited) fits; a
    // systemic pause would wait for an operator for no reason, a transient retry would
    // burn attempts and keep the throttle window busy.
    return new ZohoError({
      ...base,
      code: LocalErrorCode.REFRESH_THROTTLED,
      classification: 'rate_limited',
      message: 'too many token refreshes (Access Denied): Zoho allows 10 per refresh token per 10 minutes',
    });
  }
  if (status >= 500 || named === undefined) {
    // No Zoho verdict (a 5xx, an HTML error page): the accounts server may well answer next time.
    return new ZohoError({
      ...base,
      code: LocalErrorCode.REFRESH_FAILED,
      classification: 'transient',
      message: `token refresh failed with HTTP ${status} and no access token (the answer is not shown)`,
    });
  }
  if (zohoCode === undefined) {
    // An `error` that is not Zoho's (perhaps the request repeated back): a configuration answer every job would get.
    return new ZohoError({
      ...base,
      code: LocalErrorCode.REFRESH_FAILED,
      classification: 'systemic',
      message: `token refresh refused with an error that is not one of Zoho's (not shown): check ZOHO_ACCOUNTS_URL and ZOHO_DC`,
    });
  }
  // Any other named refusal (invalid_redirect_uri, …) is a configuration answer every job would get.
  return new ZohoError({
    ...base,
    code: LocalErrorCode.REFRESH_FAILED,
    classification: 'systemic',
    message: `token refresh refused: ${zohoCode}`,
  });
}

/**
 * A 2xx answer we could not read. After an upload, Zoho answered success: it may well have
 * stored the file, so the failure is ambiguous and the next attempt must look first.
 */
export function unexpectedResponse(
  message: string,
  context: { httpStatus: number; mutating: boolean; cause?: unknown },
): ZohoError {
  const verdict = FAILURE_TABLE.answered['2xx-unreadable'];
  return new ZohoError({
    code: verdict.code,
    classification: verdict.classification,
    ambiguous: context.mutating && verdict.ambiguous,
    httpStatus: context.httpStatus,
    message,
    cause: context.cause,
  });
}

/**
 * The source yielded more or fewer bytes than the size it announced. The request is
 * aborted before the multipart trailer, so Zoho cannot have stored a truncated or
 * padded file: transient (read it again), never ambiguous.
 */
export function bodySizeMismatch(expected: number, actual: number, complete: boolean): ZohoError {
  const got = complete ? `${actual}` : `more than ${expected} (${actual} so far)`;
  return new ZohoError({
    code: LocalErrorCode.BODY_SIZE_MISMATCH,
    classification: 'transient',
    message: `the file changed while uploading: expected ${expected} bytes, read ${got}`,
  });
}

/** No way to obtain a token: neither refresh credentials nor a fixed access token is configured. */
export function noCredentials(): ZohoError {
  return new ZohoError({
    code: LocalErrorCode.NO_CREDENTIALS,
    classification: 'systemic',
    message: 'no Zoho credentials: set ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN, or ZOHO_ACCESS_TOKEN',
  });
}

/** The fixed access token was rejected by Zoho; without refresh credentials nothing can renew it. */
export function accessTokenRejected(): ZohoError {
  return new ZohoError({
    code: LocalErrorCode.ACCESS_TOKEN_REJECTED,
    classification: 'systemic',
    message:
      'Zoho rejected ZOHO_ACCESS_TOKEN (expired or revoked); it cannot be refreshed: set a new one, or configure refresh credentials',
  });
}

/** Waited for another process's refresh longer than allowed; it may have crashed mid-refresh. */
export function tokenWaitTimeout(waitedMs: number): ZohoError {
  return new ZohoError({
    code: LocalErrorCode.TOKEN_WAIT_TIMEOUT,
    classification: 'transient',
    message: `no fresh access token appeared within ${waitedMs} ms while another process held the refresh lock`,
  });
}

/** A value that cannot be sent as given (it would change the meaning of the URL). */
export function invalidArgument(message: string): ZohoError {
  return new ZohoError({ code: LocalErrorCode.INVALID_ARGUMENT, classification: 'permanent', message });
}
