/**
 * One OAuth access token for every worker process on every machine, kept in Redis.
 *
 * Zoho allows 10 refreshes per refresh token per 10 minutes and 15 live access tokens; a
 * token per process (or per job) would hit both. So the token lives in Redis, and a refresh
 * happens under a Redis lock: whoever takes the lock refreshes, everyone else polls Redis
 * until the new token appears. A holder that crashes loses the lock when its TTL runs out.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Dispatcher } from 'undici';
import type { ZohoConfig } from '../config/config.js';
import { ZohoError, noCredentials, tokenWaitTimeout, type ErrorClassification } from './errors.js';
import { refreshAccessToken } from './oauth.js';
import type { AccessToken, TokenProvider } from './token-provider.js';

/** Options of {@link SharedTokenStore}. */
export interface SharedTokenStoreOptions {
  /** Accounts URL, client id/secret and refresh token (all three required). */
  config: ZohoConfig;
  /** A connection of the caller's; the store never closes it. */
  redis: Redis;
  /** Where the token, the refresh lock and a held failure live: the same for every process of one deployment (see shared/key-names.ts). */
  keys: TokenStoreKeys;
  /**
   * Refresh this long before the token expires, so no call goes out with a token about to
   * die. Capped at half the token's lifetime, so a short-lived token is not refreshed on every call.
   * @defaultValue 60_000
   */
  refreshSkewMs?: number;
  /**
   * Give up on the accounts server after this long.
   * @defaultValue `min(config.requestTimeoutMs, 30_000)`
   */
  refreshTimeoutMs?: number;
  /**
   * How long the refresh lock lives: longer than a refresh can take (so no second refresh
   * starts while the first is running), short enough that a crashed holder is not waited on long.
   * @defaultValue `refreshTimeoutMs + 5_000`
   */
  lockTtlMs?: number;
  /**
   * How often a process waiting for someone else's refresh looks for the new token.
   * @defaultValue 50
   */
  pollIntervalMs?: number;
  /**
   * Longest wait for a fresh token before giving up with TOKEN_WAIT_TIMEOUT (transient).
   * @defaultValue `2 × lockTtlMs` (covers one crashed holder and one full refresh)
   */
  waitTimeoutMs?: number;
  /**
   * A failed refresh is remembered in Redis this long, and every process raises it instead of
   * asking the accounts server again: N processes with a revoked refresh token make one
   * failed refresh, not N, and a throttled one does not prolong its own throttle.
   * @defaultValue 5_000
   */
  failureHoldMs?: number;
  /** @defaultValue undici's global dispatcher */
  dispatcher?: Dispatcher;
  /** The clock; tests may move it. @defaultValue `Date.now` */
  now?: () => number;
}

/** The Redis keys of one shared token (`keyNames(queue).oauth` in the tool). */
export interface TokenStoreKeys {
  token: string;
  lock: string;
  /** A held refresh failure (see {@link SharedTokenStoreOptions.failureHoldMs}); deleting it lets the next call ask Zoho again. */
  refreshFailure: string;
}

/** What {@link SharedTokenStore} emits, for metrics (libraries emit, the application logs). */
export interface SharedTokenStoreEvents {
  /** This process refreshed the shared token. */
  refresh: [info: { expiresAt: number; apiDomain: string | undefined; durationMs: number }];
  /** This process's refresh failed (also remembered in Redis for `failureHoldMs`). */
  refreshFailed: [error: ZohoError];
  /** `invalidate()` ran; `deleted` is false when the failed token had already been replaced. */
  invalidate: [info: { deleted: boolean }];
}

/** The JSON kept at `${prefix}:token`. */
interface StoredToken {
  accessToken: string;
  apiDomain?: string;
  expiresAt: number;
  /** When to refresh: `expiresAt` minus the skew. */
  refreshAt: number;
  /** Which credentials minted it (see {@link credentialsFingerprint}). */
  credentials: string;
}

/** The JSON kept at `${prefix}:refresh-error`. */
interface StoredFailure {
  /** Which credentials failed: another set (a fixed secret, another org) must ask Zoho itself. */
  credentials: string;
  code: string;
  classification: ErrorClassification;
  message: string;
  httpStatus?: number;
  zohoCode?: string;
}

/** Deletes the lock only if this process still owns it (its TTL may have run out and another taken it). */
const RELEASE_LOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/** Deletes the token only if it is still the one that failed: a stale 401 must not throw away a fresh token. */
const DELETE_IF_TOKEN = `
local raw = redis.call('GET', KEYS[1])
if not raw then return 0 end
local ok, entry = pcall(cjson.decode, raw)
if ok and type(entry) == 'table' and entry.accessToken == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/**
 * How long a process hands out the token it last read from Redis without reading it again.
 * Short, so a token another process replaced is picked up soon; a call made with the old one
 * meanwhile is answered 401 and retried with the new one (see {@link SharedTokenStore.invalidate}).
 */
const LOCAL_REUSE_MS = 1_000;

/**
 * The Redis-shared, single-flight token. `getToken()` costs at most one Redis GET a second
 * while the token is fresh; when it is not, exactly one process in the deployment refreshes it.
 */
export class SharedTokenStore extends EventEmitter<SharedTokenStoreEvents> implements TokenProvider {
  /** Where the token lives. */
  readonly tokenKey: string;
  /** The refresh lock. */
  readonly lockKey: string;
  /** The last refresh failure, while it is held. */
  readonly failureKey: string;
  private readonly redis: Redis;
  // A true private field: neither util.inspect nor JSON.stringify of the store can show the secrets.
  readonly #credentials: { accountsUrl: string; clientId: string; clientSecret: string; refreshToken: string };
  private readonly fingerprint: string;
  private readonly refreshSkewMs: number;
  private readonly refreshTimeoutMs: number;
  private readonly lockTtlMs: number;
  private readonly pollIntervalMs: number;
  private readonly waitTimeoutMs: number;
  private readonly failureHoldMs: number;
  private readonly dispatcher: Dispatcher | undefined;
  private readonly now: () => number;
  /** Callers in this process that need a new token share one trip through the lock. */
  private pending: Promise<AccessToken> | undefined;
  /** The token this process last read from Redis, until when it is handed out without another read. */
  private local: { token: AccessToken; refreshAt: number; reuseUntil: number } | undefined;

  /** @throws {ZohoError} NO_CREDENTIALS when client id, client secret or refresh token is missing */
  constructor(options: SharedTokenStoreOptions) {
    super();
    const { config } = options;
    if (!config.clientId || !config.clientSecret || !config.refreshToken) throw noCredentials();
    this.#credentials = {
      accountsUrl: config.accountsUrl,
      clientId: config.clientId,
      clientSecret: config.clientSecret,
      refreshToken: config.refreshToken,
    };
    this.redis = options.redis;
    this.tokenKey = options.keys.token;
    this.lockKey = options.keys.lock;
    this.failureKey = options.keys.refreshFailure;
    this.fingerprint = credentialsFingerprint(this.#credentials);
    this.refreshSkewMs = options.refreshSkewMs ?? 60_000;
    this.refreshTimeoutMs = options.refreshTimeoutMs ?? Math.min(config.requestTimeoutMs, 30_000);
    this.lockTtlMs = options.lockTtlMs ?? this.refreshTimeoutMs + 5_000;
    this.pollIntervalMs = options.pollIntervalMs ?? 50;
    this.waitTimeoutMs = options.waitTimeoutMs ?? 2 * this.lockTtlMs;
    this.failureHoldMs = options.failureHoldMs ?? 5_000;
    this.dispatcher = options.dispatcher;
    this.now = options.now ?? Date.now;
  }

  /** {@inheritDoc TokenProvider.getToken} */
  async getToken(): Promise<AccessToken> {
    const now = this.now();
    if (this.local && now < this.local.reuseUntil && now < this.local.refreshAt) return this.local.token;
    const fresh = await this.readFresh();
    if (fresh) return fresh;
    this.pending ??= this.obtain().finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** {@inheritDoc TokenProvider.invalidate} */
  async invalidate(failedToken: string): Promise<void> {
    if (this.local?.token.accessToken === failedToken) this.local = undefined;
    const deleted = (await this.redis.eval(DELETE_IF_TOKEN, 1, this.tokenKey, failedToken)) === 1;
    this.emit('invalidate', { deleted });
  }

  /**
   * Refreshes now, whatever Redis holds, and shares the new token: `doctor` uses it to test the
   * credentials it is given rather than trust a token (or a failure) some earlier run left.
   * Costs one of Zoho's 10 refreshes per 10 minutes; the token it mints is the one workers use next.
   * @throws {ZohoError} what the refresh throws, or TOKEN_WAIT_TIMEOUT when the lock stays taken
   */
  async refreshNow(): Promise<AccessToken> {
    const deadline = this.now() + this.waitTimeoutMs;
    for (;;) {
      const token = await this.underLock(() => this.refresh());
      if (token) return token;
      if (this.now() >= deadline) throw tokenWaitTimeout(this.waitTimeoutMs);
      await this.pause();
    }
  }

  /** Waits for a fresh token in Redis, refreshing it when this process gets the lock first. */
  private async obtain(): Promise<AccessToken> {
    const deadline = this.now() + this.waitTimeoutMs;
    for (;;) {
      const fresh = await this.readFresh();
      if (fresh) return fresh;
      const failure = await this.readFailure();
      if (failure) throw failure;
      // The previous holder may have stored a token between our read and our lock.
      const token = await this.underLock(async () => (await this.readFresh()) ?? (await this.refresh()));
      if (token) return token;
      if (this.now() >= deadline) throw tokenWaitTimeout(this.waitTimeoutMs);
      await this.pause();
    }
  }

  /** Runs `work` holding the refresh lock; `undefined` when another process holds it. */
  private async underLock(work: () => Promise<AccessToken>): Promise<AccessToken | undefined> {
    const owner = randomUUID();
    if ((await this.redis.set(this.lockKey, owner, 'PX', this.lockTtlMs, 'NX')) !== 'OK') return undefined;
    try {
      return await work();
    } finally {
      await this.redis.eval(RELEASE_LOCK, 1, this.lockKey, owner);
    }
  }

  /** Between two looks at the lock. Jitter keeps many waiting processes from polling Redis in lockstep. */
  private async pause(): Promise<void> {
    await sleep(this.pollIntervalMs * (0.5 + Math.random()));
  }

  /** Asks the accounts server for a token and shares it (or the failure) through Redis. Runs under the lock. */
  private async refresh(): Promise<AccessToken> {
    const started = this.now();
    let token: AccessToken;
    try {
      token = await refreshAccessToken({
        ...this.#credentials,
        timeoutMs: this.refreshTimeoutMs,
        dispatcher: this.dispatcher,
        now: this.now,
      });
    } catch (error) {
      if (!(error instanceof ZohoError)) throw error;
      const failure: StoredFailure = {
        credentials: this.fingerprint,
        code: error.code,
        classification: error.classification,
        message: error.reason,
        httpStatus: error.httpStatus,
        zohoCode: error.zohoCode,
      };
      await this.redis.set(this.failureKey, JSON.stringify(failure), 'PX', this.failureHoldMs);
      this.emit('refreshFailed', error);
      throw error;
    }

    const now = this.now();
    const lifetime = token.expiresAt - now;
    const entry: StoredToken = {
      ...token,
      refreshAt: token.expiresAt - Math.min(this.refreshSkewMs, lifetime / 2),
      credentials: this.fingerprint,
    };
    // The key expires with the token, so Redis never holds a dead one for long.
    await this.redis.set(this.tokenKey, JSON.stringify(entry), 'PX', Math.max(1, Math.ceil(lifetime)));
    await this.redis.del(this.failureKey);
    this.emit('refresh', { expiresAt: token.expiresAt, apiDomain: token.apiDomain, durationMs: now - started });
    return token;
  }

  /** The shared token, when it was minted with these credentials and is not due for refresh. */
  private async readFresh(): Promise<AccessToken | undefined> {
    const raw = await this.redis.get(this.tokenKey);
    if (raw === null) return undefined;
    let entry: StoredToken;
    try {
      entry = JSON.parse(raw) as StoredToken;
    } catch {
      return undefined;
    }
    // A token minted with other credentials (a switched org or data centre) must not be used: refresh over it.
    if (entry.credentials !== this.fingerprint || typeof entry.accessToken !== 'string') return undefined;
    const now = this.now();
    if (now >= entry.refreshAt) return undefined;
    const token = { accessToken: entry.accessToken, apiDomain: entry.apiDomain, expiresAt: entry.expiresAt };
    this.local = { token, refreshAt: entry.refreshAt, reuseUntil: now + LOCAL_REUSE_MS };
    return token;
  }

  /** A refresh failure another process (or this one) recently met, as a fresh error. */
  private async readFailure(): Promise<ZohoError | undefined> {
    const raw = await this.redis.get(this.failureKey);
    if (raw === null) return undefined;
    try {
      const { credentials, ...failure } = JSON.parse(raw) as StoredFailure;
      if (credentials !== this.fingerprint) return undefined;
      return new ZohoError({ ...failure, message: `${failure.message} (a recent refresh failed; not retried yet)` });
    } catch {
      return undefined;
    }
  }
}

/**
 * Identifies the credentials a stored token (or failure) belongs to, without storing them: a
 * hash of all four, cut to 16 hex digits. The secret is in it: a token minted with the right
 * secret must not vouch for a wrong one.
 */
function credentialsFingerprint(config: {
  accountsUrl: string;
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}): string {
  const { accountsUrl, clientId, clientSecret, refreshToken } = config;
  return createHash('sha256')
    .update([accountsUrl, clientId, clientSecret, refreshToken].join('\n'))
    .digest('hex')
    .slice(0, 16);
}
