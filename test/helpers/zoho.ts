/**
 * Zoho client test helpers: a real ZohoConfig (through loadConfig) pointed at a fake Zoho.
 */
import { loadConfig, type ZohoConfig } from '../../src/config/config.js';

/** The fake's default OAuth client (mirrors FAKE_CREDENTIALS without importing the fake into child processes). */
export const TEST_CREDENTIALS = {
  clientId: 'fake-client-id',
  clientSecret: 'fake-client-secret',
  refreshToken: 'fake-refresh-token',
} as const;

/** What a test may change in the environment it builds its config from. */
export interface TestZohoEnv {
  /** Refresh credentials; `false` for none. @defaultValue {@link TEST_CREDENTIALS} */
  credentials?: { clientId: string; clientSecret: string; refreshToken: string } | false;
  /** `ZOHO_ACCESS_TOKEN`. */
  accessToken?: string;
  /** `ZOHO_API_DOMAIN`; when unset, the token's api_domain is used. */
  apiDomain?: string;
  /** @defaultValue 'v2.1' */
  apiVersion?: string;
  /** @defaultValue 5000 */
  requestTimeoutMs?: number;
}

/** A ZohoConfig whose accounts server is the fake at `url`. */
export function zohoTestConfig(url: string, env: TestZohoEnv = {}): ZohoConfig {
  const credentials = env.credentials === undefined ? TEST_CREDENTIALS : env.credentials;
  return loadConfig({
    ZOHO_ACCOUNTS_URL: url,
    ZOHO_API_DOMAIN: env.apiDomain,
    ZOHO_API_VERSION: env.apiVersion,
    ZOHO_REQUEST_TIMEOUT_MS: String(env.requestTimeoutMs ?? 5000),
    ZOHO_CLIENT_ID: credentials ? credentials.clientId : undefined,
    ZOHO_CLIENT_SECRET: credentials ? credentials.clientSecret : undefined,
    ZOHO_REFRESH_TOKEN: credentials ? credentials.refreshToken : undefined,
    ZOHO_ACCESS_TOKEN: env.accessToken,
  }).zoho;
}
