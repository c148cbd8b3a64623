/**
 * Cross-site request forgery defences for writes: a per-process secret token that a request
 * must carry, and a check that the Origin (or Referer) is the dashboard itself.
 *
 * Basic-auth credentials are sent by the browser on any request to the dashboard, including
 * one a hostile page triggers; the token is what such a page cannot know (it cannot read our
 * pages or cookies). The token is compared with the server's copy, never with a cookie, so a
 * cookie planted by a sibling domain does not help an attacker.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The hidden form field our pages' forms carry the token in. */
export const CSRF_FORM_FIELD = '_csrf';

/**
 * The cookie that hands the token to bull-board's UI: its HTTP client (axios) copies the
 * `XSRF-TOKEN` cookie into an `X-XSRF-TOKEN` header on same-origin requests.
 */
export const CSRF_COOKIE = 'XSRF-TOKEN';

/** Headers a script may send the token in. */
const CSRF_HEADERS = ['x-csrf-token', 'x-xsrf-token'] as const;

/** A fresh random token (one per dashboard process). */
export function createCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The token a request carries: the form field, else one of the headers. */
export function csrfTokenOf(headers: IncomingHttpHeaders, formToken: string | undefined): string | undefined {
  if (formToken !== undefined) return formToken;
  for (const name of CSRF_HEADERS) {
    const value = headers[name];
    if (typeof value === 'string') return value;
  }
  return undefined;
}

/** Constant-time comparison of a request's token with the process's. */
export function csrfTokenMatches(given: string | undefined, expected: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  // The token's length is no secret; timingSafeEqual needs equal lengths.
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Whether a request comes from a page of the dashboard itself, judged by `Origin`, else
 * `Referer`, against `Host`. Browsers send `Origin` with every POST/PUT/PATCH/DELETE, so a
 * cross-site write always has one to check; a request with neither header (curl, a script)
 * is not from a browser page and still needs the token.
 */
export function originMatchesHost(headers: IncomingHttpHeaders): boolean {
  const source = headers.origin ?? headers.referer;
  if (source === undefined) return true;
  const host = headers.host;
  if (host === undefined) return false;
  try {
    // "null" (sandboxed frames, some redirects) fails to parse: refused.
    return new URL(source).host === new URL(`http://${host}`).host;
  } catch {
    return false;
  }
}
