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
