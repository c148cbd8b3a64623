/**
 * How hard to slow down when Zoho pushes back. Every worker shares the answer through
 * Redis: the queue-wide pause is applied with `queue.rateLimit(ms)` by the caller.
 */
import type { Redis } from 'ioredis';
import type { KeyNames } from '../shared/key-names.js';

/** Tuning for {@link RateControl}. */
export interface RateControlOptions {
  /** Pause after the first 429 in a row; doubles with each further one. @defaultValue 1000 */
  firstPauseMs?: number;
  /** The longest pause for a run of 429s. @defaultValue 60000 */
  maxPauseMs?: number;
  /**
   * Below this many `X-API-CREDITS-REMAINING`, uploads are spaced out so the org keeps
   * credits for its other integrations. @defaultValue 1000
   */
  creditsReserve?: number;
  /** The spacing at zero credits left; it grows linearly as credits fall below the reserve. @defaultValue 60000 */
  lowCreditsMaxPauseMs?: number;
  /** Pause when a 429 comes with credits at or near zero: the daily window will not free up soon. @defaultValue 900000 */
  creditsExhaustedPauseMs?: number;
}

const DEFAULTS: Required<RateControlOptions> = {
  firstPauseMs: 1_000,
  maxPauseMs: 60_000,
  creditsReserve: 1_000,
  lowCreditsMaxPauseMs: 60_000,
  creditsExhaustedPauseMs: 900_000,
};

/** Credits at or below which a 429 is read as "the day's credits are gone", not "too many in flight". */
const EXHAUSTED_CREDITS = 10;

/** Shared state for slowing down on 429s and low credits. */
export class RateControl {
  private readonly options: Required<RateControlOptions>;

  constructor(
    private readonly redis: Redis,
    private readonly keys: KeyNames,
    options: RateControlOptions = {},
    private readonly now: () => number = Date.now,
  ) {
    this.options = { ...DEFAULTS, ...options };
  }

  /**
   * Records a 429 and returns how long every worker should pause. The pause doubles while
   * 429s keep coming (the streak is shared by all workers and forgotten after a quiet spell).
   */
  async onRateLimited(creditsRemaining: number | undefined): Promise<number> {
    await this.recordCredits(creditsRemaining);
    if (creditsRemaining !== undefined && creditsRemaining <= EXHAUSTED_CREDITS) return this.options.creditsExhaustedPauseMs;
    const [[, streak]] = (await this.redis
      .multi()
      .incr(this.keys.rateLimitStreak)
      .pexpire(this.keys.rateLimitStreak, this.options.maxPauseMs * 2)
      .exec()) as [[null, number], unknown];
    return Math.min(this.options.firstPauseMs * 2 ** Math.min(streak - 1, 30), this.options.maxPauseMs);
  }

  /** Records a success; returns a pause (ms) when credits run low, else 0. */
  async onSuccess(creditsRemaining: number | undefined): Promise<number> {
    // A success ends a 429 streak; most of the time there is none, and DEL of a missing key is cheap.
    await this.redis.del(this.keys.rateLimitStreak);
    await this.recordCredits(creditsRemaining);
    return this.lowCreditsPause(creditsRemaining);
  }

  /** The spacing for a given number of credits left (0 when above the reserve or unknown). */
  lowCreditsPause(creditsRemaining: number | undefined): number {
    const { creditsReserve, lowCreditsMaxPauseMs } = this.options;
    if (creditsRemaining === undefined || creditsRemaining >= creditsReserve) return 0;
    return Math.ceil((lowCreditsMaxPauseMs * (creditsReserve - Math.max(creditsRemaining, 0))) / creditsReserve);
  }

  /** The last credits figure Zoho sent, and when (for status and the dashboard). */
  async lastCredits(): Promise<{ remaining: number; at: number } | undefined> {
    const raw = await this.redis.hgetall(this.keys.credits);
    if (raw.remaining === undefined) return undefined;
    return { remaining: Number(raw.remaining), at: Number(raw.at) };
  }

  private async recordCredits(creditsRemaining: number | undefined): Promise<void> {
    if (creditsRemaining === undefined) return;
    await this.redis.hset(this.keys.credits, 'remaining', creditsRemaining, 'at', this.now());
  }
}
