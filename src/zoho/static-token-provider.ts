/**
 * A fixed access token (`ZOHO_ACCESS_TOKEN`), for short runs and tests without refresh
 * credentials. Nothing can renew it: once Zoho rejects it, every call fails systemically.
 */
import { accessTokenRejected } from './errors.js';
import type { AccessToken, TokenProvider } from './token-provider.js';

/** Hands out one fixed token until Zoho rejects it. */
export class StaticTokenProvider implements TokenProvider {
  // A true private field: neither util.inspect nor JSON.stringify of the provider can show the token.
  readonly #accessToken: string;
  private readonly apiDomain: string | undefined;
  private rejected = false;

  /**
   * @param accessToken the token
   * @param apiDomain where to use it, when known (otherwise the configured API domain is used)
   */
  constructor(accessToken: string, apiDomain?: string) {
    this.#accessToken = accessToken;
    this.apiDomain = apiDomain;
  }

  /**
   * {@inheritDoc TokenProvider.getToken}
   * @throws {ZohoError} ACCESS_TOKEN_REJECTED (systemic) once the token was invalidated
   */
  getToken(): Promise<AccessToken> {
    if (this.rejected) return Promise.reject(accessTokenRejected());
    // Its real expiry is unknown; Zoho's 401 is what ends it.
    return Promise.resolve({
      accessToken: this.#accessToken,
      apiDomain: this.apiDomain,
      expiresAt: Number.MAX_SAFE_INTEGER,
    });
  }

  /** {@inheritDoc TokenProvider.invalidate} */
  invalidate(failedToken: string): Promise<void> {
    if (failedToken === this.#accessToken) this.rejected = true;
    return Promise.resolve();
  }
}
