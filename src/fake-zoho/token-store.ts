/**
 * The accounts server's memory: which refresh tokens exist or are revoked, which access
 * tokens are live, and Zoho's two token limits (contract §4): a refresh throttle per
 * refresh token and a cap on live access tokens per refresh token.
 */
import { randomBytes } from 'node:crypto';
import type { ResolvedOptions } from './options.js';

/** How minted access tokens look: `1000.<32 hex>.<32 hex>`, like Zoho's. */
export const ACCESS_TOKEN_PATTERN = /^1000\.[0-9a-f]+(?:\.[0-9a-f]+)?$/;

/** A live access token. */
export interface AccessTokenInfo {
  scopes: readonly string[];
  expiresAt: number;
  /** The refresh token that minted it; undefined for tokens issued directly. */
  refreshToken: string | undefined;
}

/** Why a refresh was refused (the first two are Zoho's `error` values). */
export type RefreshRefusal = 'invalid_client' | 'invalid_code' | 'throttled';

/** The result of a refresh. */
export type RefreshResult =
  { ok: true; accessToken: string; ttlSeconds: number } | { ok: false; refusal: RefreshRefusal };

/** What a refresh request carries. */
export interface RefreshRequest {
  clientId: string | undefined;
  clientSecret: string | undefined;
  refreshToken: string | undefined;
}

/** Token statistics for the snapshot. */
export interface TokenStats {
  /** Tokens minted through the token endpoint. */
  refreshes: number;
  /** Refreshes answered with an error (invalid client or code, throttled). */
  refreshesRefused: number;
  /** Access tokens that would be accepted now. */
  live: number;
}

type TokenStoreOptions = Pick<
  ResolvedOptions,
  'clients' | 'tokenTtlSeconds' | 'maxLiveTokens' | 'refreshLimit' | 'clock'
>;

/** Refresh tokens, access tokens and their limits. */
export class TokenStore {
  /** Insertion order is minting order, so the first token of a refresh token is its oldest. */
  private readonly accessTokens = new Map<string, AccessTokenInfo>();
  private readonly revokedRefreshTokens = new Set<string>();
  /** Minting times per refresh token, for the sliding refresh window. */
  private readonly mintTimes = new Map<string, number[]>();
  private refreshes = 0;
  private refreshesRefused = 0;

  constructor(private readonly options: TokenStoreOptions) {}

  /** The token endpoint's decision: checks the client, then the refresh token, then the throttle. */
  refresh(request: RefreshRequest): RefreshResult {
    const client = this.options.clients.find((candidate) => candidate.clientId === request.clientId);
    if (!client || client.clientSecret !== request.clientSecret) return this.refuse('invalid_client');
    if (request.refreshToken !== client.refreshToken || this.revokedRefreshTokens.has(client.refreshToken)) {
      return this.refuse('invalid_code');
    }

    const now = this.options.clock();
    const { max, windowMs } = this.options.refreshLimit;
    const recentMints = (this.mintTimes.get(client.refreshToken) ?? []).filter((time) => time > now - windowMs);
    if (recentMints.length >= max) {
      this.mintTimes.set(client.refreshToken, recentMints);
      return this.refuse('throttled');
    }
    this.mintTimes.set(client.refreshToken, [...recentMints, now]);

    this.killOldestBeyondLimit(client.refreshToken);
    const ttlSeconds = this.options.tokenTtlSeconds;
    const accessToken = this.mint(client.scopes, ttlSeconds, client.refreshToken);
    this.refreshes += 1;
    return { ok: true, accessToken, ttlSeconds };
  }

  /** Mints a token without a refresh token: no throttle, no live-token cap. */
  issue(scopes: readonly string[], ttlSeconds: number): string {
    return this.mint(scopes, ttlSeconds, undefined);
  }

  /** The token's details when it is live; undefined when unknown, killed or expired. */
  find(accessToken: string): AccessTokenInfo | undefined {
    const info = this.accessTokens.get(accessToken);
    if (!info) return undefined;
    if (info.expiresAt <= this.options.clock()) {
      this.accessTokens.delete(accessToken);
      return undefined;
    }
    return info;
  }

  /** Every access token minted so far stops working. */
  expireAll(): void {
    this.accessTokens.clear();
  }

  /** Refreshes with this refresh token answer `invalid_code` until it is restored. */
  revoke(refreshToken: string): void {
    this.revokedRefreshTokens.add(refreshToken);
  }

  /** Undoes {@link revoke}. */
  restore(refreshToken: string): void {
    this.revokedRefreshTokens.delete(refreshToken);
  }

  /** Counters and the live token count. */
  stats(): TokenStats {
    const now = this.options.clock();
    let live = 0;
    for (const info of this.accessTokens.values()) if (info.expiresAt > now) live += 1;
    return { refreshes: this.refreshes, refreshesRefused: this.refreshesRefused, live };
  }

  /** Forgets counters, the refresh window and revocations; live access tokens stay live. */
  resetHistory(): void {
    this.refreshes = 0;
    this.refreshesRefused = 0;
    this.mintTimes.clear();
    this.revokedRefreshTokens.clear();
  }

  private refuse(refusal: RefreshRefusal): RefreshResult {
    this.refreshesRefused += 1;
    return { ok: false, refusal };
  }

  private mint(scopes: readonly string[], ttlSeconds: number, refreshToken: string | undefined): string {
    const accessToken = `1000.${randomBytes(16).toString('hex')}.${randomBytes(16).toString('hex')}`;
    const expiresAt = this.options.clock() + ttlSeconds * 1000;
    this.accessTokens.set(accessToken, { scopes: [...scopes], expiresAt, refreshToken });
    return accessToken;
  }

  /** Makes room for one more token of `refreshToken`: Zoho silently kills the oldest. */
  private killOldestBeyondLimit(refreshToken: string): void {
    const own = [...this.accessTokens.entries()].filter(
      ([accessToken, info]) => info.refreshToken === refreshToken && this.find(accessToken) !== undefined,
    );
    const excess = own.length - (this.options.maxLiveTokens - 1);
    for (const [accessToken] of own.slice(0, Math.max(0, excess))) this.accessTokens.delete(accessToken);
  }
}
