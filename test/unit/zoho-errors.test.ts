import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import {
  answerFailure,
  bodySizeMismatch,
  callPhase,
  errorFromNetwork,
  errorFromRefresh,
  errorFromResponse,
  failureTableRows,
  networkFailure,
  unexpectedResponse,
  type AnswerFailure,
  type CallPhase,
  type CallProgress,
  type NetworkFailure,
  type ZohoError,
} from '../../src/zoho/errors.js';
import { creditsRemaining, parseJson } from '../../src/zoho/response.js';

const envelope = (code: string, message = 'm', details: Record<string, unknown> = {}) => ({
  code,
  details,
  message,
  status: 'error',
});

describe('errorFromResponse: the contract error table', () => {
  const table: Array<[number, string, string]> = [
    [400, 'INVALID_MODULE', 'permanent'],
    [400, 'INVALID_DATA', 'permanent'],
    [400, 'DUPLICATE_DATA', 'permanent'],
    [400, 'MANDATORY_NOT_FOUND', 'permanent'],
    [400, 'AUTHORIZATION_FAILED', 'permanent'],
    [400, 'INVALID_REQUEST_METHOD', 'permanent'],
    [403, 'NO_PERMISSION', 'permanent'],
    [404, 'INVALID_URL_PATTERN', 'permanent'],
    [413, 'FILE_SIZE_MORE_THAN_ALLOWED_SIZE', 'permanent'],
    [401, 'INVALID_TOKEN', 'token_expired'],
    [401, 'AUTHENTICATION_FAILURE', 'systemic'],
    [401, 'OAUTH_SCOPE_MISMATCH', 'systemic'],
    [429, 'TOO_MANY_REQUESTS', 'rate_limited'],
    [500, 'INTERNAL_ERROR', 'transient'],
  ];
  it.each(table)('%i %s -> %s', (status, code, classification) => {
    const error = errorFromResponse(status, envelope(code, 'text', { resource_path_index: 1 }));
    expect(error).toMatchObject({ code, zohoCode: code, httpStatus: status, classification });
    expect(error.message).toBe(`[${code}] text`);
    expect(error.details).toEqual({ resource_path_index: 1 });
  });

  it('reads the envelope inside data[]', () => {
    expect(errorFromResponse(400, { data: [envelope('INVALID_DATA')] })).toMatchObject({
      code: 'INVALID_DATA',
      classification: 'permanent',
    });
  });

  it('classifies bare 5xx and 4xx answers', () => {
    expect(errorFromResponse(502, undefined)).toMatchObject({
      code: 'HTTP_SERVER_ERROR',
      classification: 'transient',
      ambiguous: true,
    });
    expect(errorFromResponse(418, undefined)).toMatchObject({ code: 'HTTP_CLIENT_ERROR', classification: 'permanent' });
  });

  it('carries X-API-CREDITS-REMAINING on a 429', () => {
    expect(errorFromResponse(429, envelope('TOO_MANY_REQUESTS'), 12)).toMatchObject({
      creditsRemaining: 12,
      classification: 'rate_limited',
    });
  });
});

describe('errorFromRefresh', () => {
  it.each([
    [{ error: 'invalid_code' }, 'REFRESH_INVALID_CODE', 'systemic'],
    [{ error: 'invalid_client' }, 'REFRESH_INVALID_CLIENT', 'systemic'],
    [{ error: 'Access Denied', error_description: 'too many', status: 'failure' }, 'REFRESH_THROTTLED', 'rate_limited'],
    [{ error: 'invalid_redirect_uri' }, 'REFRESH_FAILED', 'systemic'],
  ])('HTTP 200 %j -> %s', (body, code, classification) => {
    expect(errorFromRefresh(200, body)).toMatchObject({ code, classification, httpStatus: 200 });
  });

  it('treats a 5xx without a verdict as transient', () => {
    expect(errorFromRefresh(503, undefined)).toMatchObject({ code: 'REFRESH_FAILED', classification: 'transient' });
  });
});

describe('FAILURE_TABLE: phase × failure → classification and ambiguity', () => {
  // The specification, written out: [phase, failure, classification, ambiguous, code].
  const spec: Array<[CallPhase, NetworkFailure | AnswerFailure, string, boolean, string]> = [
    ['before-connect', 'unreachable', 'transient', false, 'NETWORK_ERROR'],
    ['before-connect', 'reset', 'transient', false, 'NETWORK_ERROR'],
    ['before-connect', 'timeout', 'transient', false, 'TIMEOUT'],
    ['before-connect', 'aborted', 'transient', false, 'ABORTED'],
    ['connected', 'unreachable', 'transient', false, 'NETWORK_ERROR'],
    ['connected', 'reset', 'transient', false, 'NETWORK_ERROR'],
    ['connected', 'timeout', 'transient', false, 'TIMEOUT'],
    ['connected', 'aborted', 'transient', false, 'ABORTED'],
    ['body-started', 'unreachable', 'transient', true, 'NETWORK_ERROR'],
    ['body-started', 'reset', 'transient', true, 'NETWORK_ERROR'],
    ['body-started', 'timeout', 'transient', true, 'TIMEOUT'],
    ['body-started', 'aborted', 'transient', true, 'ABORTED'],
    ['answered', 'unreachable', 'transient', true, 'NETWORK_ERROR'],
    ['answered', 'reset', 'transient', true, 'NETWORK_ERROR'],
    ['answered', 'timeout', 'transient', true, 'TIMEOUT'],
    ['answered', 'aborted', 'transient', true, 'ABORTED'],
    ['answered', '5xx', 'transient', true, 'HTTP_SERVER_ERROR'],
    ['answered', '2xx-unreadable', 'transient', true, 'UNEXPECTED_RESPONSE'],
    ['answered', '429', 'rate_limited', false, 'TOO_MANY_REQUESTS'],
    ['answered', '401-invalid-token', 'token_expired', false, 'INVALID_TOKEN'],
    ['answered', 'auth-refused', 'systemic', false, 'AUTHENTICATION_FAILURE'],
    ['answered', '4xx', 'permanent', false, 'HTTP_CLIENT_ERROR'],
  ];

  it('is exactly the specification', () => {
    expect(failureTableRows().map((r) => [r.phase, r.failure, r.classification, r.ambiguous, r.code])).toEqual(spec);
  });

  const err = (code: string | undefined, name = 'Error') =>
    Object.assign(new Error(`${code ?? name} happened`), { code, name });
  /** An error of each network failure kind. */
  const networkErrors: Record<NetworkFailure, Error> = {
    unreachable: err('EHOSTUNREACH'),
    reset: err('ECONNRESET'),
    timeout: err('UND_ERR_HEADERS_TIMEOUT'),
    aborted: err('UND_ERR_ABORTED', 'AbortError'),
  };
  /** How far a call with a body got, for each phase (an unreachable code is itself "before connect" until the body starts). */
  const progressIn: Record<CallPhase, CallProgress> = {
    'before-connect': { answered: false, dispatched: false, hasBody: true, bodyStarted: false },
    connected: { answered: false, dispatched: true, hasBody: true, bodyStarted: false },
    'body-started': { answered: false, dispatched: true, hasBody: true, bodyStarted: true },
    answered: { answered: true },
  };
  /** An answer of each kind: [status, Zoho's code]. */
  const answers: Record<AnswerFailure, [number, string | undefined]> = {
    '5xx': [502, undefined],
    '2xx-unreadable': [200, undefined],
    '429': [429, undefined],
    '401-invalid-token': [401, 'INVALID_TOKEN'],
    'auth-refused': [401, undefined],
    '4xx': [418, undefined],
  };

  it.each(spec)('%s × %s → %s, ambiguous %s, %s', (phase, failure, classification, ambiguous, code) => {
    let made: (mutating: boolean) => ZohoError;
    if (failure in networkErrors) {
      const error = networkErrors[failure as NetworkFailure];
      expect(networkFailure(error)).toBe(failure);
      made = (mutating) => errorFromNetwork(error, { mutating, progress: progressIn[phase] });
    } else if (failure === '2xx-unreadable') {
      made = (mutating) => unexpectedResponse('no id', { httpStatus: 200, mutating });
    } else {
      const [status, zohoCode] = answers[failure as AnswerFailure];
      expect(answerFailure(status, zohoCode)).toBe(failure);
      made = (mutating) =>
        errorFromResponse(status, zohoCode ? envelope(zohoCode) : undefined, undefined, { mutating });
    }
    expect(made(true)).toMatchObject({ code, classification, ambiguous });
    // Reads are never ambiguous.
    expect(made(false)).toMatchObject({ code, classification, ambiguous: false });
  });

  it('is shown row for row in RELIABILITY.md', () => {
    const doc = readFileSync(new URL('../../RELIABILITY.md', import.meta.url), 'utf8');
    for (const [phase, failure, classification, ambiguous, code] of spec) {
      expect(doc).toContain(
        `| \`${phase}\` | \`${failure}\` | ${classification} | ${ambiguous ? '**yes**' : 'no'} | \`${code}\` |`,
      );
    }
  });
});

describe('callPhase and errorFromNetwork: how far a call got', () => {
  const err = (code: string, name = 'Error') => Object.assign(new Error(`${code} happened`), { code, name });
  const body = (bodyStarted: boolean): CallProgress => ({
    answered: false,
    dispatched: true,
    hasBody: true,
    bodyStarted,
  });
  const noBody: CallProgress = { answered: false, dispatched: true, hasBody: false, bodyStarted: false };

  // [code, name, progress, mutating] → [code, ambiguous]
  it.each([
    // Connect-phase codes before the first body byte: nothing left this machine.
    ['ECONNREFUSED', 'Error', body(false), true, 'NETWORK_ERROR', false],
    ['ENOTFOUND', 'Error', body(false), true, 'NETWORK_ERROR', false],
    ['EHOSTUNREACH', 'Error', body(false), true, 'NETWORK_ERROR', false],
    ['ENETUNREACH', 'Error', body(false), true, 'NETWORK_ERROR', false],
    ['UND_ERR_CONNECT_TIMEOUT', 'Error', body(false), true, 'TIMEOUT', false],
    // Connected, not one body byte handed over: Zoho cannot have stored anything.
    ['ECONNRESET', 'Error', body(false), true, 'NETWORK_ERROR', false],
    ['UND_ERR_HEADERS_TIMEOUT', 'Error', body(false), true, 'TIMEOUT', false],
    ['UND_ERR_ABORTED', 'AbortError', body(false), true, 'ABORTED', false],
    // After the first body byte every failure is ambiguous, whatever its code.
    ['EHOSTUNREACH', 'Error', body(true), true, 'NETWORK_ERROR', true],
    ['ENETUNREACH', 'Error', body(true), true, 'NETWORK_ERROR', true],
    ['ECONNREFUSED', 'Error', body(true), true, 'NETWORK_ERROR', true],
    ['ECONNRESET', 'Error', body(true), true, 'NETWORK_ERROR', true],
    ['UND_ERR_SOCKET', 'Error', body(true), true, 'NETWORK_ERROR', true],
    ['UND_ERR_HEADERS_TIMEOUT', 'Error', body(true), true, 'TIMEOUT', true],
    ['UND_ERR_BODY_TIMEOUT', 'Error', body(true), true, 'TIMEOUT', true],
    ['UND_ERR_ABORTED', 'AbortError', body(true), true, 'ABORTED', true],
    // A call without a body (a delete): past connecting, its request may have arrived whole.
    ['ECONNREFUSED', 'Error', noBody, true, 'NETWORK_ERROR', false],
    ['ECONNRESET', 'Error', noBody, true, 'NETWORK_ERROR', true],
    ['UND_ERR_HEADERS_TIMEOUT', 'Error', noBody, true, 'TIMEOUT', true],
    // …but not when it was aborted before it was handed over at all.
    ['ABORT_ERR', 'AbortError', { ...noBody, dispatched: false }, true, 'ABORTED', false],
    // The answer's body broke off: it may have been a success.
    ['ECONNRESET', 'Error', { answered: true }, true, 'NETWORK_ERROR', true],
    // Reads are never ambiguous.
    ['ECONNRESET', 'Error', body(true), false, 'NETWORK_ERROR', false],
    ['UND_ERR_HEADERS_TIMEOUT', 'Error', noBody, false, 'TIMEOUT', false],
  ] as const)(
    '%s (%s), %j, mutating %s: %s, ambiguous %s',
    (code, name, progress, mutating, expectedCode, ambiguous) => {
      expect(errorFromNetwork(err(code, name), { mutating, progress })).toMatchObject({
        code: expectedCode,
        classification: 'transient',
        ambiguous,
      });
    },
  );

  it('counts a failure whose progress is unknown as sent: ambiguous for a call that changes data', () => {
    expect(callPhase('ECONNRESET', { answered: false, dispatched: true, hasBody: false, bodyStarted: true })).toBe(
      'body-started',
    );
    expect(errorFromNetwork(err('ECONNRESET'), { mutating: true })).toMatchObject({ ambiguous: true });
  });

  it('returns a ZohoError (a body that changed size) as it is: never ambiguous', () => {
    const mismatch = bodySizeMismatch(10, 12, false);
    expect(errorFromNetwork(mismatch, { mutating: true, progress: body(true) })).toBe(mismatch);
  });
});

describe('parseJson', () => {
  it('keeps 19-digit numeric ids exact', () => {
    const body = parseJson('{"data":[{"details":{"id":4150868000005277036},"n":12,"s":"x: 4150868000005277036"}]}') as {
      data: Array<{ details: { id: unknown }; n: unknown; s: unknown }>;
    };
    expect(body.data[0]?.details.id).toBe('4150868000005277036');
    expect(body.data[0]?.n).toBe(12);
    expect(body.data[0]?.s).toBe('x: 4150868000005277036');
  });
  it('leaves digits inside strings alone, even after an escaped quote', () => {
    expect(parseJson('{"a":"q\\",12345678901234567890]"}')).toEqual({ a: 'q",12345678901234567890]' });
  });
  it('returns undefined for non-JSON', () => {
    expect(parseJson('<html>')).toBeUndefined();
  });
});

describe('creditsRemaining', () => {
  it('reads the header when present', () => {
    expect(creditsRemaining({ 'x-api-credits-remaining': '4999' })).toBe(4999);
    expect(creditsRemaining({})).toBeUndefined();
    expect(creditsRemaining({ 'x-api-credits-remaining': 'lots' })).toBeUndefined();
  });
});
