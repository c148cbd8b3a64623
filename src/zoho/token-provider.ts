/**
 * What the Zoho client needs from whoever holds the OAuth access token.
 */

/** An access token and where to use it. */
export interface AccessToken {
  accessToken: string;
  /** The API domain the refresh answer named (`api_domain`), when it named one. */
  apiDomain?: string;
  /** When Zoho stops accepting the token, epoch ms. */
  expiresAt: number;
}

/** Hands out a valid access token and learns when Zoho rejected one. */
export interface TokenProvider {
  /**
   * A token valid for a while yet.
   * @throws {ZohoError} systemic (bad credentials), rate_limited (refresh throttle) or transient
   */
  getToken(): Promise<AccessToken>;
  /**
   * Zoho answered 401 INVALID_TOKEN to `failedToken`: forget it, unless it has already been
   * replaced (a stale 401 must not throw away a fresh token).
   */
  invalidate(failedToken: string): Promise<void>;
}
