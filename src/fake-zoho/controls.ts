/**
 * What a test can do to a running fake. The same operations back the programmatic API
 * (`fake.faults.add(…)`) and the HTTP control API under `/__fake/`.
 */
import { validateFaultRule, type FaultRule } from './faults.js';
import type { FakeZohoSnapshot, FakeZohoState } from './state.js';

/** Options of {@link FakeZohoControls.issueAccessToken}. */
export interface IssueTokenOptions {
  /** @defaultValue `['ZohoCRM.modules.ALL']` */
  scopes?: string[];
  /** @defaultValue the fake's `tokenTtlSeconds` */
  ttlSeconds?: number;
}

/** Scripting and inspection of a running fake. */
export interface FakeZohoControls {
  readonly faults: {
    /** Adds a rule (validated; throws `InvalidFaultRuleError`) and returns its id. */
    add(rule: FaultRule): string;
    /** Removes one rule; false when it was not there (any more). */
    remove(id: string): boolean;
    /** Removes every rule. */
    clear(): void;
  };
  /** Every access token minted so far answers 401 INVALID_TOKEN from now on. */
  expireAllTokens(): void;
  /** Refreshes with this refresh token answer `{"error":"invalid_code"}` until restored. */
  revokeRefreshToken(refreshToken: string): void;
  /** Undoes {@link revokeRefreshToken}. */
  restoreRefreshToken(refreshToken: string): void;
  /** Mints an access token directly (no refresh token, throttle or live-token cap). */
  issueAccessToken(options?: IssueTokenOptions): string;
  /** A copy of the fake's state. */
  inspect(): FakeZohoSnapshot;
  /** How long new attachments stay out of the list API from now on (Zoho's listing lag). */
  setListLag(ms: number): void;
  /**
   * Clears attachments (and their bytes), counters, credits, faults, the refresh window and
   * revocations. Clients and live access tokens stay.
   */
  reset(): Promise<void>;
}

const DEFAULT_TOKEN_SCOPES = ['ZohoCRM.modules.ALL'];

/** The controls of one fake's state. */
export function createControls(state: FakeZohoState): FakeZohoControls {
  return {
    faults: {
      add: (rule) => state.faults.add(validateFaultRule(rule)),
      remove: (id) => state.faults.remove(id),
      clear: () => state.faults.clear(),
    },
    expireAllTokens: () => state.tokens.expireAll(),
    revokeRefreshToken: (refreshToken) => state.tokens.revoke(refreshToken),
    restoreRefreshToken: (refreshToken) => state.tokens.restore(refreshToken),
    issueAccessToken: (options = {}) =>
      state.tokens.issue(options.scopes ?? DEFAULT_TOKEN_SCOPES, options.ttlSeconds ?? state.options.tokenTtlSeconds),
    inspect: () => state.snapshot(),
    setListLag: (ms) => {
      if (!Number.isInteger(ms) || ms < 0)
        throw new RangeError('the listing lag must be a whole number of milliseconds, at least 0');
      state.listLagMs = ms;
    },
    reset: () => state.reset(),
  };
}
