/**
 * Who may use the dashboard, and which writes are allowed: the checks every request goes
 * through, in order, as plain functions of the request's method and headers (the express
 * adapter calls them; they know nothing of express).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { credentialsMatch, parseBasicAuthorization, type DashboardCredentials } from './basic-auth.js';
import { csrfTokenMatches, csrfTokenOf, originMatchesHost } from './csrf.js';
import { hostNameOf, isLoopbackHost } from './loopback.js';

/** What the guard enforces. */
export interface AccessPolicy {
  /** When set, every request must carry them (basic auth). */
  credentials: DashboardCredentials | undefined;
  /** Refuse every write. */
  readOnly: boolean;
  /** The token every write must carry. */
  csrfToken: string;
  /**
   * Accept only loopback names in `Host`. Set when listening on loopback without credentials:
   * a hostile page whose DNS name is re-pointed at 127.0.0.1 ("DNS rebinding") then cannot read
   * or drive the dashboard, and a reverse proxy cannot expose it beyond loopback unauthenticated.
   * With credentials it is not needed (the browser never sends them to the attacker's name),
   * which lets a TLS proxy that keeps the public `Host` sit in front.
   */
  loopbackHostsOnly: boolean;
}

/** Why a request is refused: the answer to send instead of running it. */
export interface AccessDenial {
  status: 401 | 403;
  message: string;
  headers?: Record<string, string>;
}

/** Realm of the basic-auth challenge. */
const REALM = 'zoho-attach dashboard';

/** Checks who is calling: the `Host` (see {@link AccessPolicy.loopbackHostsOnly}) and the credentials. */
export function checkCaller(headers: IncomingHttpHeaders, policy: AccessPolicy): AccessDenial | undefined {
  if (policy.loopbackHostsOnly) {
    const hostName = hostNameOf(headers.host);
    if (hostName === undefined || !isLoopbackHost(hostName)) {
      return {
        status: 403,
        message: 'this dashboard only answers to loopback host names (127.0.0.1, localhost, [::1])',
      };
    }
  }
  if (policy.credentials) {
    const given = parseBasicAuthorization(headers.authorization);
    if (!given || !credentialsMatch(given, policy.credentials)) {
      return {
        status: 401,
        message: 'credentials required',
        headers: { 'www-authenticate': `Basic realm="${REALM}", charset="UTF-8"` },
      };
    }
  }
  return undefined;
}

/** Methods that never change state (GET handlers must keep it so). */
function isSafeMethod(method: string): boolean {
  return method === 'GET' || method === 'HEAD' || method === 'OPTIONS';
}

/**
 * Checks a write (any method but GET, HEAD, OPTIONS): refused in read-only mode, from another
 * origin, or without the CSRF token. Safe methods pass.
 * @param formToken the token from a form body, when the request had one
 */
export function checkWrite(
  request: { method: string; headers: IncomingHttpHeaders; formToken?: string | undefined },
  policy: AccessPolicy,
): AccessDenial | undefined {
  if (isSafeMethod(request.method)) return undefined;
  if (policy.readOnly) return { status: 403, message: 'the dashboard is read-only' };
  if (!originMatchesHost(request.headers)) return { status: 403, message: 'cross-origin request refused' };
  if (!csrfTokenMatches(csrfTokenOf(request.headers, request.formToken), policy.csrfToken)) {
    return { status: 403, message: 'missing or invalid CSRF token: reload the page and try again' };
  }
  return undefined;
}
