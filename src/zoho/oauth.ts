/**
 * One call to Zoho's accounts server: trade the refresh token for an access token.
 * Single-flight and sharing across processes are {@link SharedTokenStore}'s job, not this one's.
 */
import { request, type Dispatcher } from 'undici';
import { errorFromNetwork, errorFromRefresh, unexpectedResponse } from './errors.js';
import { parseJson, readBodyText } from './response.js';
import type { AccessToken } from './token-provider.js';

/** What a refresh needs. */
export interface RefreshRequest {
  /** e.g. `https://accounts.zoho.eu`, no trailing slash. */
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /**
   * The whole refresh (connect, answer, body) must finish within this: the refresh lock's TTL
   * is sized from it, so it is a hard deadline, not an idle timeout.
   */
  timeoutMs: number;
  /** @defaultValue undici's global dispatcher */
  dispatcher?: Dispatcher;
  /** @defaultValue `Date.now` */
  now?: () => number;
}

/** Used when the answer has no usable `expires_in`: Zoho's access tokens live one hour (contract §4). */
const DEFAULT_LIFETIME_SECONDS = 3600;

/**
 * Refreshes the access token.
 * @throws {ZohoError} REFRESH_INVALID_CODE / REFRESH_INVALID_CLIENT (systemic), REFRESH_THROTTLED
 *   (rate_limited), REFRESH_FAILED, NETWORK_ERROR or TIMEOUT
 */
export async function refreshAccessToken(req: RefreshRequest): Promise<AccessToken> {
  const now = req.now ?? Date.now;
  // Secrets go in the body, not the query string, so they cannot surface in a URL in an error or a proxy log.
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: req.clientId,
    client_secret: req.clientSecret,
    refresh_token: req.refreshToken,
  }).toString();

  let response: Dispatcher.ResponseData;
  let text: string;
  try {
    response = await request(`${req.accountsUrl}/oauth/v2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
      dispatcher: req.dispatcher,
      signal: AbortSignal.timeout(req.timeoutMs),
    });
    text = await readBodyText(response.body);
  } catch (error) {
    // Minting a token changes nothing worth looking for afterwards: never ambiguous.
    throw errorFromNetwork(error, { mutating: false });
  }

  const body = parseJson(text);
  const fields = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  const accessToken = fields.access_token;
  if (
    response.statusCode !== 200 ||
    typeof accessToken !== 'string' ||
    accessToken === '' ||
    fields.error !== undefined
  ) {
    throw errorFromRefresh(response.statusCode, body);
  }
  const apiDomain =
    typeof fields.api_domain === 'string' && fields.api_domain !== ''
      ? fields.api_domain.replace(/\/+$/, '')
      : undefined;
  if (apiDomain !== undefined && !/^https?:\/\/[^/\s]+$/.test(apiDomain)) {
    throw unexpectedResponse('the token refresh answered an api_domain that is not an origin', {
      httpStatus: response.statusCode,
      mutating: false,
    });
  }
  return { accessToken, apiDomain, expiresAt: now() + lifetimeSeconds(fields) * 1000 };
}

/**
 * The token's lifetime in seconds. Older accounts servers send `expires_in` in milliseconds
 * next to `expires_in_sec`; when `expires_in_sec` is there it is the one to trust.
 */
function lifetimeSeconds(fields: Record<string, unknown>): number {
  const seconds = positiveNumber(fields.expires_in_sec);
  if (seconds !== undefined) return seconds;
  return positiveNumber(fields.expires_in) ?? DEFAULT_LIFETIME_SECONDS;
}

function positiveNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isFinite(n) && n > 0 ? n : undefined;
}
