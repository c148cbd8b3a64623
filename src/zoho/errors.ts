/**
 * Every way a Zoho call can fail, as one error class with a stable `code` and a
 * `classification`. This file is the one place that decides which Zoho answers are
 * transient, rate limits, token expiry, systemic or permanent; the upload
 * processor branches on `classification`, never on message text.
 */
import { ClassifiedError, type ClassifiedErrorInit } from '../shared/errors.js';

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
  /** A module or id that cannot be put in a URL path safely (empty, `.` or `..`). */
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
 * Classifies a non-2xx HTTP answer from the Zoho API (not the accounts server).
 * @param status HTTP status
 * @param body the parsed JSON body, or undefined when it was not JSON
 * @param creditsRemaining `X-API-CREDITS-REMAINING`, when present
 */
export function errorFromResponse(status: number, body: unknown, creditsRemaining?: number): ZohoError {
  const envelope = findErrorEnvelope(body);
  const zohoCode = typeof envelope?.code === 'string' ? envelope.code : undefined;
  const message =
    typeof envelope?.message === 'string' && envelope.message.length > 0 ? envelope.message : `HTTP ${status}`;
  const details =
    envelope?.details && typeof envelope.details === 'object' ? (envelope.details as Record<string, unknown>) : undefined;
  const base = { httpStatus: status, zohoCode, details, creditsRemaining, message };

  if (status === 429) {
    return new ZohoError({ ...base, code: zohoCode ?? 'TOO_MANY_REQUESTS', classification: 'rate_limited' });
  }
  if (status >= 500) {
    // Zoho can fail after it stored the file, so a 5xx never proves nothing was saved.
    return new ZohoError({
      ...base,
      code: zohoCode ?? LocalErrorCode.HTTP_SERVER_ERROR,
      classification: 'transient',
      ambiguous: true,
    });
  }
  if (status === 401 && zohoCode === 'INVALID_TOKEN') {
    return new ZohoError({ ...base, code: zohoCode, classification: 'token_expired' });
  }
  if (zohoCode && SYSTEMIC_ZOHO_CODES.has(zohoCode)) {
    return new ZohoError({ ...base, code: zohoCode, classification: 'systemic' });
  }
  if (status === 401) {
    // A 401 we cannot name is still an authentication problem that no retry fixes.
    return new ZohoError({ ...base, code: zohoCode ?? 'AUTHENTICATION_FAILURE', classification: 'systemic' });
  }
  return new ZohoError({ ...base, code: zohoCode ?? LocalErrorCode.HTTP_CLIENT_ERROR, classification: 'permanent' });
}

/** True when `error` is a {@link ZohoError}. */
export function isZohoError(error: unknown): error is ZohoError {
  return error instanceof ZohoError;
}

/**
 * Error codes of connection attempts: the connection never existed, so no request byte can
 * have left this machine — unless the body had already started, which a code alone cannot
 * tell (an unreachable host can also be reported in the middle of a transfer).
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

/**
 * How far a call got before it failed without a complete answer:
 * - `connecting`: the connection failed (a connect-phase code) before any body byte was handed over;
 * - `before-body`: connected, but not one byte of the request body was handed over (a call with a body);
 * - `sent`: the first body byte was handed over, or the call has no body and was past connecting.
 */
export type CallPhase = 'connecting' | 'before-body' | 'sent';

/**
 * The one table of what a failed call means, by phase: may Zoho have acted on it? A call that
 * changes Zoho's data (an upload, a delete) that may have been acted on is **ambiguous**: the
 * next attempt lists the record before it posts again. Reads are never ambiguous. RELIABILITY.md
 * shows this table beside the answers' (see {@link errorFromResponse}).
 */
export const NETWORK_FAILURE_TABLE: Readonly<Record<CallPhase, { mayHaveActed: boolean; why: string }>> = {
  connecting: { mayHaveActed: false, why: 'no connection existed: nothing left this machine' },
  'before-body': { mayHaveActed: false, why: 'Zoho cannot store a file or link whose body it never received' },
  sent: { mayHaveActed: true, why: 'once the first body byte is on its way, Zoho may have received all of it and acted' },
};

/** Which phase a failure happened in (see {@link CallPhase}). */
export function callPhase(code: string | undefined, body: { has: boolean; started: boolean }): CallPhase {
  if (body.started) return 'sent';
  if (code !== undefined && CONNECT_PHASE_CODES.has(code)) return 'connecting';
  return body.has ? 'before-body' : 'sent';
}

/**
 * Classifies a call that got no (complete) answer: a refused, reset or timed-out
 * connection, or the caller's abort. Transient in every case; ambiguous per
 * {@link NETWORK_FAILURE_TABLE}.
 * @param error what undici (or the body stream) threw
 * @param context.mutating true for calls that change Zoho's data (upload, delete)
 * @param context.body whether the call has a body, and whether its first byte was handed over;
 *   unknown (a response body being read, say) counts as sent
 */
export function errorFromNetwork(error: unknown, context: { mutating: boolean; body?: { has: boolean; started: boolean } }): ZohoError {
  if (error instanceof ZohoError) return error;
  const code = errorCode(error);
  const name = error instanceof Error ? error.name : undefined;
  const phase = callPhase(code, context.body ?? { has: false, started: true });
  const ambiguous = context.mutating && NETWORK_FAILURE_TABLE[phase].mayHaveActed;
  const detail = error instanceof Error ? error.message : String(error);
  if (name === 'AbortError' || code === 'UND_ERR_ABORTED') {
    return new ZohoError({ code: LocalErrorCode.ABORTED, classification: 'transient', ambiguous, message: `call aborted: ${detail}`, cause: error });
  }
  if ((code !== undefined && TIMEOUT_CODES.has(code)) || name === 'TimeoutError') {
    return new ZohoError({ code: LocalErrorCode.TIMEOUT, classification: 'transient', ambiguous, message: `no answer in time (${code ?? name})`, cause: error });
  }
  return new ZohoError({
    code: LocalErrorCode.NETWORK_ERROR,
    classification: 'transient',
    ambiguous,
    message: `${code ?? 'network failure'}: ${detail}`,
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
    return new ZohoError({ ...base, code: LocalErrorCode.REFRESH_INVALID_CODE, classification: 'systemic', message: 'the refresh token is revoked or invalid (invalid_code)' });
  }
  if (zohoCode === 'invalid_client') {
    return new ZohoError({ ...base, code: LocalErrorCode.REFRESH_INVALID_CLIENT, classification: 'systemic', message: 'the client id or secret is wrong, or this is the wrong data centre (invalid_client)' });
  }
  if (zohoCode === 'Access Denied' || status === 429) {
    // Zoho's 10-refreshes-per-10-minutes throttle clears by itself, and every job would
    // hit it alike: "slow every worker down, spend no attempt" (rate_limited) fits; a
    // systemic pause would wait for an operator for no reason, a transient retry would
    // burn attempts and keep the throttle window busy.
    return new ZohoError({ ...base, code: LocalErrorCode.REFRESH_THROTTLED, classification: 'rate_limited', message: 'too many token refreshes (Access Denied): Zoho allows 10 per refresh token per 10 minutes' });
  }
  if (status >= 500 || named === undefined) {
    // No Zoho verdict (a 5xx, an HTML error page): the accounts server may well answer next time.
    return new ZohoError({ ...base, code: LocalErrorCode.REFRESH_FAILED, classification: 'transient', message: `token refresh failed with HTTP ${status} and no access token (the answer is not shown)` });
  }
  if (zohoCode === undefined) {
    // An `error` that is not Zoho's (perhaps the request repeated back): a configuration answer every job would get.
    return new ZohoError({ ...base, code: LocalErrorCode.REFRESH_FAILED, classification: 'systemic', message: `token refresh refused with an error that is not one of Zoho's (not shown): check ZOHO_ACCOUNTS_URL and ZOHO_DC` });
  }
  // Any other named refusal (invalid_redirect_uri, …) is a configuration answer every job would get.
  return new ZohoError({ ...base, code: LocalErrorCode.REFRESH_FAILED, classification: 'systemic', message: `token refresh refused: ${zohoCode}` });
}

/**
 * A 2xx answer we could not read. After an upload, Zoho answered success: it may well have
 * stored the file, so the failure is ambiguous and the next attempt must look first.
 */
export function unexpectedResponse(message: string, context: { httpStatus: number; mutating: boolean; cause?: unknown }): ZohoError {
  return new ZohoError({
    code: LocalErrorCode.UNEXPECTED_RESPONSE,
    classification: 'transient',
    ambiguous: context.mutating,
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
    message: 'Zoho rejected ZOHO_ACCESS_TOKEN (expired or revoked); it cannot be refreshed: set a new one, or configure refresh credentials',
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
