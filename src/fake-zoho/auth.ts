/**
 * API authentication (contract §2): `Authorization: Zoho-oauthtoken <token>`, a live token,
 * and a scope that allows the operation.
 */
import type { ApiAnswer } from './exchange.js';
import type { ApiOperation } from './router.js';
import { ACCESS_TOKEN_PATTERN, type TokenStore } from './token-store.js';
import { zohoError } from './zoho-answers.js';

/** Scopes (lower case: Zoho compares them case-insensitively) that allow each operation. */
const ALLOWING_SCOPES: Record<ApiOperation, ReadonlySet<string>> = {
  upload: scopeSet('write', 'create'),
  list: scopeSet('read'),
  download: scopeSet('read'),
  delete: scopeSet('delete'),
};

function scopeSet(...attachmentOperations: string[]): ReadonlySet<string> {
  return new Set([
    'zohocrm.modules.all',
    'zohocrm.modules.attachments.all',
    ...attachmentOperations.map((operation) => `zohocrm.modules.attachments.${operation}`),
  ]);
}

const AUTHORIZATION_HEADER = /^Zoho-oauthtoken +(\S+) *$/i;

/**
 * The 401 answer for a request that may not make this call, or undefined when it may.
 * Missing or garbled header: AUTHENTICATION_FAILURE. A well-formed token that is unknown,
 * killed or expired: INVALID_TOKEN. A live token without a fitting scope: OAUTH_SCOPE_MISMATCH.
 */
export function refuseUnauthorized(
  authorization: string | undefined,
  operation: ApiOperation,
  tokens: TokenStore,
): ApiAnswer | undefined {
  const accessToken = authorization === undefined ? undefined : AUTHORIZATION_HEADER.exec(authorization)?.[1];
  if (accessToken === undefined || !ACCESS_TOKEN_PATTERN.test(accessToken)) return zohoError('AUTHENTICATION_FAILURE');

  const token = tokens.find(accessToken);
  if (!token) return zohoError('INVALID_TOKEN');

  const allowing = ALLOWING_SCOPES[operation];
  if (!token.scopes.some((scope) => allowing.has(scope.toLowerCase()))) return zohoError('OAUTH_SCOPE_MISMATCH');
  return undefined;
}
