/**
 * Picks the token provider the configuration asks for.
 */
import type { Redis } from 'ioredis';
import type { ZohoConfig } from '../config/config.js';
import { noCredentials } from './errors.js';
import { StaticTokenProvider } from './static-token-provider.js';
import { SharedTokenStore, type SharedTokenStoreOptions, type TokenStoreKeys } from './token-store.js';
import type { TokenProvider } from './token-provider.js';

/**
 * A {@link StaticTokenProvider} when `ZOHO_ACCESS_TOKEN` is set (config.ts: "used instead of
 * refreshing"), else a {@link SharedTokenStore} when the refresh credentials are.
 * @param config the Zoho configuration
 * @param redis the connection the shared token lives on (unused for a fixed token)
 * @param keys where the shared token lives, the same for every process of the deployment
 * @param options tuning for the shared store
 * @throws {ZohoError} NO_CREDENTIALS (systemic) when neither is configured
 */
export function createTokenProvider(
  config: ZohoConfig,
  redis: Redis,
  keys: TokenStoreKeys,
  options: Omit<SharedTokenStoreOptions, 'config' | 'redis' | 'keys'> = {},
): TokenProvider {
  if (config.accessToken) return new StaticTokenProvider(config.accessToken);
  if (config.clientId && config.clientSecret && config.refreshToken) {
    return new SharedTokenStore({ ...options, config, redis, keys });
  }
  throw noCredentials();
}
