/**
 * Every error the fake's CRM API can answer, with its HTTP status and Zoho's message
 * (contract §2), and the success envelopes. The one place these codes and texts live.
 */
import type { ApiAnswer } from './exchange.js';

/** Zoho error codes the fake answers, with their HTTP status and default message. */
export const ZOHO_ERRORS = {
  INVALID_MODULE: { status: 400, message: 'the module name given seems to be invalid' },
  INVALID_DATA: { status: 400, message: 'the related id given seems to be invalid' },
  DUPLICATE_DATA: { status: 400, message: 'Attachment link already exists' },
  MANDATORY_NOT_FOUND: { status: 400, message: 'required field not found' },
  REQUIRED_PARAM_MISSING: { status: 400, message: 'One of the expected parameter is missing' },
  AUTHORIZATION_FAILED: { status: 400, message: 'User does not have sufficient privilege to upload attachments' },
  INVALID_REQUEST_METHOD: { status: 400, message: 'The http request method type is not a valid one' },
  NOT_SUPPORTED: { status: 400, message: 'the operation is not supported' },
  AUTHENTICATION_FAILURE: { status: 401, message: 'Authentication failed' },
  INVALID_TOKEN: { status: 401, message: 'invalid oauth token' },
  OAUTH_SCOPE_MISMATCH: { status: 401, message: 'invalid oauth scope to access this URL' },
  NO_PERMISSION: { status: 403, message: 'Permission denied to upload attachment' },
  INVALID_URL_PATTERN: { status: 404, message: 'Please check if the URL trying to access is a correct one' },
  FILE_SIZE_MORE_THAN_ALLOWED_SIZE: {
    status: 413,
    message: 'Please check if the size of the file is in the correct range',
  },
  // The same body for the concurrency limit and exhausted credits: Zoho does not say which (contract §5).
  TOO_MANY_REQUESTS: { status: 429, message: 'You have made too many requests. Please try again after some time.' },
  INTERNAL_ERROR: { status: 500, message: 'Internal Server Error' },
} as const satisfies Record<string, { status: number; message: string }>;

/** A Zoho error code the fake answers. */
export type ZohoErrorCode = keyof typeof ZOHO_ERRORS;

/** The `"Created_By"`/`"Modified_By"` user of everything the fake creates. */
export const FAKE_USER = Object.freeze({ name: 'Fake Zoho User', id: '4150868000000225013' });

/**
 * Zoho's error envelope at the top level:
 * `{"code", "details", "message", "status": "error"}` with the code's HTTP status.
 */
export function zohoError(code: ZohoErrorCode, details: Record<string, unknown> = {}, message?: string): ApiAnswer {
  const known = ZOHO_ERRORS[code];
  return {
    status: known.status,
    code,
    body: { code, details, message: message ?? known.message, status: 'error' },
  };
}

/** HTTP 200 with `{"data": [entry, …]}`, each entry a success (or, in a mass delete, an error). */
export function zohoSuccess(entries: Array<Record<string, unknown>>): ApiAnswer {
  return { status: 200, code: 'SUCCESS', body: { data: entries } };
}

/** One `data[]` entry of a successful action. */
export function successEntry(details: Record<string, unknown>, message: string): Record<string, unknown> {
  return { code: 'SUCCESS', details, message, status: 'success' };
}

/** Zoho's time format: seconds precision with an explicit offset (`2021-05-03T12:33:00+00:00`). */
export function formatZohoTime(epochMs: number): string {
  return new Date(epochMs).toISOString().replace(/\.\d{3}Z$/, '+00:00');
}
