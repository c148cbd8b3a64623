/**
 * What a chaos run does, and its two sizes: the full run (`npm run chaos`) and the short
 * one that `npm test` runs (test/integration/chaos.test.ts).
 */

/** Probabilities (0..1) of the fake's scripted faults, per call. */
export interface FaultRates {
  /** Upload answered 500 without storing. */
  error500: number;
  /** Upload stored, then answered 500. */
  storeThen500: number;
  /** Upload stored, then the connection destroyed. */
  resetAfterStore: number;
  /** Connection destroyed before handling (nothing stored). */
  reset: number;
  /** No answer at all: the client gives up after `requestTimeoutMs`. */
  hang: number;
  /** A list call (the adoption check) answered 500. */
  listError500: number;
  /** Upload read whole but never answered (the client times out), and stored `lateStoreMs` later. */
  lateStore: number;
}

/**
 * Records Zoho refuses until the operator fixes them at `atProgress`: then the run removes the
 * refusal and either runs `dlq retry` (`retry`) or `dlq purge` and enqueues the manifest again
 * (`purge`). The first upload of each of their rows is stored before it is refused (and the
 * listing lag hides it from the retry's listing), so they die "may already be stored", and the
 * revival must adopt that copy, not post another.
 */
export interface FixedRefusal {
  records: number;
  rowsPerRecord: number;
  atProgress: number;
}

/** A Redis restart during the run. */
export interface RedisRestartPlan {
  /** Share of rows finished (0..1) when it happens. */
  atProgress: number;
  /** `SIGTERM` (a clean stop) or `SIGKILL` (a crash). */
  signal: 'SIGTERM' | 'SIGKILL';
  /** How long Redis stays down. */
  downMs: number;
}

/** Options of a chaos run. */
export interface ChaosOptions {
  /** A label for the run (`full`, `short`). */
  label: string;
  /** Rows Zoho accepts: local files and links. */
  rows: number;
  /** Share of those rows that are links; the rest are local files. */
  linkShare: number;
  /** Attachments per record. */
  rowsPerRecord: number;
  /** Rows in a module Zoho does not know (`Widgets`): dead letters `INVALID_MODULE`. */
  invalidModuleRows: number;
  /** Records whose uploads Zoho refuses with 403 (dead letters `NO_PERMISSION`), and rows on each. */
  noPermissionRecords: number;
  rowsPerNoPermissionRecord: number;
  /** Zoho's concurrency limit (enforced by the fake) and `ZOHO_CONCURRENCY`. */
  concurrencyLimit: number;
  /** `zoho-attach worker` processes. */
  workers: number;
  /** The fake's latency, drawn per answer. */
  latencyMs: { min: number; max: number };
  /** `ZOHO_REQUEST_TIMEOUT_MS`: hangs are given up on after this. */
  requestTimeoutMs: number;
  /** `ZOHO_ATTACH_LOCK_DURATION_MS`: a killed worker's jobs come back after about this. */
  lockDurationMs: number;
  /** `ZOHO_ATTACH_BACKOFF_MS`. */
  backoffMs: number;
  /** `ZOHO_ATTACH_RATE_LIMIT_PAUSE_MS`: the first pause after a 429 (it doubles per round). */
  rateLimitPauseMs: number;
  faultRates: FaultRates;
  /** A burst of 429s every `everyMs` (random in the range): up to `size` calls refused within `lastsMs`. */
  burst429: { everyMs: [number, number]; size: number; lastsMs: number };
  /** Every access token is expired this often (the fake's `expireAllTokens`). */
  tokenExpiryEveryMs: number;
  /**
   * The fake's refresh throttle. Zoho allows 10 per 10 minutes; the run compresses time
   * (tokens die every few seconds instead of every hour), so the window is compressed too.
   */
  refreshLimit: { max: number; windowMs: number };
  /** One worker is SIGKILLed (and restarted) every so often (random in the range). */
  workerKillEveryMs: [number, number];
  /** The run's Redis connections are killed every so often (random in the range). */
  connectionKillEveryMs: [number, number];
  redisRestarts: RedisRestartPlan[];
  /** The refresh token is revoked at this share of rows finished, and restored `holdMs` after the queue paused. */
  revoke: { atProgress: number; holdMs: number };
  /** How long a `lateStore` upload is stored after its request. */
  lateStoreMs: number;
  /** The fake's listing lag: a new attachment is listed this much later than it is stored. */
  listLagMs: number;
  /** `ZOHO_ATTACH_SETTLE_MS` of the workers. */
  settleMs: number;
  /** Records refused with 403 until fixed, then `dlq retry`. */
  fixedByRetry: FixedRefusal;
  /** Records refused with 400 AUTHORIZATION_FAILED until fixed, then `dlq purge` and enqueue again. */
  fixedByPurge: FixedRefusal;
  /** One more worker connects through a proxy that is cut (nothing passes) at this share of rows, for this long. */
  cutOff: { atProgress: number; forMs: number };
  /** The run gives up (and fails) after this long. */
  deadlineMs: number;
}

/** `npm run chaos`: thousands of rows, a few minutes. */
export const FULL_CHAOS: ChaosOptions = {
  label: 'full',
  rows: 3000,
  linkShare: 0.3,
  rowsPerRecord: 3,
  invalidModuleRows: 30,
  noPermissionRecords: 8,
  rowsPerNoPermissionRecord: 3,
  concurrencyLimit: 8,
  workers: 3,
  latencyMs: { min: 10, max: 250 },
  requestTimeoutMs: 1000,
  lockDurationMs: 4000,
  backoffMs: 200,
  rateLimitPauseMs: 1000,
  faultRates: {
    error500: 0.03,
    storeThen500: 0.015,
    resetAfterStore: 0.01,
    reset: 0.01,
    hang: 0.005,
    listError500: 0.03,
    lateStore: 0.01,
  },
  burst429: { everyMs: [4000, 9000], size: 8, lastsMs: 1000 },
  tokenExpiryEveryMs: 5000,
  refreshLimit: { max: 10, windowMs: 60_000 },
  workerKillEveryMs: [6000, 15000],
  connectionKillEveryMs: [4000, 10000],
  redisRestarts: [
    { atProgress: 0.25, signal: 'SIGTERM', downMs: 1500 },
    // A crash and an outage longer than the lock: every in-flight job's lock lapses, so jobs are
    // recovered as stalled while their first run may still be at work.
    { atProgress: 0.7, signal: 'SIGKILL', downMs: 5000 },
  ],
  revoke: { atProgress: 0.45, holdMs: 2000 },
  lateStoreMs: 1_500,
  listLagMs: 1_200,
  settleMs: 3_000,
  fixedByRetry: { records: 6, rowsPerRecord: 3, atProgress: 0.6 },
  fixedByPurge: { records: 6, rowsPerRecord: 3, atProgress: 0.8 },
  cutOff: { atProgress: 0.35, forMs: 10_000 },
  // Adaptive concurrency halves the limit on each injected burst of 429s and climbs back by
  // windows: the run takes longer than with a fixed limit (and settle-and-verify adds its wait).
  deadlineMs: 420_000,
};

/** `npm test`: the same chaos, a few hundred rows, well under a minute. */
export const SHORT_CHAOS: ChaosOptions = {
  label: 'short',
  rows: 200,
  linkShare: 0.3,
  rowsPerRecord: 3,
  invalidModuleRows: 6,
  noPermissionRecords: 2,
  rowsPerNoPermissionRecord: 2,
  concurrencyLimit: 5,
  workers: 3,
  latencyMs: { min: 5, max: 60 },
  requestTimeoutMs: 1000,
  lockDurationMs: 2000,
  backoffMs: 100,
  // Time runs faster here: the first 429 pause is a quarter of the default.
  rateLimitPauseMs: 250,
  faultRates: {
    error500: 0.04,
    storeThen500: 0.02,
    resetAfterStore: 0.015,
    reset: 0.015,
    hang: 0.01,
    listError500: 0.03,
    lateStore: 0.03,
  },
  burst429: { everyMs: [4000, 7000], size: 4, lastsMs: 1000 },
  tokenExpiryEveryMs: 4000,
  // Compressed harder than the full run's: the short run's verdict must not depend on how long
  // a busy machine makes it last. Single flight (one refresh per expiry) never reaches it.
  refreshLimit: { max: 10, windowMs: 20_000 },
  workerKillEveryMs: [5000, 9000],
  connectionKillEveryMs: [3000, 6000],
  redisRestarts: [{ atProgress: 0.2, signal: 'SIGTERM', downMs: 500 }],
  revoke: { atProgress: 0.5, holdMs: 1000 },
  lateStoreMs: 1_500,
  listLagMs: 1_200,
  settleMs: 2_500,
  fixedByRetry: { records: 2, rowsPerRecord: 2, atProgress: 0.6 },
  fixedByPurge: { records: 2, rowsPerRecord: 2, atProgress: 0.75 },
  cutOff: { atProgress: 0.3, forMs: 5_000 },
  deadlineMs: 55_000,
};
