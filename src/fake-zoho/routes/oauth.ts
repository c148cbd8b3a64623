/**
 * The accounts server's token endpoint (contract §4): `POST /oauth/v2/token` with
 * `grant_type=refresh_token`, parameters in the query or an urlencoded body. Every answer,
 * error or not, is HTTP 200, as Zoho's are.
 */
import { headerValue, jsonAnswer, type Answer, type FakeRequest } from '../exchange.js';
import type { ResolvedOptions } from '../options.js';
import { BodyTooLargeError, readSmallBody } from '../small-body.js';
import type { RefreshRefusal, TokenStore } from '../token-store.js';

/** Token requests are a few hundred bytes; anything near this is not one. */
const MAX_TOKEN_BODY_BYTES = 64 * 1024;

/** What Zoho answers for each refusal. */
const REFUSAL_BODIES: Record<RefreshRefusal, Record<string, string>> = {
  invalid_client: { error: 'invalid_client' },
  invalid_code: { error: 'invalid_code' },
  throttled: {
    error: 'Access Denied',
    error_description: 'You have made too many requests continuously. Please try again after some time.',
    status: 'failure',
  },
};

/** Answers one token request. `apiDomain` is what the answer tells clients to call. */
export async function handleTokenRequest(
  request: FakeRequest,
  tokens: TokenStore,
  options: Pick<ResolvedOptions, 'expiresInStyle'>,
  apiDomain: string,
): Promise<Answer> {
  const params = new URLSearchParams(request.url.search);
  if (headerValue(request, 'content-type')?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    try {
      const body = await readSmallBody(request.body, MAX_TOKEN_BODY_BYTES);
      // Body parameters win over query parameters of the same name.
      for (const [name, value] of new URLSearchParams(body.toString('utf8'))) params.set(name, value);
    } catch (error) {
      if (error instanceof BodyTooLargeError) return jsonAnswer(200, { error: 'invalid_request' });
      throw error;
    }
  }
  if (params.get('grant_type') !== 'refresh_token') return jsonAnswer(200, { error: 'unsupported_grant_type' });

  const result = tokens.refresh({
    clientId: params.get('client_id') ?? undefined,
    clientSecret: params.get('client_secret') ?? undefined,
    refreshToken: params.get('refresh_token') ?? undefined,
  });
  if (!result.ok) return jsonAnswer(200, REFUSAL_BODIES[result.refusal]);

  const expiry =
    options.expiresInStyle === 'milliseconds'
      ? { expires_in: result.ttlSeconds * 1000, expires_in_sec: result.ttlSeconds }
      : { expires_in: result.ttlSeconds };
  return jsonAnswer(200, {
    access_token: result.accessToken,
    ...expiry,
    api_domain: apiDomain,
    token_type: 'Bearer',
  });
}
