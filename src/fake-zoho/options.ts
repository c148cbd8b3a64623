/**
 * The fake's options, their defaults (in one block) and the credentials it accepts
 * out of the box.
 */

/** One OAuth client the fake's accounts server knows. */
export interface FakeClient {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
  /**
   * Scopes every access token minted for this client carries.
   * @defaultValue `['ZohoCRM.modules.ALL', 'ZohoCRM.coql.READ']`
   */
  scopes?: readonly string[];
}

/**
 * The credentials the fake accepts when no `clients` option is given, with the scopes this tool
 * needs: every module (attachments included) and the Query API, which `modules.ALL` does not cover.
 */
export const FAKE_CREDENTIALS = Object.freeze({
  clientId: 'fake-client-id',
  clientSecret: 'fake-client-secret',
  refreshToken: 'fake-refresh-token',
  scopes: Object.freeze<string[]>(['ZohoCRM.modules.ALL', 'ZohoCRM.coql.READ']),
});

/** A fixed delay, or a delay drawn uniformly from `[min, max]` for every answer. */
export type Latency = number | { min: number; max: number };

/**
 * What `GET …/Attachments` answers for a page without rows (contract §3 allows both), and a COQL
 * query for one (contract §7 names 204; the client takes `data: []` too).
 */
export type EmptyListStyle = '204' | 'empty200';

/** How the token endpoint writes `expires_in` (contract §4). */
export type ExpiresInStyle = 'seconds' | 'milliseconds';

/** Options of {@link startFakeZoho}. Every field is optional. */
export interface FakeZohoOptions {
  /**
   * TCP port; 0 picks a free one.
   * @defaultValue `0`
   */
  port?: number;
  /**
   * Interface to listen on.
   * @defaultValue `'127.0.0.1'`
   */
  host?: string;
  /**
   * API calls allowed in flight at once; one more is answered 429 TOO_MANY_REQUESTS at once.
   * @defaultValue no limit
   */
  concurrencyLimit?: number;
  /**
   * Delay before every API answer, spent while the call counts as in flight.
   * @defaultValue `0`
   */
  latencyMs?: Latency;
  /**
   * API credits for the fake's "day" (it never refills; `reset()` does). One per admitted API call;
   * when none are left every call is answered 429 TOO_MANY_REQUESTS.
   * @defaultValue unlimited
   */
  dailyCredits?: number;
  /**
   * Lifetime of minted access tokens, in seconds.
   * @defaultValue `3600`
   */
  tokenTtlSeconds?: number;
  /**
   * `'milliseconds'` imitates older accounts servers: `expires_in` in ms plus `expires_in_sec`.
   * @defaultValue `'seconds'`
   */
  expiresInStyle?: ExpiresInStyle;
  /**
   * Tokens one refresh token may mint per sliding window; beyond it the refresh is throttled.
   * @defaultValue `{ max: 10, windowMs: 600_000 }`
   */
  refreshLimit?: { max: number; windowMs: number };
  /**
   * Live access tokens per refresh token; minting one more silently kills the oldest.
   * @defaultValue `15`
   */
  maxLiveTokens?: number;
  /**
   * The OAuth clients the accounts server accepts.
   * @defaultValue `[FAKE_CREDENTIALS]`
   */
  clients?: FakeClient[];
  /**
   * Keep uploaded bytes (in a temp dir removed on `close()`) so downloads work. Off, uploads are
   * only counted and hashed.
   * @defaultValue `true`
   */
  storeContent?: boolean;
  /**
   * Largest file one upload may carry, in bytes (contract §1: 100 MB).
   * @defaultValue `104_857_600`
   */
  maxUploadBytes?: number;
  /**
   * What a list page or a COQL query without rows looks like: `'204'` (no body) or `'empty200'` (`data: []`).
   * @defaultValue `'204'`
   */
  emptyListStyle?: EmptyListStyle;
  /**
   * How long a new attachment stays out of the list API: Zoho's list can lag behind its own
   * store. Download and delete find it at once. Settable while running (`setListLag`).
   * @defaultValue `0`
   */
  listLagMs?: number;
  /**
   * Module API names to accept besides the standard ones and the custom-module patterns.
   * @defaultValue `[]`
   */
  customModules?: string[];
  /**
   * The time source (epoch ms) for token expiry, the refresh window and `Created_Time`.
   * Latency uses real timers.
   * @defaultValue `Date.now`
   */
  clock?: () => number;
  /**
   * Told about every unexpected failure inside the fake (which answers 500 INTERNAL_ERROR for it).
   * The fake prints nothing itself.
   * @defaultValue none
   */
  onInternalError?: (error: unknown) => void;
}

/** {@link FakeZohoOptions} with every default filled in. */
export interface ResolvedOptions {
  port: number;
  host: string;
  concurrencyLimit: number;
  latencyMs: Latency;
  dailyCredits: number;
  tokenTtlSeconds: number;
  expiresInStyle: ExpiresInStyle;
  refreshLimit: { max: number; windowMs: number };
  maxLiveTokens: number;
  clients: Required<FakeClient>[];
  storeContent: boolean;
  maxUploadBytes: number;
  emptyListStyle: EmptyListStyle;
  listLagMs: number;
  customModules: string[];
  clock: () => number;
  onInternalError: (error: unknown) => void;
}

/** Fills in the defaults. */
export function resolveOptions(options: FakeZohoOptions): ResolvedOptions {
  const defaults: ResolvedOptions = {
    port: 0,
    host: '127.0.0.1',
    concurrencyLimit: Infinity,
    latencyMs: 0,
    dailyCredits: Infinity,
    tokenTtlSeconds: 3600,
    expiresInStyle: 'seconds',
    refreshLimit: { max: 10, windowMs: 600_000 },
    maxLiveTokens: 15,
    clients: [{ ...FAKE_CREDENTIALS, scopes: [...FAKE_CREDENTIALS.scopes] }],
    storeContent: true,
    maxUploadBytes: 104_857_600,
    emptyListStyle: '204',
    listLagMs: 0,
    customModules: [],
    clock: Date.now,
    onInternalError: () => {},
  };
  const defined = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const resolved: ResolvedOptions = { ...defaults, ...defined };
  resolved.clients = resolved.clients.map((client) => ({
    ...client,
    scopes: client.scopes ?? [...FAKE_CREDENTIALS.scopes],
  }));
  return resolved;
}
