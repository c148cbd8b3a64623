/**
 * Can this configuration talk to Zoho: does the OAuth refresh work in the configured data
 * centre, and does the API domain accept the token?
 *
 * The doctor tests the credentials it is given, every run: one real refresh, never a token or
 * a failure an earlier run left in Redis. Zoho allows 10 refreshes per refresh token per 10
 * minutes and a 16th live access token silently kills the oldest, so the refresh goes through
 * the shared token store every worker uses: the token it mints replaces the shared one instead
 * of adding a 16th.
 */
import type { Redis } from 'ioredis';
import { DATA_CENTRES, type Config, type ZohoConfig } from '../config/config.js';
import { isClassifiedError } from '../shared/errors.js';
import { redactUrl, safeErrorMessage } from '../shared/redact.js';
import { keyNames } from '../shared/key-names.js';
import { createTokenProvider, isZohoError, SharedTokenStore, ZohoClient, type TokenProvider } from '../zoho/index.js';
import type { CheckResult } from './check-result.js';

/**
 * The API probe: list the attachments of a record that cannot exist. It is a read (1 API
 * credit, changes nothing), it needs exactly the scope workers need to look for an upload
 * before posting again, and any answer in Zoho's format — 204, an empty list, 400 INVALID_DATA
 * for the unknown record, even INVALID_MODULE where Leads is switched off — proves the domain
 * answers and accepted the token. Cheaper-looking calls (`/org`, `/users`) need scopes a token
 * made for attachments may lack, and would fail a configuration that works.
 */
const API_PROBE = { module: 'Leads', recordId: '0' } as const;

/** Which domain a sign-in URL belongs to, for "which data centre am I in?". */
const DATA_CENTRE_HINT = Object.entries(DATA_CENTRES)
  .map(([dc, { accountsUrl }]) => `${new URL(accountsUrl).hostname.replace(/^accounts\./, '')} → ${dc}`)
  .join(', ');

/**
 * Refreshes through the shared store (see the file's comment).
 * @returns the check, and the token provider for {@link checkApiDomain} when a token was obtained
 */
export async function checkOAuth(
  config: Config,
  redis: Redis,
): Promise<{ result: CheckResult; tokens?: TokenProvider }> {
  const name = 'Zoho OAuth';
  const zoho = config.zoho;
  let tokens: TokenProvider;
  try {
    tokens = createTokenProvider(zoho, redis, keyNames(config.queue.name).oauth);
  } catch {
    return {
      result: {
        name,
        status: 'fail',
        detail: 'no Zoho credentials are configured',
        fix: 'set ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN (a self client in the Zoho API console of your data centre), or ZOHO_ACCESS_TOKEN for a short test',
      },
    };
  }
  if (!(tokens instanceof SharedTokenStore)) {
    return {
      tokens,
      result: {
        name,
        status: 'warn',
        detail:
          'ZOHO_ACCESS_TOKEN is a fixed token: there is no refresh to check, and it stops working within the hour',
        fix: 'for a migration, set ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN, and unset ZOHO_ACCESS_TOKEN',
      },
    };
  }

  try {
    const started = Date.now();
    const token = await tokens.refreshNow();
    const minutesLeft = Math.max(0, Math.round((token.expiresAt - Date.now()) / 60_000));
    const detail = `refreshed at ${redactUrl(zoho.accountsUrl)} (ZOHO_DC=${zoho.dataCentre}) in ${Date.now() - started} ms with exactly these credentials; the new token (valid ${minutesLeft} min) is the one workers use next`;
    return { tokens, result: { name, status: 'pass', detail } };
  } catch (error) {
    return { result: { name, status: 'fail', ...explainRefreshFailure(error, zoho) } };
  }
}

function explainRefreshFailure(error: unknown, zoho: ZohoConfig): Pick<CheckResult, 'detail' | 'fix'> {
  const dc = `ZOHO_DC=${zoho.dataCentre}`;
  const accountsOverridden = zoho.accountsUrl !== DATA_CENTRES[zoho.dataCentre].accountsUrl;
  const accountsUrl = redactUrl(zoho.accountsUrl);
  const accountsHint = accountsOverridden
    ? `; ZOHO_ACCOUNTS_URL=${accountsUrl} overrides ZOHO_DC's accounts server: unset it unless you mean it`
    : '';
  const code = isClassifiedError(error) ? error.code : undefined;
  const reason = safeErrorMessage(isClassifiedError(error) ? error.reason : error);
  switch (code) {
    case 'REFRESH_INVALID_CODE':
      return {
        detail: `Zoho refused the refresh token at ${accountsUrl} (invalid_code): it is revoked, expired or mistyped`,
        fix: `set ZOHO_REFRESH_TOKEN to a new refresh token: in the Zoho API console of your data centre (${dc}), generate a grant code with scope ZohoCRM.modules.ALL and exchange it for a refresh token`,
      };
    case 'REFRESH_INVALID_CLIENT':
      return {
        detail: `wrong client or wrong data centre (${dc}, accounts server ${accountsUrl}): Zoho answered invalid_client`,
        fix: `check ZOHO_CLIENT_ID and ZOHO_CLIENT_SECRET, and set ZOHO_DC to the data centre of your org, the domain you sign in at (${DATA_CENTRE_HINT})${accountsHint}`,
      };
    case 'REFRESH_THROTTLED':
      return {
        detail: `Zoho throttles this refresh token (at most 10 refreshes per 10 minutes): ${reason}`,
        fix: 'wait up to 10 minutes and run `zoho-attach doctor` again; if it recurs, something else refreshes with this ZOHO_REFRESH_TOKEN (every zoho-attach process with the same ZOHO_ATTACH_QUEUE shares one token; other scripts or queues do not)',
      };
    case 'NETWORK_ERROR':
    case 'TIMEOUT':
      return {
        detail: `cannot reach the accounts server ${accountsUrl}: ${reason}`,
        fix: `check the network (DNS, proxy, firewall) and ZOHO_DC (${dc})${accountsHint}`,
      };
    case 'TOKEN_WAIT_TIMEOUT':
      return {
        detail: reason,
        fix: "run `zoho-attach doctor` again; if it persists, a worker is stuck in a refresh: look at the workers' logs",
      };
    default:
      return {
        detail: `the token refresh at ${accountsUrl} failed: ${code ? `[${code}] ` : ''}${reason}`,
        fix: `check ZOHO_DC (${dc}), ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET and ZOHO_REFRESH_TOKEN${accountsHint}`,
      };
  }
}

/** Makes the {@link API_PROBE} call with the token from {@link checkOAuth}. */
export async function checkApiDomain(zoho: ZohoConfig, tokens: TokenProvider): Promise<CheckResult> {
  const name = 'Zoho API domain';
  const client = new ZohoClient({ config: zoho, tokens });
  // The domain the client calls: the configured one when ZOHO_API_DOMAIN is set, else the token's.
  const domain = zoho.apiDomainOverridden
    ? zoho.apiDomain
    : ((await tokens.getToken().catch(() => undefined))?.apiDomain ?? zoho.apiDomain);
  const call = `GET ${redactUrl(domain)}/crm/${zoho.apiVersion}/${API_PROBE.module}/${API_PROBE.recordId}/Attachments`;
  const domainFix = `unset ZOHO_API_DOMAIN (the api_domain the token comes with is then used), or set it to your data centre's (ZOHO_DC=${zoho.dataCentre}: ${DATA_CENTRES[zoho.dataCentre].apiDomain})`;
  try {
    await client.listAttachments(API_PROBE.module, API_PROBE.recordId, { perPage: 1 });
    return {
      name,
      status: 'pass',
      detail: `${call} answered with an empty list: reachable, and the token is accepted`,
    };
  } catch (error) {
    if (!isZohoError(error)) {
      return { name, status: 'fail', detail: `${call} failed: ${safeErrorMessage(error)}`, fix: domainFix };
    }
    const answered = `${call} answered ${error.httpStatus === undefined ? '' : `HTTP ${error.httpStatus} `}${error.code}`;
    switch (error.classification) {
      case 'permanent':
        if (error.zohoCode !== undefined)
          return {
            name,
            status: 'pass',
            detail: `${answered} (expected for a record that does not exist): reachable, and the token is accepted`,
          };
        return {
          name,
          status: 'fail',
          detail: `${answered} without a Zoho error body: this is not a Zoho CRM API domain`,
          fix: domainFix,
        };
      case 'token_expired':
        return {
          name,
          status: 'fail',
          detail: `${answered} to a freshly minted token: the API domain and the accounts server are in different data centres`,
          fix: `${domainFix}; ZOHO_DC and ZOHO_ACCOUNTS_URL must name the same data centre`,
        };
      case 'rate_limited':
        return {
          name,
          status: 'warn',
          detail: `${answered}: reachable, but Zoho's concurrency limit or the day's API credits are used up`,
          fix: 'expected while workers run at full speed; otherwise wait for the 24-hour credit window to free up, or lower ZOHO_CONCURRENCY',
        };
      case 'systemic':
        return {
          name,
          status: 'fail',
          detail: `${answered}: ${error.reason}`,
          fix:
            error.code === 'OAUTH_SCOPE_MISMATCH'
              ? "the token lacks the attachments scope: mint a refresh token with ZohoCRM.modules.ALL (or ZohoCRM.modules.attachments.ALL with the modules' scopes) and set ZOHO_REFRESH_TOKEN"
              : `check ZOHO_ACCESS_TOKEN, or ZOHO_CLIENT_ID, ZOHO_CLIENT_SECRET, ZOHO_REFRESH_TOKEN and ZOHO_DC (${zoho.dataCentre})`,
        };
      case 'transient':
        return {
          name,
          status: 'fail',
          detail: `${call} got no usable answer: [${error.code}] ${error.reason}`,
          fix: `check the network (DNS, proxy, firewall) and ZOHO_API_DOMAIN / ZOHO_DC; a 5xx is Zoho's own trouble: try again later`,
        };
    }
  } finally {
    await client.close();
  }
}
