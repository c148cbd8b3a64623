/**
 * Picks the token provider the configuration asks for.
 */
import type { Redis } from 'ioredis';
import type { ZohoConfig } from '../config/config.js';
import { noCredentials } from './errors.js';
import { StaticTokenProvider } from './static-token-provider.js';
import { SharedTokenStore, type SharedTokenStoreOptions } from './token-store.js';
import type { TokenProvider } from './token-provider.js';

/**
 * A {@link StaticTokenProvider} when `ZOHO_ACCESS_TOKEN` is set (config.ts: "used instead of
 * refreshing"), else a {@link SharedTokenStore} when the refresh credentials are.
 * @param config the Zoho configuration
 * @param redis the connection the shared token lives on (unused for a fixed token)
 * @param prefix namespace of the OAuth keys, shared by every process of the deployment, e.g. `${queueName}:oauth`
 * @param options tuning for the shared store
 * @throws {ZohoError} NO_CREDENTIALS (systemic) when neither is configured
 */
export function createTokenProvider(
  config: ZohoConfig,
  redis: Redis,
  prefix: string,
  options: Omit<SharedTokenStoreOptions, 'config' | 'redis' | 'prefix'> = {},
): TokenProvider {
  if (config.accessToken) return new StaticTokenProvider(config.accessToken);
  if (config.clientId && config.clientSecret && config.refreshToken) {
    return new SharedTokenStore({ ...options, config, redis, prefix });
  }
  throw noCredentials();
}
