import { describe, expect, it } from 'vitest';
import { NETWORK_FAILURE_TABLE, callPhase, errorFromNetwork, errorFromRefresh, errorFromResponse } from '../../src/zoho/errors.js';
import { creditsRemaining, parseJson } from '../../src/zoho/response.js';

const envelope = (code: string, message = 'm', details: Record<string, unknown> = {}) => ({ code, details, message, status: 'error' });

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
    expect(errorFromResponse(400, { data: [envelope('INVALID_DATA')] })).toMatchObject({ code: 'INVALID_DATA', classification: 'permanent' });
  });

  it('classifies bare 5xx and 4xx answers', () => {
    expect(errorFromResponse(502, undefined)).toMatchObject({ code: 'HTTP_SERVER_ERROR', classification: 'transient', ambiguous: true });
    expect(errorFromResponse(418, undefined)).toMatchObject({ code: 'HTTP_CLIENT_ERROR', classification: 'permanent' });
  });

  it('carries X-API-CREDITS-REMAINING on a 429', () => {
    expect(errorFromResponse(429, envelope('TOO_MANY_REQUESTS'), 12)).toMatchObject({ creditsRemaining: 12, classification: 'rate_limited' });
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

describe('errorFromNetwork: the phase table', () => {
  const err = (code: string, name = 'Error') => Object.assign(new Error(`${code} happened`), { code, name });
  const withBody = (started: boolean) => ({ has: true, started });
  const noBody = { has: false, started: false };

  // [code, name, call has a body, body started, mutating] → [code, ambiguous]
  it.each([
    ['ECONNREFUSED', 'Error', true, false, true, 'NETWORK_ERROR', false],
    ['EHOSTUNREACH', 'Error', true, false, true, 'NETWORK_ERROR', false],
    ['ENETUNREACH', 'Error', true, false, true, 'NETWORK_ERROR', false],
    ['UND_ERR_CONNECT_TIMEOUT', 'Error', true, false, true, 'TIMEOUT', false],
    // Connected, not one body byte handed over: Zoho cannot have stored anything.
    ['ECONNRESET', 'Error', true, false, true, 'NETWORK_ERROR', false],
    ['UND_ERR_HEADERS_TIMEOUT', 'Error', true, false, true, 'TIMEOUT', false],
    ['UND_ERR_ABORTED', 'AbortError', true, false, true, 'ABORTED', false],
    // After the first body byte every failure is ambiguous, whatever its code.
    ['EHOSTUNREACH', 'Error', true, true, true, 'NETWORK_ERROR', true],
    ['ENETUNREACH', 'Error', true, true, true, 'NETWORK_ERROR', true],
    ['ECONNREFUSED', 'Error', true, true, true, 'NETWORK_ERROR', true],
    ['ECONNRESET', 'Error', true, true, true, 'NETWORK_ERROR', true],
    ['UND_ERR_SOCKET', 'Error', true, true, true, 'NETWORK_ERROR', true],
    ['UND_ERR_HEADERS_TIMEOUT', 'Error', true, true, true, 'TIMEOUT', true],
    ['UND_ERR_BODY_TIMEOUT', 'Error', true, true, true, 'TIMEOUT', true],
    ['UND_ERR_ABORTED', 'AbortError', true, true, true, 'ABORTED', true],
    // A call without a body (a delete): past connecting, the request may have arrived.
    ['ECONNREFUSED', 'Error', false, false, true, 'NETWORK_ERROR', false],
    ['ECONNRESET', 'Error', false, false, true, 'NETWORK_ERROR', true],
    ['UND_ERR_HEADERS_TIMEOUT', 'Error', false, false, true, 'TIMEOUT', true],
    // Reads are never ambiguous.
    ['ECONNRESET', 'Error', true, true, false, 'NETWORK_ERROR', false],
    ['UND_ERR_HEADERS_TIMEOUT', 'Error', false, false, false, 'TIMEOUT', false],
  ] as const)('%s (%s), body %s started %s, mutating %s: %s, ambiguous %s', (code, name, has, started, mutating, expectedCode, ambiguous) => {
    expect(errorFromNetwork(err(code, name), { mutating, body: has ? withBody(started) : noBody })).toMatchObject({ code: expectedCode, classification: 'transient', ambiguous });
  });

  it('counts a failure whose phase is unknown (an answer being read) as sent', () => {
    expect(callPhase('ECONNRESET', { has: false, started: true })).toBe('sent');
    expect(errorFromNetwork(err('ECONNRESET'), { mutating: true })).toMatchObject({ ambiguous: true });
  });

  it('has one row per phase, and only "sent" may have been acted on', () => {
    expect(Object.entries(NETWORK_FAILURE_TABLE).map(([phase, row]) => [phase, row.mayHaveActed])).toEqual([
      ['connecting', false],
      ['before-body', false],
      ['sent', true],
    ]);
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
