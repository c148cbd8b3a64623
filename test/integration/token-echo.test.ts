/**
 * A token endpoint that answers 200 with something that is not a token (here: the request
 * repeated back, client secret and refresh token included) is reported by Zoho's known error
 * code or a generic message, never by what it said: not in the error's message or JSON, not
 * in the failure shared through Redis, not in a log line.
 */
import { keyNames } from '../../src/shared/key-names.js';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/shared/logger.js';
import { ZohoError } from '../../src/zoho/errors.js';
import { SharedTokenStore } from '../../src/zoho/token-store.js';
import { ECHO_SHAPES, startEchoAccounts, type EchoAccounts, type EchoShape } from '../helpers/echo-accounts.js';
import { deleteKeysContaining, testRedis, uniqueName } from '../helpers/redis.js';
import { zohoTestConfig } from '../helpers/zoho.js';

const SECRETS = {
  clientId: 'echo-client-id-4b5c6d',
  clientSecret: 'echo-client-secret-8e7f6a5b4c3d',
  refreshToken: '1000.echoRefreshToken9f8e7d6c5b4a.0123456789abcdef',
};

const EXPECTED: Record<EchoShape, { code: string; classification: string }> = {
  text: { code: 'REFRESH_FAILED', classification: 'transient' },
  fields: { code: 'REFRESH_FAILED', classification: 'transient' },
  error: { code: 'REFRESH_FAILED', classification: 'systemic' },
  'access-denied': { code: 'REFRESH_THROTTLED', classification: 'rate_limited' },
  'invalid-client': { code: 'REFRESH_INVALID_CLIENT', classification: 'systemic' },
  'server-error': { code: 'REFRESH_FAILED', classification: 'transient' },
};

const redis = testRedis();
const prefixes: string[] = [];
let echo: EchoAccounts;

beforeAll(async () => {
  echo = await startEchoAccounts();
});
afterEach(async () => {
  for (const prefix of prefixes.splice(0)) await deleteKeysContaining(redis, prefix);
});
afterAll(async () => {
  await echo.close();
  redis.disconnect();
});

describe('a token endpoint that echoes the request', () => {
  it.each(ECHO_SHAPES)('answering %s: only a known code or a generic message is shown', async (shape) => {
    echo.shape = shape;
    const prefix = uniqueName('echo');
    prefixes.push(prefix);
    const store = new SharedTokenStore({
      config: zohoTestConfig(echo.url, { credentials: SECRETS }),
      redis,
      keys: keyNames(prefix).oauth,
    });

    const first = await store.getToken().catch((error: unknown) => error);
    expect(first).toBeInstanceOf(ZohoError);
    expect(first).toMatchObject(EXPECTED[shape]);
    const stored = (await redis.get(store.failureKey)) ?? '';
    expect(stored).toContain(EXPECTED[shape].code);
    // The failure as every other process then raises it, from Redis.
    const held = await store.getToken().catch((error: unknown) => error);
    expect(held).toMatchObject({ code: EXPECTED[shape].code });
    expect(echo.requests).toBeGreaterThan(0);

    const destination = new PassThrough();
    let logged = '';
    destination.on('data', (chunk: Buffer) => (logged += chunk.toString()));
    const logger = createLogger({ level: 'trace', destination });
    logger.error({ err: first }, 'token refresh failed');
    logger.error({ err: held, outcome: { error: (first as ZohoError).toJSON() } }, 'held failure');
    logger.flush();

    const error = first as ZohoError;
    const everything = [error.message, JSON.stringify(error.toJSON()), (held as Error).message, stored, logged].join(
      '\n',
    );
    for (const secret of [SECRETS.clientSecret, SECRETS.refreshToken, 'client_secret', 'refresh_token', 'grant_type']) {
      expect(everything.includes(secret), `"${secret}" shown for ${shape}:\n${everything}`).toBe(false);
    }
  });
});
